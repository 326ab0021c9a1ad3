"""Who may remove an idea's files: whoever may edit the idea."""

from app.accounts.models import User
from app.ideas import permissions as idea_permissions
from app.ideas.models import Idea
from app.workspaces.models import Membership, Workspace


def can_remove(
    user: User | None, workspace: Workspace, idea: Idea, membership: Membership | None = None
) -> bool:
    """The idea's author, while the workspace is open and they are not banned from it."""
    return idea_permissions.can_edit(user, workspace, idea, membership)

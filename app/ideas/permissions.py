"""Who may post, edit, support and move ideas: built on the workspace's own predicates."""

from app.accounts.models import User
from app.ideas.models import Idea
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import Membership, Workspace


def can_post(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_support(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_edit(user: User | None, workspace: Workspace, idea: Idea) -> bool:
    """The author edits their own idea while the workspace is open."""
    return user is not None and idea.author_id == user.id and not workspace.is_archived


def can_change_status(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return not workspace.is_archived and workspace_permissions.can_moderate(user, workspace, membership)

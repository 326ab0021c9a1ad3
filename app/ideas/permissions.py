"""Who may post, edit, support and move ideas: built on the workspace's own predicates."""

from app.accounts.models import User
from app.ideas.models import Idea
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import Membership, Workspace


def can_post(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_support(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_edit(
    user: User | None, workspace: Workspace, idea: Idea, membership: Membership | None = None
) -> bool:
    """The author edits their own idea while the workspace is open and they are not banned from it; a
    hidden idea too, before asking the moderators for a review."""
    return (
        user is not None
        and idea.author_id == user.id
        and not workspace.is_archived
        and not workspace_permissions.is_banned(membership)
    )


def can_see(user: User | None, workspace: Workspace, membership: Membership | None, idea: Idea) -> bool:
    """A hidden idea is seen by its author and the workspace's moderators only."""
    return idea.hidden_at is None or (
        user is not None
        and (idea.author_id == user.id or workspace_permissions.can_moderate(user, workspace, membership))
    )


def takes_comments(idea: Idea) -> bool:
    """A locked or hidden idea takes no new comments or replies."""
    return idea.locked_at is None and idea.hidden_at is None


def can_change_status(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return not workspace.is_archived and workspace_permissions.can_moderate(user, workspace, membership)

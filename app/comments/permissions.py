"""Who may comment on ideas and edit their comments: built on the workspace's own predicates."""

from datetime import datetime, timedelta

from app.accounts.models import User
from app.comments.models import Comment
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import Membership, Workspace

EDIT_WINDOW = timedelta(minutes=15)
MAX_DEPTH = 2


def can_comment(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_reply_to(comment: Comment) -> bool:
    """Threads go three levels deep (0, 1, 2); a hidden or removed comment takes no more replies."""
    return comment.depth < MAX_DEPTH and comment.hidden_at is None and not comment.is_removed


def can_edit_comment(
    user: User | None, comment: Comment, workspace: Workspace, membership: Membership | None, now: datetime
) -> bool:
    """The author corrects their comment for a short while, as long as the workspace is open and they
    are not banned from it; a hidden comment they may edit at any time, before asking the moderators
    for a review."""
    return (
        user is not None
        and comment.author_id == user.id
        and not workspace.is_archived
        and not workspace_permissions.is_banned(membership)
        and (comment.hidden_at is not None or now - comment.created_at <= EDIT_WINDOW)
    )

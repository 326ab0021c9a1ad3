"""Who may report content and who decides on it: built on the workspace's own predicates."""

import functools

from app.accounts.models import User
from app.comments.models import Comment
from app.ideas.models import Idea
from app.moderation.models import REASON_LABELS
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import Membership, Workspace


def can_report(
    user: User | None, workspace: Workspace, membership: Membership | None, comment: Comment
) -> bool:
    """Members who may take part (and staff) report what others wrote; a hidden comment needs no more,
    and a removed one holds nothing to report."""
    return (
        user is not None
        and comment.author_id != user.id
        and comment.hidden_at is None
        and not comment.is_removed
        and workspace_permissions.can_contribute(user, workspace, membership)
    )


def can_report_idea(
    user: User | None, workspace: Workspace, membership: Membership | None, idea: Idea
) -> bool:
    """Members who may take part report others' ideas that are still shown."""
    return (
        user is not None
        and idea.author_id != user.id
        and idea.hidden_at is None
        and workspace_permissions.can_contribute(user, workspace, membership)
    )


def can_report_member(
    user: User | None, workspace: Workspace, membership: Membership | None, reported: Membership
) -> bool:
    """Members who may take part report another member of the same workspace."""
    return (
        user is not None
        and reported.workspace_id == workspace.id
        and reported.user_id != user.id
        and (workspace_permissions.is_active_member(reported) or workspace_permissions.is_banned(reported))
        and workspace_permissions.can_contribute(user, workspace, membership)
    )


def can_moderate(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return workspace_permissions.can_moderate(user, workspace, membership)


def can_see_every_queue(user: User | None) -> bool:
    """Facilitators and admins see the queues of all workspaces, and the audit log."""
    return workspace_permissions.is_staff(user)


def has_inbox(user: User | None, moderated_ids: list[int] | None) -> bool:
    """The moderation inbox (/moderation) is for those who act on a queue: staff on every one
    (``moderated_ids`` None), a city moderator on the workspaces they moderate."""
    return user is not None and (can_see_every_queue(user) or bool(moderated_ids))


def template_helpers(context) -> dict:
    """For the comment templates: whether the reader moderates here, and a test of whether they may
    report a given comment."""
    return {
        "moderating": can_moderate(context.user, context.workspace, context.membership),
        "may_report": functools.partial(can_report, context.user, context.workspace, context.membership),
        "report_reasons": REASON_LABELS,
    }

"""Telling users what happened: create, count, list and mark notifications read."""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.db import utcnow
from app.i18n import N_
from app.ideas.models import Idea
from app.notifications.models import Notification
from app.workspaces.models import Workspace

PAGE_SIZE = 30

# kind -> message shown to the recipient; %(actor)s and %(workspace)s are filled in when shown.
MESSAGES = {
    "membership_requested": N_("%(actor)s asks to join %(workspace)s."),
    "membership_approved": N_("You are now a member of %(workspace)s."),
    "membership_declined": N_("Your request to join %(workspace)s was declined."),
    "moderator_appointed": N_("You are now a moderator of %(workspace)s."),
    "idea_status": N_("%(actor)s changed the status of your idea “%(idea)s”."),
    "idea_comment": N_("%(actor)s commented on your idea “%(idea)s”."),
    "comment_reply": N_("%(actor)s replied to your comment on “%(idea)s”."),
}


def notify(
    *,
    session: AsyncSession,
    user_ids: Iterable[int],
    kind: str,
    actor_id: int | None,
    workspace_id: int | None,
    idea_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """Queues notifications in the caller's transaction; the actor is never told of their own act."""
    for user_id in set(user_ids) - {actor_id}:
        session.add(
            Notification(
                user_id=user_id,
                kind=kind,
                actor_id=actor_id,
                workspace_id=workspace_id,
                idea_id=idea_id,
                comment_id=comment_id,
            )
        )


async def withdraw(*, session: AsyncSession, kind: str, actor_id: int, workspace_id: int) -> None:
    """Removes notifications about something the actor took back (a request to join, say)."""
    await session.exec(
        delete(Notification).where(
            col(Notification.kind) == kind,
            col(Notification.actor_id) == actor_id,
            col(Notification.workspace_id) == workspace_id,
        )
    )


async def unread_count(*, session: AsyncSession, user_id: int) -> int:
    return (
        await session.exec(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        )
    ).one()


@dataclass
class NotificationRow:
    notification: Notification
    actor: User | None
    workspace: Workspace | None
    idea: Idea | None


async def list_for(
    *, session: AsyncSession, user_id: int, page: int = 1
) -> tuple[list[NotificationRow], bool]:
    """A page of the user's notifications, newest first, with who did it and where: one query."""
    actor = aliased(User)
    rows = await session.exec(
        select(Notification, actor, Workspace, Idea)
        .outerjoin(actor, col(actor.id) == Notification.actor_id)
        .outerjoin(Workspace, col(Workspace.id) == Notification.workspace_id)
        .outerjoin(Idea, col(Idea.id) == Notification.idea_id)
        .where(Notification.user_id == user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    found = [NotificationRow(notification=n, actor=a, workspace=w, idea=i) for n, a, w, i in rows.all()]
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


async def mark_read(*, session: AsyncSession, user_id: int, notification_id: int | None = None) -> int:
    """Marks one notification (or, without an id, all) of this user read; returns how many changed."""
    statement = update(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
    )
    if notification_id is not None:
        statement = statement.where(col(Notification.id) == notification_id)
    result = await session.exec(statement.values(read_at=utcnow()))
    await session.commit()
    return result.rowcount

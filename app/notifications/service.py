"""Telling users what happened: create, count, list and mark notifications read."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, false, or_, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import Role, User
from app.cocreation.models import CocreationSession
from app.core.db import utcnow
from app.core.i18n import N_
from app.ideas.models import Idea
from app.notifications.models import Follow, Notification
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import MemberRole, Membership, MemberStatus, Visibility, Workspace

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
    "followed_idea_status": N_("%(actor)s changed the status of “%(idea)s”, which you follow."),
    "followed_workspace_idea": N_("%(actor)s posted “%(idea)s” in %(workspace)s, which you follow."),
    "comment_hidden": N_(
        "Your comment on “%(idea)s” was hidden. Open it to see why, edit it or ask for a review."
    ),
    "comment_restored": N_("Your comment on “%(idea)s” is shown again."),
    "review_requested": N_("%(actor)s asks for a review of their hidden comment on “%(idea)s”."),
    "idea_hidden": N_("Your idea “%(idea)s” was hidden. Open it to see why, edit it or ask for a review."),
    "idea_restored": N_("Your idea “%(idea)s” is shown again."),
    "idea_review_requested": N_("%(actor)s asks for a review of their hidden idea “%(idea)s”."),
    "comment_kept_hidden": N_(
        "A moderator looked again at your comment on “%(idea)s”: it stays hidden. Open it to see why."
    ),
    "idea_kept_hidden": N_(
        "A moderator looked again at your idea “%(idea)s”: it stays hidden. Open it to see why."
    ),
    "comment_reported": N_("A comment on “%(idea)s” in %(workspace)s was reported."),
    "idea_reported": N_("The idea “%(idea)s” in %(workspace)s was reported."),
    "member_reported": N_("A member of %(workspace)s was reported."),
    "member_warned": N_("A moderator of %(workspace)s warned you. Open the workspace to read why."),
    "member_banned": N_("You can no longer take part in %(workspace)s. Open it to see why and until when."),
    "member_unbanned": N_("You can take part in %(workspace)s again."),
    "session_place_offered": N_("A place opened up for you in “%(session)s”: you are registered."),
}


# Told to the workspace's moderators, and listed only while the reader still moderates it.
FOR_MODERATORS = (
    "membership_requested",
    "review_requested",
    "idea_review_requested",
    "idea_reported",
    "comment_reported",
    "member_reported",
)
# Opened at the workspace's moderation queue, where the moderators decide.
TO_THE_QUEUE = ("idea_reported", "comment_reported", "member_reported")
# About a request the reader made and that was refused: they are no member, yet may read it.
FOR_NON_MEMBERS = ("membership_declined",)


@dataclass
class _Sight:
    """What a reader may see, in SQL: the workspace, a hidden idea, the workspace's moderators' work."""

    workspace: ColumnElement[bool]
    idea: ColumnElement[bool]
    moderates: ColumnElement[bool]


def _sight(*, staff, membership, reader_id, public, idea_shown, idea_author_id, now=None) -> _Sight:
    """The rules of ``workspace_permissions.can_view`` and ``idea_permissions.can_see`` over a row
    holding the reader's membership (outer-joined, so NULL without one): ``public`` whether the
    workspace is, ``idea_shown`` whether there is no idea or it is not hidden. ``now`` is the moment
    a ban is over by (the current time unless given, as a bound parameter, say)."""
    now = utcnow() if now is None else now
    taking_part = or_(
        membership.status == MemberStatus.ACTIVE,
        and_(membership.status == MemberStatus.BANNED, membership.banned_until <= now),
    )
    moderates = or_(staff, and_(membership.role == MemberRole.MODERATOR, taking_part))
    return _Sight(
        workspace=or_(
            staff,
            public,
            col(membership.status).in_((MemberStatus.ACTIVE, MemberStatus.BANNED)),
        ),
        idea=or_(idea_shown, idea_author_id == reader_id, moderates),
        moderates=moderates,
    )


def _listed_for(*, staff: bool, reader_id, membership, now=None) -> ColumnElement[bool]:
    """Which of the reader's notifications they may still read: one about a workspace they no longer
    see, an idea hidden from them or a moderators' matter they no longer moderate is not listed."""
    sight = _sight(
        staff=true() if staff else false(),
        membership=membership,
        reader_id=reader_id,
        public=Workspace.visibility == Visibility.PUBLIC,
        idea_shown=or_(col(Notification.idea_id).is_(None), col(Idea.hidden_at).is_(None)),
        idea_author_id=Idea.author_id,
        now=now,
    )
    return and_(
        or_(
            col(Notification.workspace_id).is_(None),
            col(Notification.kind).in_(FOR_NON_MEMBERS),
            and_(sight.workspace, sight.idea),
        ),
        or_(col(Notification.kind).not_in(FOR_MODERATORS), sight.moderates),
    )


def _readers_membership(reader_id):
    membership = aliased(Membership)
    joined = (col(membership.workspace_id) == Notification.workspace_id) & (membership.user_id == reader_id)
    return membership, joined


def notify(
    *,
    session: AsyncSession,
    user_ids: Iterable[int],
    kind: str,
    actor_id: int | None,
    workspace_id: int | None,
    idea_id: int | None = None,
    comment_id: int | None = None,
    session_id: int | None = None,
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
                session_id=session_id,
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


def unread_statement(*, staff: bool, reader_id, now=None):
    """The count of the reader's unread notifications that they may still read, as one statement.
    ``reader_id`` and ``now`` may be values or bound parameters (a statement built once)."""
    membership, joined = _readers_membership(reader_id)
    return (
        select(func.count())
        .select_from(Notification)
        .outerjoin(Workspace, col(Workspace.id) == Notification.workspace_id)
        .outerjoin(Idea, col(Idea.id) == Notification.idea_id)
        .outerjoin(membership, joined)
        .where(
            Notification.user_id == reader_id,
            col(Notification.read_at).is_(None),
            _listed_for(staff=staff, reader_id=reader_id, membership=membership, now=now),
        )
    )


async def unread_count(*, session: AsyncSession, user: User) -> int:
    statement = unread_statement(staff=workspace_permissions.is_staff(user), reader_id=user.id)
    return (await session.exec(statement)).one()


@dataclass
class NotificationRow:
    notification: Notification
    actor: User | None
    workspace: Workspace | None
    idea: Idea | None
    cocreation_session: CocreationSession | None


async def list_for(*, session: AsyncSession, user: User, page: int = 1) -> tuple[list[NotificationRow], bool]:
    """A page of the user's notifications that they may still read, newest first, with who did it
    and where: one query."""
    actor = aliased(User)
    membership, joined = _readers_membership(user.id)
    rows = await session.exec(
        select(Notification, actor, Workspace, Idea, CocreationSession)
        .outerjoin(actor, col(actor.id) == Notification.actor_id)
        .outerjoin(Workspace, col(Workspace.id) == Notification.workspace_id)
        .outerjoin(Idea, col(Idea.id) == Notification.idea_id)
        .outerjoin(CocreationSession, col(CocreationSession.id) == Notification.session_id)
        .outerjoin(membership, joined)
        .where(
            Notification.user_id == user.id,
            _listed_for(staff=workspace_permissions.is_staff(user), reader_id=user.id, membership=membership),
        )
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    found = [
        NotificationRow(notification=n, actor=a, workspace=w, idea=i, cocreation_session=c)
        for n, a, w, i, c in rows.all()
    ]
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


async def mark_read(*, session: AsyncSession, user_id: int, notification_id: int | None = None) -> int:
    """Marks one notification (or, without an id, all) of this user read; returns how many changed."""
    statement = update(Notification).where(
        col(Notification.user_id) == user_id, col(Notification.read_at).is_(None)
    )
    if notification_id is not None:
        statement = statement.where(col(Notification.id) == notification_id)
    result = await session.exec(statement.values(read_at=utcnow()))
    await session.flush()
    return result.rowcount


async def belongs_to(*, session: AsyncSession, user_id: int, notification_id: int) -> bool:
    statement = select(Notification.id).where(
        Notification.id == notification_id, Notification.user_id == user_id
    )
    return (await session.exec(statement)).first() is not None


async def is_following(
    *, session: AsyncSession, user_id: int, workspace_id: int | None = None, idea_id: int | None = None
) -> bool:
    on_idea = workspace_id is None
    params = {"user_id": user_id, "target": idea_id if on_idea else workspace_id}
    return bool((await session.exec(_following_statement(on_idea=on_idea), params=params)).one())


def follows_workspace(user_id, workspace_id):
    """Whether the user follows the workspace, as a condition (the ids may be bound)."""
    return _follows(Follow.workspace_id, user_id, workspace_id)


def follows_idea(user_id, idea_id):
    """Whether the user follows the idea, as a condition (the ids may be bound)."""
    return _follows(Follow.idea_id, user_id, idea_id)


def _follows(target_column, user_id, target_id):
    return select(Follow.id).where(col(Follow.user_id) == user_id, col(target_column) == target_id).exists()


@functools.cache
def _following_statement(*, on_idea: bool):
    user_id, target = bindparam("user_id"), bindparam("target")
    return select(follows_idea(user_id, target) if on_idea else follows_workspace(user_id, target))


async def toggle_follow(
    *, session: AsyncSession, user_id: int, workspace_id: int | None = None, idea_id: int | None = None
) -> bool:
    """Follows the workspace or idea, or stops following it; returns whether the user now follows.
    Following twice at once is harmless: the unique constraint keeps one row."""
    target = Follow.workspace_id == workspace_id if workspace_id is not None else Follow.idea_id == idea_id
    removed = await session.exec(delete(Follow).where(col(Follow.user_id) == user_id, target))
    if removed.rowcount:
        await session.flush()
        return False
    try:
        async with session.begin_nested():
            session.add(Follow(user_id=user_id, workspace_id=workspace_id, idea_id=idea_id))
    except IntegrityError:
        pass
    await session.flush()
    return True


async def followers(*, session: AsyncSession, workspace: Workspace, idea: Idea | None = None) -> list[int]:
    """Who follows the workspace (or, given one, its idea) and may still see it: a follower who left a
    members-only workspace, or who may not see a hidden idea, is not told of it."""
    target = Follow.idea_id == idea.id if idea is not None else Follow.workspace_id == workspace.id
    membership = aliased(Membership)
    sight = _sight(
        staff=col(User.role).in_((Role.FACILITATOR, Role.ADMIN)),
        membership=membership,
        reader_id=Follow.user_id,
        public=true() if workspace.is_public else false(),
        idea_shown=true() if idea is None or idea.hidden_at is None else false(),
        idea_author_id=None if idea is None else idea.author_id,
    )
    statement = (
        select(Follow.user_id)
        .join(User, col(User.id) == Follow.user_id)
        .outerjoin(
            membership,
            (col(membership.workspace_id) == workspace.id) & (col(membership.user_id) == Follow.user_id),
        )
        .where(target, sight.workspace, sight.idea)
    )
    return list((await session.exec(statement)).all())

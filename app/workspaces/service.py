"""Workspaces: creating them, joining and leaving, deciding requests, moderators, archiving, activity."""

import functools
import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.events import Notice, NoticeWithdrawn, publish
from app.core.forms import FormError, clean_text, whole_numbers
from app.core.i18n import N_, _
from app.network.models import City
from app.workspaces.models import (
    Activity,
    JoinPolicy,
    MemberRole,
    Membership,
    MemberStatus,
    Visibility,
    Workspace,
    WorkspaceCity,
)

TITLE_MAX = 200
SUMMARY_MAX = 5000
MESSAGE_MAX = 500
PAGE_SIZE = 24

ACTIVITY_MESSAGES = {
    "workspace_created": N_("%(actor)s opened this workspace."),
    "member_joined": N_("%(actor)s joined."),
    "member_approved": N_("%(actor)s welcomed %(subject)s as a member."),
    "moderator_appointed": N_("%(actor)s made %(subject)s a moderator."),
    "workspace_archived": N_("%(actor)s archived this workspace."),
    "workspace_reopened": N_("%(actor)s reopened this workspace."),
    "idea_posted": N_("%(actor)s posted an idea."),
    "idea_status": N_("%(actor)s moved an idea to a new status."),
    "topic_seeded": N_("%(actor)s started a topic."),
    "session_scheduled": N_("%(actor)s scheduled a co-creation session."),
    "ballot_created": N_("%(actor)s opened a ballot."),
}


@dataclass
class WorkspaceInput:
    title_en: str = ""
    title_zh: str = ""
    summary_en: str = ""
    summary_zh: str = ""
    visibility: str = Visibility.PUBLIC
    join_policy: str = JoinPolicy.OPEN
    city_ids: tuple[str, ...] = ()


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


async def _unique_slug(session: AsyncSession, base: str) -> str:
    base = base or "workspace"
    taken = set(
        (await session.exec(select(Workspace.slug).where(col(Workspace.slug).startswith(base)))).all()
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


async def _clean(session: AsyncSession, data: WorkspaceInput) -> tuple[dict, list[City]]:
    errors: dict[str, str] = {}
    values = {
        "title_en": clean_text(
            data.title_en, field="title_en", errors=errors, max_length=TITLE_MAX, required=False
        ),
        "title_zh": clean_text(
            data.title_zh, field="title_zh", errors=errors, max_length=TITLE_MAX, required=False
        ),
        "summary_en": clean_text(
            data.summary_en, field="summary_en", errors=errors, max_length=SUMMARY_MAX, required=False
        ),
        "summary_zh": clean_text(
            data.summary_zh, field="summary_zh", errors=errors, max_length=SUMMARY_MAX, required=False
        ),
    }
    if not values["title_en"] and not values["title_zh"] and "title_en" not in errors:
        errors["title_en"] = _("Give the workspace a title, in English or Chinese or both.")
    if data.visibility not in tuple(Visibility):
        errors["visibility"] = _("Choose who can see the workspace.")
    if data.join_policy not in tuple(JoinPolicy):
        errors["join_policy"] = _("Choose how people join.")
    ids = set(whole_numbers(list(data.city_ids)))
    cities = list((await session.exec(select(City).where(col(City.id).in_(ids)))).all()) if ids else []
    if not cities or len(ids) != len(data.city_ids) or len(cities) != len(ids):
        errors["city_ids"] = _("Choose at least one city from the list.")
    if errors:
        raise FormError(errors)
    values["visibility"] = data.visibility
    values["join_policy"] = data.join_policy
    return values, cities


async def create(*, session: AsyncSession, creator: User, data: WorkspaceInput) -> Workspace:
    """A new workspace for one city or a group; its creator becomes its first moderator."""
    values, cities = await _clean(session, data)
    base = slugify(values["title_en"]) or slugify("-".join(c.name_en for c in cities[:3]))
    workspace = Workspace(
        **values, slug=await _unique_slug(session, base), created_by_id=creator.id, member_count=1
    )
    session.add(workspace)
    await session.flush()
    session.add_all(WorkspaceCity(workspace_id=workspace.id, city_id=city.id) for city in cities)
    session.add(
        Membership(
            workspace_id=workspace.id,
            user_id=creator.id,
            role=MemberRole.MODERATOR,
            status=MemberStatus.ACTIVE,
        )
    )
    record_activity(session, workspace_id=workspace.id, actor_id=creator.id, kind="workspace_created")
    await session.flush()
    return workspace


async def update_details(*, session: AsyncSession, workspace: Workspace, data: WorkspaceInput) -> Workspace:
    values, cities = await _clean(session, data)
    for name, value in values.items():
        setattr(workspace, name, value)
    workspace.updated_at = utcnow()
    session.add(workspace)
    links = (
        await session.exec(select(WorkspaceCity).where(WorkspaceCity.workspace_id == workspace.id))
    ).all()
    wanted = {city.id for city in cities}
    for link in links:
        if link.city_id not in wanted:
            await session.delete(link)
    for city_id in wanted - {link.city_id for link in links}:
        session.add(WorkspaceCity(workspace_id=workspace.id, city_id=city_id))
    await session.flush()
    return workspace


async def get_by_slug(*, session: AsyncSession, slug: str) -> Workspace | None:
    return (await session.exec(select(Workspace).where(Workspace.slug == slug))).first()


@functools.cache
def _workspace_and_membership_query():
    return (
        select(Workspace, Membership)
        .outerjoin(
            Membership,
            (col(Membership.workspace_id) == Workspace.id)
            & (col(Membership.user_id) == bindparam("user_id")),
        )
        .where(col(Workspace.slug) == bindparam("slug"))
    )


async def get_with_membership(
    *, session: AsyncSession, slug: str, user: User | None
) -> tuple[Workspace, Membership | None] | None:
    """The workspace of a slug and the user's membership there, in one query (every workspace page
    starts with it); None when there is no such workspace."""
    row = (
        await session.exec(
            _workspace_and_membership_query(), params={"slug": slug, "user_id": user.id if user else None}
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def membership_of(*, session: AsyncSession, workspace_id: int, user: User | None) -> Membership | None:
    if user is None:
        return None
    return (
        await session.exec(
            select(Membership).where(Membership.workspace_id == workspace_id, Membership.user_id == user.id)
        )
    ).first()


@functools.cache
def _cities_statement():
    return (
        select(WorkspaceCity.workspace_id, City)
        .join(City, col(City.id) == WorkspaceCity.city_id)
        .where(col(WorkspaceCity.workspace_id).in_(bindparam("workspace_ids", expanding=True)))
        .order_by(City.name_en)
    )


async def cities_of(*, session: AsyncSession, workspace_ids: list[int]) -> dict[int, list[City]]:
    """The cities of several workspaces in one query."""
    found: dict[int, list[City]] = {workspace_id: [] for workspace_id in workspace_ids}
    if not workspace_ids:
        return found
    rows = await session.exec(_cities_statement(), params={"workspace_ids": list(workspace_ids)})
    for workspace_id, city in rows:
        found[workspace_id].append(city)
    return found


@dataclass
class WorkspacePage:
    workspaces: list[Workspace]
    cities: dict[int, list[City]]
    my_status: dict[int, str]
    page: int
    has_next: bool


@functools.cache
def _visible_statement(*, staff: bool, signed_in: bool, searched: bool):
    """``list_visible``'s statement for one kind of reader and search, built once; the reader, the
    search pattern and the page are bound parameters."""
    reader_id = bindparam("reader_id", type_=sa.Integer)
    status = (
        select(Membership.status)
        .where(col(Membership.workspace_id) == Workspace.id, col(Membership.user_id) == reader_id)
        .scalar_subquery()
    )
    statement = select(Workspace, status if signed_in else sa.null())
    if not staff:
        visible = col(Workspace.visibility) == Visibility.PUBLIC
        if signed_in:
            mine = select(Membership.workspace_id).where(
                col(Membership.user_id) == reader_id, Membership.status == MemberStatus.ACTIVE
            )
            visible = or_(visible, col(Workspace.id).in_(mine))
        statement = statement.where(visible)
    if searched:
        pattern = bindparam("pattern")
        statement = statement.where(
            or_(func.lower(Workspace.title_en).like(pattern), func.lower(Workspace.title_zh).like(pattern))
        )
    return (
        statement.order_by(col(Workspace.archived_at).is_not(None), col(Workspace.id).desc())
        .offset(bindparam("offset", type_=sa.Integer))
        .limit(bindparam("limit", type_=sa.Integer))
    )


async def list_visible(
    *,
    session: AsyncSession,
    user: User | None,
    staff: bool,
    page: int = 1,
    query: str = "",
    page_size: int = PAGE_SIZE,
) -> WorkspacePage:
    """Workspaces this user may see: public ones, the ones they belong to, all for staff. Newest
    first, paged, with the user's membership status in each; two queries whatever the page size."""
    statement = _visible_statement(staff=staff, signed_in=user is not None, searched=bool(query))
    params = {
        "reader_id": user.id if user else None,
        "pattern": f"%{query.lower()}%",
        "offset": (page - 1) * page_size,
        "limit": page_size + 1,
    }
    rows = list((await session.exec(statement, params=params)).all())
    workspaces = [workspace for workspace, _status in rows[:page_size]]
    my_status = {workspace.id: status for workspace, status in rows[:page_size] if status is not None}
    ids = [w.id for w in workspaces]
    return WorkspacePage(
        workspaces=workspaces,
        cities=await cities_of(session=session, workspace_ids=ids),
        my_status=my_status,
        page=page,
        has_next=len(rows) > page_size,
    )


async def moderator_ids(*, session: AsyncSession, workspace_id: int) -> list[int]:
    return list(
        (
            await session.exec(
                select(Membership.user_id).where(
                    Membership.workspace_id == workspace_id,
                    Membership.role == MemberRole.MODERATOR,
                    Membership.status == MemberStatus.ACTIVE,
                )
            )
        ).all()
    )


# The workspace's counters and its activity feed belong to this domain: other domains change them
# only through these.


async def count_members(session: AsyncSession, workspace_ids: int | sa.Select, delta: int) -> None:
    """Moves the member count of a workspace (or of each one a subquery selects) by ``delta``, in one
    relative UPDATE, so two joins at once cannot both read the same count."""
    where = (
        col(Workspace.id) == workspace_ids
        if isinstance(workspace_ids, int)
        else col(Workspace.id).in_(workspace_ids)
    )
    await session.exec(update(Workspace).where(where).values(member_count=Workspace.member_count + delta))


async def count_ideas(session: AsyncSession, workspace_id: int, delta: int) -> None:
    """Moves the count of the workspace's shown ideas by ``delta`` (posted, hidden, shown, deleted)."""
    await session.exec(
        update(Workspace)
        .where(col(Workspace.id) == workspace_id)
        .values(idea_count=Workspace.idea_count + delta)
    )


def record_activity(session: AsyncSession, **fields) -> None:
    """A line of the workspace's activity feed (``Activity``: workspace_id, actor_id, kind, and what it
    is about), in the caller's unit of work."""
    session.add(Activity(**fields))


async def join(*, session: AsyncSession, workspace: Workspace, user: User, message: str = "") -> Membership:
    """Joins an open workspace, or asks to join one that needs approval (moderators are told)."""
    if workspace.is_archived:
        raise Refused(_("This workspace is archived and accepts nothing new."))
    membership = await membership_of(session=session, workspace_id=workspace.id, user=user)
    if membership is not None and membership.status != MemberStatus.DECLINED:
        raise Refused(_("You already belong to this workspace or have asked to join it."))
    message = message.strip()[:MESSAGE_MAX]
    status = MemberStatus.ACTIVE if workspace.join_policy == JoinPolicy.OPEN else MemberStatus.PENDING
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id)
    membership.status = status
    membership.role = MemberRole.MEMBER
    membership.message = message
    membership.created_at = utcnow()
    membership.decided_at = membership.decided_by_id = None
    try:
        async with session.begin_nested():
            session.add(membership)
    except IntegrityError:
        raise Refused(_("You already belong to this workspace or have asked to join it.")) from None
    if status == MemberStatus.ACTIVE:
        await count_members(session, workspace.id, 1)
        record_activity(session, workspace_id=workspace.id, actor_id=user.id, kind="member_joined")
    else:
        await publish(
            session,
            Notice(
                user_ids=await moderator_ids(session=session, workspace_id=workspace.id),
                kind="membership_requested",
                actor_id=user.id,
                workspace_id=workspace.id,
            ),
        )
    await session.flush()
    return membership


async def add_member(*, session: AsyncSession, workspace: Workspace, user: User) -> Membership:
    """Makes someone an active member directly (demo data, imports), whatever the join policy."""
    membership = Membership(workspace_id=workspace.id, user_id=user.id, status=MemberStatus.ACTIVE)
    session.add(membership)
    await session.flush()
    await count_members(session, workspace.id, 1)
    record_activity(session, workspace_id=workspace.id, actor_id=user.id, kind="member_joined")
    await session.flush()
    return membership


async def leave(*, session: AsyncSession, workspace: Workspace, user: User) -> None:
    membership = await membership_of(session=session, workspace_id=workspace.id, user=user)
    if membership is None or membership.status not in (MemberStatus.ACTIVE, MemberStatus.PENDING):
        raise Refused(_("You are not a member of this workspace."))
    if membership.status == MemberStatus.ACTIVE:
        await count_members(session, workspace.id, -1)
    else:
        await publish(
            session, NoticeWithdrawn(kind="membership_requested", actor_id=user.id, workspace_id=workspace.id)
        )
    await session.delete(membership)
    await session.flush()


async def get_membership(
    *, session: AsyncSession, workspace_id: int, membership_id: int
) -> Membership | None:
    membership = await session.get(Membership, membership_id)
    return membership if membership is not None and membership.workspace_id == workspace_id else None


async def decide(
    *, session: AsyncSession, workspace: Workspace, membership: Membership, moderator: User, approve: bool
) -> Membership:
    """Approves or declines a pending request; the requester is told either way. Only a pending
    request changes, so two moderators deciding at once cannot both count the member."""
    if workspace.is_archived:
        raise Refused(_("This workspace is archived and accepts nothing new."))
    new_status = MemberStatus.ACTIVE if approve else MemberStatus.DECLINED
    result = await session.exec(
        update(Membership)
        .where(col(Membership.id) == membership.id, col(Membership.status) == MemberStatus.PENDING)
        .values(status=new_status, decided_at=utcnow(), decided_by_id=moderator.id)
    )
    if result.rowcount != 1:
        raise Refused(_("This request was already decided."))
    if approve:
        await count_members(session, workspace.id, 1)
        record_activity(
            session,
            workspace_id=workspace.id,
            actor_id=moderator.id,
            kind="member_approved",
            subject_id=membership.user_id,
        )
    await publish(
        session,
        Notice(
            user_ids=[membership.user_id],
            kind="membership_approved" if approve else "membership_declined",
            actor_id=moderator.id,
            workspace_id=workspace.id,
        ),
    )
    await session.flush()
    await session.refresh(membership)
    return membership


async def set_role(
    *, session: AsyncSession, workspace: Workspace, membership: Membership, role: str, by: User
) -> Membership:
    if role not in tuple(MemberRole):
        raise Refused(_("Choose member or moderator."))
    if membership.status != MemberStatus.ACTIVE:
        raise Refused(_("Only active members can be made moderators."))
    if membership.role == role:
        return membership
    membership.role = role
    session.add(membership)
    if role == MemberRole.MODERATOR:
        record_activity(
            session,
            workspace_id=workspace.id,
            actor_id=by.id,
            kind="moderator_appointed",
            subject_id=membership.user_id,
        )
        await publish(
            session,
            Notice(
                user_ids=[membership.user_id],
                kind="moderator_appointed",
                actor_id=by.id,
                workspace_id=workspace.id,
            ),
        )
    await session.flush()
    return membership


async def set_archived(*, session: AsyncSession, workspace: Workspace, archived: bool, by: User) -> Workspace:
    if workspace.is_archived == archived:
        return workspace
    workspace.archived_at = utcnow() if archived else None
    session.add(workspace)
    record_activity(
        session,
        workspace_id=workspace.id,
        actor_id=by.id,
        kind="workspace_archived" if archived else "workspace_reopened",
    )
    await session.flush()
    return workspace


@dataclass
class MemberRow:
    membership: Membership
    user: User


async def members(
    *, session: AsyncSession, workspace_id: int, status: str, page: int = 1, page_size: int = 50
) -> tuple[list[MemberRow], bool]:
    """Members with a status, moderators first, then by name: one query."""
    rows = await session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, Membership.status == status)
        .order_by(col(Membership.role).desc(), User.display_name, User.id)
        .offset((page - 1) * page_size)
        .limit(page_size + 1)
    )
    found = [MemberRow(membership=m, user=u) for m, u in rows.all()]
    return found[:page_size], len(found) > page_size


def pending_statement(workspace_id):
    """How many ask to join the workspace, as a statement (``workspace_id`` may be bound)."""
    return (
        select(func.count())
        .select_from(Membership)
        .where(col(Membership.workspace_id) == workspace_id, Membership.status == MemberStatus.PENDING)
    )


async def pending_count(*, session: AsyncSession, workspace_id: int) -> int:
    return (await session.exec(pending_statement(workspace_id))).one()

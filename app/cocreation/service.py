"""Co-creation sessions: scheduling with an agenda, registration with a waiting list that never goes
over capacity, attendance, minutes and outcomes, and the live room's agenda and idea board."""

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.core import get_global
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.cocreation.models import (
    AgendaItem,
    CocreationSession,
    Mode,
    Phase,
    Registration,
    RegistrationStatus,
    SessionIdea,
    SessionStatus,
)
from app.core import live, markdown
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.events import Notice, publish
from app.core.forms import FormError, clean_local_datetime, clean_text, number_between
from app.core.i18n import N_, _, is_time_zone
from app.ideas.models import Idea
from app.workspaces import service as workspace_service
from app.workspaces.models import Workspace

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
PLACE_MAX = 200
URL_MAX = 500
CAPACITY_MAX = 100_000
AGENDA_MAX = 30
AGENDA_MINUTES_MAX = 24 * 60
MINUTES_MAX = 50_000

PHASE_LABELS = {
    Phase.CO_DIAGNOSTIC: N_("Co-diagnostic"),
    Phase.CO_DESIGN: N_("Co-design"),
    Phase.CO_IMPLEMENTATION: N_("Co-implementation"),
    Phase.CO_MONITORING: N_("Co-monitoring"),
}
MODE_LABELS = {
    Mode.IN_PERSON: N_("In person"),
    Mode.ONLINE: N_("Online"),
    Mode.HYBRID: N_("Hybrid"),
}
STATUS_LABELS = {
    SessionStatus.DRAFT: N_("Draft"),
    SessionStatus.SCHEDULED: N_("Scheduled"),
    SessionStatus.LIVE: N_("Live now"),
    SessionStatus.CLOSED: N_("Closed"),
}


def channel(session_id: int) -> str:
    """The live channel of a session's room."""
    return f"session:{session_id}"


@dataclass
class AgendaInput:
    title: str = ""
    minutes: str = ""


@dataclass
class SessionInput:
    title: str = ""
    description: str = ""
    phase: str = ""
    mode: str = ""
    place_name: str = ""
    online_url: str = ""
    time_zone: str = ""
    starts_at: str = ""
    ends_at: str = ""
    capacity: str = ""
    agenda: list[AgendaInput] = field(default_factory=list)


def zone_of_country(country_code: str) -> str | None:
    """The main time zone of a country (CLDR's list, mainland zones first): a session's default."""
    zones = get_global("territory_zones").get(country_code.upper(), [])
    continents = ("Europe/", "Asia/", "America/", "Africa/")
    ranked = sorted(
        zones, key=lambda zone: next((i for i, c in enumerate(continents) if zone.startswith(c)), 9)
    )
    choice = ranked[0] if ranked else None
    return choice if choice and is_time_zone(choice) else None


def _clean(data: SessionInput) -> tuple[dict, list[tuple[str, int]]]:
    errors: dict[str, str] = {}
    values = {
        "title": clean_text(data.title, field="title", errors=errors, max_length=TITLE_MAX),
        "description": clean_text(
            data.description, field="description", errors=errors, max_length=DESCRIPTION_MAX, required=False
        ),
        "place_name": clean_text(
            data.place_name, field="place_name", errors=errors, max_length=PLACE_MAX, required=False
        ),
        "online_url": clean_text(
            data.online_url, field="online_url", errors=errors, max_length=URL_MAX, required=False
        ),
    }
    if data.phase not in PHASE_LABELS:
        errors["phase"] = _("Choose a phase from the list.")
    if data.mode not in MODE_LABELS:
        errors["mode"] = _("Choose how people take part.")
    values["phase"], values["mode"] = data.phase, data.mode
    if values["online_url"] and not values["online_url"].lower().startswith(("https://", "http://")):
        errors["online_url"] = _("Give a web address starting with https://.")
    if data.mode in (Mode.ONLINE, Mode.HYBRID) and not values["online_url"] and "online_url" not in errors:
        errors["online_url"] = _("Online and hybrid sessions need a link.")
    if data.mode in (Mode.IN_PERSON, Mode.HYBRID) and not values["place_name"] and "place_name" not in errors:
        errors["place_name"] = _("Say where the session takes place.")
    zone = ZoneInfo(data.time_zone) if is_time_zone(data.time_zone) else None
    if zone is None:
        errors["time_zone"] = _("Choose a time zone from the list.")
    values["time_zone"] = data.time_zone
    starts_at = ends_at = None
    if zone is not None:
        starts_at = clean_local_datetime(data.starts_at, zone=zone, field="starts_at", errors=errors)
        ends_at = clean_local_datetime(data.ends_at, zone=zone, field="ends_at", errors=errors)
    if starts_at and ends_at and ends_at <= starts_at:
        errors["ends_at"] = _("The session must end after it starts.")
    values["starts_at"], values["ends_at"] = starts_at, ends_at
    values["capacity"] = None
    if data.capacity.strip():
        values["capacity"] = number_between(data.capacity, 1, CAPACITY_MAX)
        if values["capacity"] is None:
            errors["capacity"] = _(
                "Give a whole number of places from 1 to %(max)s, or leave it empty for no limit.",
                max=CAPACITY_MAX,
            )
    agenda: list[tuple[str, int]] = []
    for index, item in enumerate(data.agenda):
        title = item.title.strip()
        if not title and not item.minutes.strip():
            continue
        if not title or len(title) > TITLE_MAX:
            errors[f"agenda-{index}"] = _(
                "Give each agenda item a title of at most %(max)s characters.", max=TITLE_MAX
            )
            continue
        minutes = number_between(item.minutes.strip() or "0", 0, AGENDA_MINUTES_MAX)
        if minutes is None:
            errors[f"agenda-{index}"] = _(
                "Give the minutes as a whole number from 0 to %(max)s.", max=AGENDA_MINUTES_MAX
            )
            continue
        agenda.append((title, minutes))
    if len(agenda) > AGENDA_MAX:
        errors["agenda"] = _("An agenda has at most %(max)s items.", max=AGENDA_MAX)
    if errors:
        raise FormError(errors)
    return values, agenda


async def _replace_agenda(
    session: AsyncSession, cs: CocreationSession, agenda: list[tuple[str, int]]
) -> None:
    """Keeps the rows of items that stay at their place (ideas on the board point at them)."""
    existing = await agenda_of(session=session, session_id=cs.id)
    for position, (title, minutes) in enumerate(agenda, start=1):
        if position <= len(existing):
            item = existing[position - 1]
            item.title, item.duration_minutes = title, minutes
            session.add(item)
        else:
            session.add(
                AgendaItem(session_id=cs.id, position=position, title=title, duration_minutes=minutes)
            )
    removed = [item.id for item in existing[len(agenda) :]]
    if removed:
        await session.exec(delete(AgendaItem).where(col(AgendaItem.id).in_(removed)))
        if cs.current_item_id in removed:
            cs.current_item_id = None


async def create(
    *, session: AsyncSession, workspace: Workspace, author: User, data: SessionInput
) -> CocreationSession:
    values, agenda = _clean(data)
    cs = CocreationSession(
        **values,
        workspace_id=workspace.id,
        created_by_id=author.id,
        description_html=markdown.render(values["description"]),
    )
    session.add(cs)
    await session.flush()
    await _replace_agenda(session, cs, agenda)
    await session.flush()
    return cs


async def update_session(
    *, session: AsyncSession, cs: CocreationSession, data: SessionInput, by: User
) -> CocreationSession:
    values, agenda = _clean(data)
    await _lock(session, cs.id)
    await session.refresh(cs)
    if values["capacity"] is not None and values["capacity"] < cs.registered_count:
        raise FormError(
            {
                "capacity": _(
                    "%(count)s people already have a place; the capacity cannot be lower.",
                    count=cs.registered_count,
                )
            }
        )
    for name, value in values.items():
        setattr(cs, name, value)
    cs.description_html = markdown.render(values["description"])
    cs.updated_at = utcnow()
    session.add(cs)
    await _replace_agenda(session, cs, agenda)
    await _fill_seats(session, cs, actor_id=by.id)
    await session.flush()
    return cs


async def get(*, session: AsyncSession, workspace_id: int, session_id: int) -> CocreationSession | None:
    cs = await session.get(CocreationSession, session_id)
    return cs if cs is not None and cs.workspace_id == workspace_id else None


async def agenda_of(*, session: AsyncSession, session_id: int) -> list[AgendaItem]:
    rows = await session.exec(
        select(AgendaItem).where(AgendaItem.session_id == session_id).order_by(col(AgendaItem.position))
    )
    return list(rows.all())


async def list_sessions(
    *, session: AsyncSession, workspace_id: int, include_drafts: bool, past: bool, limit: int = 50
) -> list[CocreationSession]:
    """Upcoming (and live) sessions soonest first, or past ones latest first."""
    now = utcnow()
    statement = select(CocreationSession).where(CocreationSession.workspace_id == workspace_id)
    if not include_drafts:
        statement = statement.where(col(CocreationSession.status) != SessionStatus.DRAFT)
    if past:
        statement = statement.where(
            (col(CocreationSession.status) == SessionStatus.CLOSED)
            | ((col(CocreationSession.ends_at) < now) & (col(CocreationSession.status) != SessionStatus.LIVE))
        ).order_by(col(CocreationSession.starts_at).desc())
    else:
        statement = statement.where(
            (col(CocreationSession.status) == SessionStatus.LIVE)
            | (
                (col(CocreationSession.ends_at) >= now)
                & (col(CocreationSession.status) != SessionStatus.CLOSED)
            )
        ).order_by(col(CocreationSession.starts_at))
    return list((await session.exec(statement.limit(limit))).all())


async def set_status(
    *, session: AsyncSession, cs: CocreationSession, status: SessionStatus, by: User
) -> None:
    """Draft -> scheduled (published) -> live -> closed; a scheduled session may also close directly.
    The row is locked and read again first: a registration racing "back to draft" is either seen or waits."""
    await _lock(session, cs.id)
    await session.refresh(cs)
    allowed = {
        SessionStatus.DRAFT: {SessionStatus.SCHEDULED},
        SessionStatus.SCHEDULED: {SessionStatus.LIVE, SessionStatus.CLOSED, SessionStatus.DRAFT},
        SessionStatus.LIVE: {SessionStatus.CLOSED},
        SessionStatus.CLOSED: set(),
    }
    if status not in allowed[SessionStatus(cs.status)]:
        raise Refused(_("This session cannot move to that state now."))
    if status == SessionStatus.DRAFT and cs.registered_count:
        raise Refused(_("People have registered; the session cannot go back to draft."))
    previous = cs.status
    cs.status = status
    cs.updated_at = utcnow()
    if status == SessionStatus.LIVE and cs.current_item_id is None:
        agenda = await agenda_of(session=session, session_id=cs.id)
        cs.current_item_id = agenda[0].id if agenda else None
    session.add(cs)
    if status == SessionStatus.SCHEDULED and previous == SessionStatus.DRAFT:
        workspace_service.record_activity(
            session, workspace_id=cs.workspace_id, actor_id=by.id, kind="session_scheduled"
        )
    if status in (SessionStatus.LIVE, SessionStatus.CLOSED):
        await live.publish(session, channel=channel(cs.id), kind="status", data={"status": status})
    await session.flush()


async def _lock(session: AsyncSession, session_id: int) -> None:
    """Takes the session row's write lock before seats are counted: on PostgreSQL a row lock, on
    SQLite the database's write lock, so seat changes of one session happen one after another."""
    await _lock_row(session, session_id)


async def _lock_row(session: AsyncSession, session_id: int) -> None:
    await session.exec(
        update(CocreationSession)
        .where(col(CocreationSession.id) == session_id)
        .values(registered_count=CocreationSession.registered_count)
    )


async def registration_of(
    *, session: AsyncSession, session_id: int, user: User | None
) -> Registration | None:
    if user is None:
        return None
    return (
        await session.exec(
            select(Registration).where(Registration.session_id == session_id, Registration.user_id == user.id)
        )
    ).first()


async def waitlist_position(*, session: AsyncSession, registration: Registration) -> int:
    """1 for the first person waiting."""
    ahead = await session.exec(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.session_id == registration.session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            (col(Registration.queued_at) < registration.queued_at)
            | (
                (col(Registration.queued_at) == registration.queued_at)
                & (col(Registration.id) < registration.id)
            ),
        )
    )
    return ahead.one() + 1


async def waitlist_count(*, session: AsyncSession, session_id: int) -> int:
    return (
        await session.exec(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.session_id == session_id, Registration.status == RegistrationStatus.WAITLISTED
            )
        )
    ).one()


def has_ended(cs: CocreationSession) -> bool:
    """Closed by its moderators, or past its end (a session nobody closed)."""
    return cs.status == SessionStatus.CLOSED or cs.ends_at < utcnow()


def can_register_now(cs: CocreationSession) -> bool:
    return cs.status in (SessionStatus.SCHEDULED, SessionStatus.LIVE) and cs.ends_at > utcnow()


async def register(*, session: AsyncSession, cs: CocreationSession, user: User) -> Registration:
    """A place when one is free, else the end of the waiting list. The session row is locked first,
    so 200 people registering at once never take more places than there are."""
    await _lock(session, cs.id)
    await session.refresh(cs)
    if not can_register_now(cs):
        raise Refused(_("Registration for this session is not open."))
    registration = await registration_of(session=session, session_id=cs.id, user=user)
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        raise Refused(_("You are already registered for this session."))
    has_seat = cs.capacity is None or cs.registered_count < cs.capacity
    status = RegistrationStatus.REGISTERED if has_seat else RegistrationStatus.WAITLISTED
    now = utcnow()
    if registration is None:
        registration = Registration(session_id=cs.id, user_id=user.id, status=status, queued_at=now)
    else:
        registration.status, registration.queued_at, registration.updated_at = status, now, now
    session.add(registration)
    if has_seat:
        await _count_seats(session, cs.id, 1)
    await session.flush()
    await session.refresh(cs)
    return registration


async def _count_seats(session: AsyncSession, session_id: int, delta: int) -> None:
    await session.exec(
        update(CocreationSession)
        .where(col(CocreationSession.id) == session_id)
        .values(registered_count=CocreationSession.registered_count + delta)
    )


async def _fill_seats(session: AsyncSession, cs: CocreationSession, *, actor_id: int | None) -> list[int]:
    """Gives free places to the people waiting longest, and tells them; the row lock is held."""
    await session.flush()
    await session.refresh(cs)
    free = None if cs.capacity is None else cs.capacity - cs.registered_count
    statement = (
        select(Registration)
        .where(Registration.session_id == cs.id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(col(Registration.queued_at), col(Registration.id))
    )
    if free is not None:
        if free <= 0:
            return []
        statement = statement.limit(free)
    promoted = list((await session.exec(statement)).all())
    for registration in promoted:
        registration.status = RegistrationStatus.REGISTERED
        registration.updated_at = utcnow()
        session.add(registration)
    if promoted:
        await _count_seats(session, cs.id, len(promoted))
        await publish(
            session,
            Notice(
                user_ids=[r.user_id for r in promoted],
                kind="session_place_offered",
                actor_id=actor_id,
                workspace_id=cs.workspace_id,
                session_id=cs.id,
            ),
        )
    return [r.user_id for r in promoted]


async def cancel(*, session: AsyncSession, cs: CocreationSession, user: User) -> list[int]:
    """Gives up a place or leaves the waiting list; a freed place goes to the first person waiting.
    Returns the ids of the people who got a place."""
    await _lock(session, cs.id)
    await session.refresh(cs)
    if not can_register_now(cs):
        raise Refused(_("This session has ended; its registrations stay as they were."))
    registration = await registration_of(session=session, session_id=cs.id, user=user)
    if registration is None or registration.status == RegistrationStatus.CANCELLED:
        raise Refused(_("You are not registered for this session."))
    had_seat = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED
    registration.attended = False
    registration.updated_at = utcnow()
    session.add(registration)
    promoted: list[int] = []
    if had_seat:
        await _count_seats(session, cs.id, -1)
        promoted = await _fill_seats(session, cs, actor_id=None)
    await session.flush()
    await session.refresh(cs)
    return promoted


async def give_up_places(*, session: AsyncSession, user_id: int) -> list[int]:
    """For an account that is being deleted, in the caller's transaction:
    each place it holds is given up like a cancellation, so the first person waiting gets it and is
    told, in sessions that are still open to registration; in sessions that are over the count of
    places just loses it. Its registrations themselves go with the account. Returns the ids of the
    people who got a place."""
    rows = await session.exec(
        select(Registration, CocreationSession)
        .join(CocreationSession, col(CocreationSession.id) == Registration.session_id)
        .where(Registration.user_id == user_id, Registration.status == RegistrationStatus.REGISTERED)
        .order_by(col(CocreationSession.id))
    )
    promoted: list[int] = []
    # One session after another in id order, so two accounts going at once cannot lock in a circle.
    for registration, cs in rows.all():
        await _lock_row(session, cs.id)
        await session.delete(registration)
        await _count_seats(session, cs.id, -1)
        if can_register_now(cs):
            promoted += await _fill_seats(session, cs, actor_id=None)
    return promoted


@dataclass
class Attendee:
    registration: Registration
    user: User


async def registrations(*, session: AsyncSession, session_id: int) -> list[Attendee]:
    """Everyone with a place or waiting, in the order they asked."""
    rows = await session.exec(
        select(Registration, User)
        .join(User, col(User.id) == Registration.user_id)
        .where(Registration.session_id == session_id, Registration.status != RegistrationStatus.CANCELLED)
        .order_by(col(Registration.status), col(Registration.queued_at), col(Registration.id))
    )
    return [Attendee(registration=r, user=u) for r, u in rows.all()]


async def set_attendance(*, session: AsyncSession, cs: CocreationSession, attended_user_ids: set[int]) -> int:
    """Marks who came among the people with a place; returns how many came."""
    await session.exec(
        update(Registration)
        .where(
            col(Registration.session_id) == cs.id, col(Registration.status) == RegistrationStatus.REGISTERED
        )
        .values(attended=col(Registration.user_id).in_(attended_user_ids or {0}))
    )
    came = await session.exec(
        select(func.count())
        .select_from(Registration)
        .where(Registration.session_id == cs.id, col(Registration.attended))
    )
    count = came.one()
    await session.flush()
    return count


async def is_attendee(*, session: AsyncSession, session_id: int, user_id: int) -> bool:
    """Has a place in the session (or was marked present): who may vote on its ballots."""
    found = await session.exec(
        select(Registration.id).where(
            Registration.session_id == session_id,
            Registration.user_id == user_id,
            (col(Registration.status) == RegistrationStatus.REGISTERED) | col(Registration.attended),
        )
    )
    return found.first() is not None


async def save_minutes(
    *, session: AsyncSession, cs: CocreationSession, minutes: str, outcomes: str, idea_ids: list[int]
) -> None:
    errors: dict[str, str] = {}
    minutes = clean_text(minutes, field="minutes", errors=errors, max_length=MINUTES_MAX, required=False)
    outcomes = clean_text(outcomes, field="outcomes", errors=errors, max_length=MINUTES_MAX, required=False)
    wanted = set(idea_ids)
    if wanted:
        found = await session.exec(
            select(Idea.id).where(col(Idea.id).in_(wanted), Idea.workspace_id == cs.workspace_id)
        )
        if set(found.all()) != wanted:
            errors["idea_ids"] = _("Choose ideas of this workspace.")
    if errors:
        raise FormError(errors)
    cs.minutes, cs.minutes_html = minutes, markdown.render(minutes)
    cs.outcomes, cs.outcomes_html = outcomes, markdown.render(outcomes)
    cs.updated_at = utcnow()
    session.add(cs)
    linked = set(
        (await session.exec(select(SessionIdea.idea_id).where(SessionIdea.session_id == cs.id))).all()
    )
    if linked - wanted:
        await session.exec(
            delete(SessionIdea).where(
                col(SessionIdea.session_id) == cs.id, col(SessionIdea.idea_id).in_(linked - wanted)
            )
        )
    for idea_id in sorted(wanted - linked):
        session.add(SessionIdea(session_id=cs.id, idea_id=idea_id))
    await session.flush()


LINKABLE_IDEAS = 200


async def linkable_ideas(*, session: AsyncSession, cs: CocreationSession, chosen: list[int]) -> list[Idea]:
    """The ideas a moderator may link in the minutes: the workspace's latest, and those already chosen."""
    recent = await session.exec(
        select(Idea)
        .where(Idea.workspace_id == cs.workspace_id, col(Idea.hidden_at).is_(None))
        .order_by(col(Idea.created_at).desc(), col(Idea.id).desc())
        .limit(LINKABLE_IDEAS)
    )
    ideas = list(recent.all())
    missing = set(chosen) - {idea.id for idea in ideas}
    if missing:
        extra = await session.exec(
            select(Idea).where(col(Idea.id).in_(missing), Idea.workspace_id == cs.workspace_id)
        )
        ideas.extend(extra.all())
    return ideas


@dataclass
class BoardIdea:
    idea: Idea
    agenda_item_id: int | None


async def ideas_of(*, session: AsyncSession, session_id: int) -> list[BoardIdea]:
    rows = await session.exec(
        select(Idea, SessionIdea.agenda_item_id)
        .join(SessionIdea, col(SessionIdea.idea_id) == Idea.id)
        .where(SessionIdea.session_id == session_id, col(Idea.hidden_at).is_(None))
        .order_by(col(SessionIdea.created_at), col(SessionIdea.id))
    )
    return [BoardIdea(idea=idea, agenda_item_id=item_id) for idea, item_id in rows.all()]


async def link_idea(*, session: AsyncSession, cs: CocreationSession, idea: Idea) -> None:
    """Puts an idea posted in the live room on the board, under the agenda item the host is on."""
    try:
        async with session.begin_nested():
            session.add(SessionIdea(session_id=cs.id, idea_id=idea.id, agenda_item_id=cs.current_item_id))
    except IntegrityError:
        return
    await live.publish(
        session,
        channel=channel(cs.id),
        kind="idea",
        data={"idea_id": idea.id, "agenda_item_id": cs.current_item_id},
    )
    await session.flush()


async def on_board(*, session: AsyncSession, session_id: int, idea_id: int) -> bool:
    found = await session.exec(
        select(SessionIdea.id).where(SessionIdea.session_id == session_id, SessionIdea.idea_id == idea_id)
    )
    return found.first() is not None


async def move_agenda(*, session: AsyncSession, cs: CocreationSession, item_id: int) -> AgendaItem:
    item = await session.get(AgendaItem, item_id)
    if item is None or item.session_id != cs.id:
        raise Refused(_("Choose an item of this session's agenda."))
    if cs.status != SessionStatus.LIVE:
        raise Refused(_("The session is not live."))
    await session.exec(
        update(CocreationSession).where(col(CocreationSession.id) == cs.id).values(current_item_id=item.id)
    )
    cs.current_item_id = item.id
    await live.publish(session, channel=channel(cs.id), kind="agenda", data={"item_id": item.id})
    await session.flush()
    return item


async def publish_support(*, session: AsyncSession, cs: CocreationSession, idea_id: int, count: int) -> None:
    await live.publish(
        session, channel=channel(cs.id), kind="support", data={"idea_id": idea_id, "count": count}
    )
    await session.flush()


async def calendar_sessions(*, session: AsyncSession, workspace_id: int) -> list[CocreationSession]:
    """What a workspace's calendar feed lists: every published session of the last year and later."""
    rows = await session.exec(
        select(CocreationSession)
        .where(
            CocreationSession.workspace_id == workspace_id,
            col(CocreationSession.status) != SessionStatus.DRAFT,
            col(CocreationSession.ends_at) >= utcnow() - timedelta(days=365),
        )
        .order_by(col(CocreationSession.starts_at))
        .limit(500)
    )
    return list(rows.all())

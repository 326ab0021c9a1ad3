"""Ideas: posting and editing, tags and place, moderators' status changes, supports, and listings."""

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, distinct, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core import markdown
from app.core.db import utcnow
from app.core.events import publish
from app.core.forms import FormError, clean_text, parse_coordinate, whole_number
from app.core.i18n import N_, _
from app.core.taxonomy import taxonomy
from app.ideas.events import IdeaPosted, IdeaStatusChanged
from app.ideas.models import Idea, IdeaStatus, IdeaStatusChange, IdeaTag, Support
from app.topics.models import Topic, TopicSeed
from app.workspaces import service as workspace_service
from app.workspaces.models import Activity, Workspace

TITLE_MAX = 200
BODY_MAX = 20_000
PLACE_MAX = 200
NOTE_MAX = 2000
TAGS_MAX = 8
PAGE_SIZE = 20

STATUS_LABELS = {
    IdeaStatus.PROPOSED: N_("Proposed"),
    IdeaStatus.UNDER_DISCUSSION: N_("Under discussion"),
    IdeaStatus.SHORTLISTED: N_("Shortlisted"),
    IdeaStatus.SELECTED: N_("Selected"),
    IdeaStatus.IN_IMPLEMENTATION: N_("In implementation"),
    IdeaStatus.IMPLEMENTED: N_("Implemented"),
    IdeaStatus.NOT_PURSUED: N_("Not pursued"),
}
SORTS = {
    "newest": N_("Newest"),
    "supported": N_("Most supported"),
    "discussed": N_("Most discussed"),
    "active": N_("Recently active"),
}


@dataclass
class IdeaInput:
    title: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    topic_id: str = ""
    latitude: str = ""
    longitude: str = ""
    place_name: str = ""


async def _clean(session: AsyncSession, workspace: Workspace, data: IdeaInput) -> dict:
    errors: dict[str, str] = {}
    values = {
        "title": clean_text(data.title, field="title", errors=errors, max_length=TITLE_MAX),
        "body": clean_text(data.body, field="body", errors=errors, max_length=BODY_MAX, required=False),
        "place_name": clean_text(
            data.place_name, field="place_name", errors=errors, max_length=PLACE_MAX, required=False
        ),
    }
    tags = list(dict.fromkeys(data.tags))
    if any(taxonomy().tag(tag) is None for tag in tags):
        errors["tags"] = _("Choose tags from the list.")
    elif len(tags) > TAGS_MAX:
        errors["tags"] = _("Choose at most %(max)s tags.", max=TAGS_MAX)
    values["tags"] = tags
    values["topic_id"] = None
    if data.topic_id.strip():
        topic_id = whole_number(data.topic_id)
        topic = await session.get(Topic, topic_id) if topic_id is not None else None
        if topic is None or topic.workspace_id != workspace.id:
            errors["topic_id"] = _("Choose a topic of this workspace.")
        else:
            values["topic_id"] = topic.id
    latitude, longitude = data.latitude.strip(), data.longitude.strip()
    values["latitude"] = values["longitude"] = None
    if latitude or longitude:
        values["latitude"] = parse_coordinate(latitude, -90, 90)
        values["longitude"] = parse_coordinate(longitude, -180, 180)
        if values["latitude"] is None:
            errors["latitude"] = _("Latitude is a number from -90 to 90.")
        if values["longitude"] is None:
            errors["longitude"] = _("Longitude is a number from -180 to 180.")
    if errors:
        raise FormError(errors)
    return values


def _set_tags(session: AsyncSession, idea_id: int, tags: list[str]) -> None:
    session.add_all(IdeaTag(idea_id=idea_id, tag=tag) for tag in tags)


async def create(*, session: AsyncSession, workspace: Workspace, author: User, data: IdeaInput) -> Idea:
    values = await _clean(session, workspace, data)
    tags = values.pop("tags")
    now = utcnow()
    idea = Idea(
        **values,
        workspace_id=workspace.id,
        author_id=author.id,
        body_html=markdown.render(values["body"]),
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    session.add(idea)
    await session.flush()
    _set_tags(session, idea.id, tags)
    await workspace_service.count_ideas(session, workspace.id, 1)
    workspace_service.record_activity(
        session, workspace_id=workspace.id, actor_id=author.id, kind="idea_posted", idea_id=idea.id
    )
    await publish(session, IdeaPosted(workspace=workspace, idea=idea, author_id=author.id))
    await session.flush()
    return idea


async def update_idea(*, session: AsyncSession, workspace: Workspace, idea: Idea, data: IdeaInput) -> Idea:
    values = await _clean(session, workspace, data)
    tags = values.pop("tags")
    for name, value in values.items():
        setattr(idea, name, value)
    idea.body_html = markdown.render(idea.body)
    idea.updated_at = idea.last_activity_at = utcnow()
    session.add(idea)
    await session.exec(delete(IdeaTag).where(col(IdeaTag.idea_id) == idea.id))
    _set_tags(session, idea.id, tags)
    await session.flush()
    return idea


async def get(*, session: AsyncSession, workspace_id: int, idea_id: int) -> Idea | None:
    idea = await session.get(Idea, idea_id)
    return idea if idea is not None and idea.workspace_id == workspace_id else None


@functools.cache
def _tags_statement():
    return (
        select(IdeaTag.idea_id, IdeaTag.tag)
        .where(col(IdeaTag.idea_id).in_(sa.bindparam("idea_ids", expanding=True)))
        .order_by(IdeaTag.id)
    )


async def tags_of(*, session: AsyncSession, idea_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {idea_id: [] for idea_id in idea_ids}
    if idea_ids:
        rows = await session.exec(_tags_statement(), params={"idea_ids": list(idea_ids)})
        for idea_id, tag in rows:
            found[idea_id].append(tag)
    return found


async def change_status(
    *, session: AsyncSession, workspace: Workspace, idea: Idea, moderator: User, status: str, note: str
) -> Idea:
    """Moves the idea to a new status, kept in its public history; its author is told."""
    errors: dict[str, str] = {}
    if status not in STATUS_LABELS:
        errors["status"] = _("Choose a status from the list.")
    elif status == idea.status:
        errors["status"] = _("The idea already has this status.")
    note = clean_text(note, field="note", errors=errors, max_length=NOTE_MAX, required=False)
    if errors:
        raise FormError(errors)
    session.add(
        IdeaStatusChange(
            idea_id=idea.id, from_status=idea.status, to_status=status, note=note, changed_by_id=moderator.id
        )
    )
    idea.status = status
    idea.last_activity_at = utcnow()
    session.add(idea)
    workspace_service.record_activity(
        session, workspace_id=workspace.id, actor_id=moderator.id, kind="idea_status", idea_id=idea.id
    )
    await publish(session, IdeaStatusChanged(workspace=workspace, idea=idea, moderator_id=moderator.id))
    await session.flush()
    return idea


@functools.cache
def _history_statement():
    return (
        select(IdeaStatusChange, User.display_name)
        .outerjoin(User, col(User.id) == IdeaStatusChange.changed_by_id)
        .where(col(IdeaStatusChange.idea_id) == sa.bindparam("idea_id"))
        .order_by(col(IdeaStatusChange.created_at).desc(), col(IdeaStatusChange.id).desc())
    )


async def status_history(*, session: AsyncSession, idea_id: int) -> list[tuple[IdeaStatusChange, str | None]]:
    """The idea's status changes, newest first, each with the name of who made it (None for
    someone no longer there)."""
    return list((await session.exec(_history_statement(), params={"idea_id": idea_id})).all())


@dataclass
class ReaderView:
    """What an idea's page shows around the idea for one reader."""

    author_name: str | None
    supported: bool
    topic: dict | None  # id and title


@functools.cache
def _reader_view_statement():
    author = select(User.display_name).where(col(User.id) == sa.bindparam("author_id")).scalar_subquery()
    supported = sa.exists().where(
        col(Support.idea_id) == sa.bindparam("idea_id"), col(Support.user_id) == sa.bindparam("reader_id")
    )
    topic = select(Topic.title).where(col(Topic.id) == sa.bindparam("topic_id")).scalar_subquery()
    return select(author, supported, topic)


async def reader_view(*, session: AsyncSession, idea: Idea, user: User | None) -> ReaderView:
    """The idea's author's name, whether the reader supports it, and its topic: one statement."""
    params = {
        "author_id": idea.author_id,
        "idea_id": idea.id,
        "reader_id": user.id if user else None,
        "topic_id": idea.topic_id,
    }
    author_name, supported, topic_title = (await session.exec(_reader_view_statement(), params=params)).one()
    topic = {"id": idea.topic_id, "title": topic_title} if topic_title is not None else None
    return ReaderView(author_name=author_name, supported=bool(supported), topic=topic)


# An idea's counters belong to this domain: comments and privacy change them through these.


async def count_comments(session: AsyncSession, idea_id: int, delta: int, *, at=None) -> None:
    """Moves the idea's comment count by ``delta`` in one relative UPDATE (comments posted at the same
    moment are all counted); ``at``, for a new comment, is the idea's latest activity."""
    values = {"comment_count": Idea.comment_count + delta}
    if at is not None:
        values["last_activity_at"] = at
    await session.exec(update(Idea).where(col(Idea.id) == idea_id).values(**values))


async def count_supports(session: AsyncSession, idea_ids: int | sa.Select, delta: int) -> None:
    """Moves the support count of an idea (or of each one a subquery selects) by ``delta``."""
    where = col(Idea.id) == idea_ids if isinstance(idea_ids, int) else col(Idea.id).in_(idea_ids)
    await session.exec(update(Idea).where(where).values(support_count=Idea.support_count + delta))


async def toggle_support(*, session: AsyncSession, idea: Idea, user: User) -> tuple[bool, int]:
    """Adds this user's support, or takes it back if they had given it. The unique constraint and
    a relative UPDATE keep the count right when two requests race. Returns (supported, count)."""
    removed = await session.exec(
        delete(Support).where(col(Support.idea_id) == idea.id, col(Support.user_id) == user.id)
    )
    if removed.rowcount:
        delta, supported = -1, False
    else:
        try:
            async with session.begin_nested():
                session.add(Support(idea_id=idea.id, user_id=user.id))
        except IntegrityError:
            delta, supported = 0, True
        else:
            delta, supported = 1, True
    if delta:
        await count_supports(session, idea.id, delta)
    await session.flush()
    count = (await session.exec(select(Idea.support_count).where(Idea.id == idea.id))).one()
    return supported, count


@dataclass
class IdeaFilters:
    topic_id: int | None = None
    tag: str = ""
    status: str = ""
    sort: str = "newest"
    page: int = 1


def filters_from_query(*, topic: str, tag: str, status: str, sort: str, page: int) -> IdeaFilters:
    """Listing filters from a page's query string; anything unknown falls back to no filter."""
    return IdeaFilters(
        topic_id=whole_number(topic),
        tag=tag if taxonomy().tag(tag) else "",
        status=status if status in STATUS_LABELS else "",
        sort=sort if sort in SORTS else "newest",
        page=max(1, min(page, 10_000)),
    )


@dataclass
class IdeaListing:
    """A page of ideas as a list shows them: each a row of ``CARD_COLUMNS`` (``id``, ``title``,
    ``author_name``, ``supported`` by the reader, ...), not a whole idea."""

    ideas: list[sa.Row]
    tags: dict[int, list[str]]
    has_next: bool
    filters: IdeaFilters = field(default_factory=IdeaFilters)


# What an idea's card in a list shows, and nothing more (no body): read as plain rows.
CARD_COLUMNS = (
    Idea.id,
    Idea.title,
    Idea.author_id,
    Idea.created_at,
    Idea.status,
    Idea.support_count,
    Idea.comment_count,
)
LISTING_ORDER = {
    "supported": (col(Idea.support_count).desc(), col(Idea.id).desc()),
    "discussed": (col(Idea.comment_count).desc(), col(Idea.id).desc()),
    "active": (col(Idea.last_activity_at).desc(), col(Idea.id).desc()),
    "newest": (col(Idea.created_at).desc(), col(Idea.id).desc()),
}


@functools.cache
def _listing_statement(*, topic: bool, status: bool, tag: bool, sort: str):
    """The listing's statement for one combination of filters, built once: the workspace, the reader,
    the filters' values and the page are bound parameters. Each card comes with its author's name and
    whether the reader supports it."""
    supported = (
        sa.exists()
        .where(col(Support.idea_id) == Idea.id, col(Support.user_id) == sa.bindparam("reader_id"))
        .label("supported")
    )
    # The tags as "id:key" pairs in one string (group_concat, string_agg), put in order in Python: neither
    # database keeps an order inside the aggregate here (SQLite before 3.44 has no ORDER BY in it).
    tags = (
        select(sa.func.aggregate_strings(sa.cast(IdeaTag.id, sa.String) + ":" + IdeaTag.tag, ","))
        .where(col(IdeaTag.idea_id) == Idea.id)
        .scalar_subquery()
        .label("tag_pairs")
    )
    statement = (
        select(*CARD_COLUMNS, col(User.display_name).label("author_name"), supported, tags)
        .outerjoin(User, col(User.id) == Idea.author_id)
        .where(col(Idea.workspace_id) == sa.bindparam("workspace_id"), col(Idea.hidden_at).is_(None))
    )
    if topic:
        statement = statement.where(col(Idea.topic_id) == sa.bindparam("topic_id"))
    if status:
        statement = statement.where(col(Idea.status) == sa.bindparam("status"))
    if tag:
        statement = statement.where(
            col(Idea.id).in_(select(IdeaTag.idea_id).where(col(IdeaTag.tag) == sa.bindparam("tag")))
        )
    return (
        statement.order_by(*LISTING_ORDER[sort])
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def _tags_in_order(pairs: str | None) -> list[str]:
    """The tag keys of ``"id:key,id:key"``, in the order they were given (by id)."""
    if not pairs:
        return []
    split = (pair.split(":", 1) for pair in pairs.split(","))
    return [key for _id, key in sorted(split, key=lambda pair: int(pair[0]))]


async def list_ideas(
    *, session: AsyncSession, workspace: Workspace, filters: IdeaFilters, user: User | None
) -> IdeaListing:
    """A page of a workspace's ideas, filtered and sorted, with authors, tags and the reader's
    supports: one query whatever the page holds."""
    statement = _listing_statement(
        topic=filters.topic_id is not None,
        status=filters.status in STATUS_LABELS,
        tag=bool(filters.tag),
        sort=filters.sort if filters.sort in LISTING_ORDER else "newest",
    )
    params = {
        "workspace_id": workspace.id,
        "reader_id": user.id if user else None,
        "topic_id": filters.topic_id,
        "status": filters.status,
        "tag": filters.tag,
        "offset": (filters.page - 1) * PAGE_SIZE,
        "limit": PAGE_SIZE + 1,
    }
    rows = list((await session.exec(statement, params=params)).all())
    ideas = rows[:PAGE_SIZE]
    return IdeaListing(
        ideas=ideas,
        tags={idea.id: _tags_in_order(idea.tag_pairs) for idea in ideas},
        has_next=len(rows) > PAGE_SIZE,
        filters=filters,
    )


# At most this many markers on a workspace's map: the newest ideas with a place.
MAP_IDEAS_MAX = 500


async def placed_ideas(*, session: AsyncSession, workspace_id: int) -> list[dict]:
    """The ideas of a workspace that have a place, for its map: visible ones only (not hidden), newest
    first, in one query that reads only what a marker needs."""
    rows = await session.exec(
        select(Idea.id, Idea.title, Idea.latitude, Idea.longitude)
        .where(
            Idea.workspace_id == workspace_id,
            col(Idea.hidden_at).is_(None),
            col(Idea.latitude).is_not(None),
            col(Idea.longitude).is_not(None),
        )
        .order_by(col(Idea.id).desc())
        .limit(MAP_IDEAS_MAX)
    )
    return [{"id": id_, "title": title, "lat": lat, "lng": lng} for id_, title, lat, lng in rows.all()]


# Reads that show ideas in a lower domain's terms: a workspace's feed, a seeded topic's cities.

FEED_SIZE = 30
TOP_IDEAS = 10


@functools.cache
def _feed_statement():
    """The workspace's activity, newest first, with the names of the people involved, built once."""
    actor, subject = sa.orm.aliased(User), sa.orm.aliased(User)
    return (
        select(
            Activity.kind,
            Activity.created_at,
            col(actor.display_name).label("actor_name"),
            col(subject.display_name).label("subject_name"),
        )
        .outerjoin(Idea, col(Idea.id) == Activity.idea_id)
        .outerjoin(actor, col(actor.id) == Activity.actor_id)
        .outerjoin(subject, col(subject.id) == Activity.subject_id)
        .where(col(Activity.workspace_id) == sa.bindparam("workspace_id"), col(Idea.hidden_at).is_(None))
        .order_by(col(Activity.created_at).desc(), col(Activity.id).desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


async def feed(*, session: AsyncSession, workspace_id: int, limit: int = FEED_SIZE) -> list[sa.Row]:
    """The workspace's activity, newest first: rows of ``kind``, ``created_at``, ``actor_name`` and
    ``subject_name`` (None for someone no longer there), in one query."""
    result = await session.exec(_feed_statement(), params={"workspace_id": workspace_id, "limit": limit})
    return list(result.all())


@dataclass
class SeedRow:
    workspace: Workspace
    topic: Topic
    ideas: int
    comments: int
    participants: int


@dataclass
class SeedOverview:
    seed: TopicSeed
    topic: Topic
    rows: list[SeedRow]
    top_ideas: list[tuple[Idea, Workspace]]


async def seed_overview(*, session: AsyncSession, seed_id: int) -> SeedOverview | None:
    """The seeded topic across cities: ideas, comments and participants per workspace, and the most
    supported ideas everywhere. Three queries, whatever the number of workspaces."""
    topic_seed = await session.get(TopicSeed, seed_id)
    if topic_seed is None:
        return None
    stats = await session.exec(
        select(
            Topic,
            Workspace,
            func.count(distinct(Idea.id)),
            func.coalesce(func.sum(Idea.comment_count), 0),
            func.count(distinct(Idea.author_id)),
        )
        .join(Workspace, col(Workspace.id) == Topic.workspace_id)
        .outerjoin(Idea, (col(Idea.topic_id) == Topic.id) & col(Idea.hidden_at).is_(None))
        .where(Topic.seed_id == seed_id)
        .group_by(Topic.id, Workspace.id)
        .order_by(Workspace.id)
    )
    rows = [
        SeedRow(workspace=w, topic=t, ideas=ideas, comments=int(comments), participants=people)
        for t, w, ideas, comments, people in stats.all()
    ]
    if not rows:
        return None
    top = await session.exec(
        select(Idea, Workspace)
        .join(Topic, col(Topic.id) == Idea.topic_id)
        .join(Workspace, col(Workspace.id) == Idea.workspace_id)
        .where(Topic.seed_id == seed_id, col(Idea.hidden_at).is_(None))
        .order_by(col(Idea.support_count).desc(), col(Idea.id))
        .limit(TOP_IDEAS)
    )
    return SeedOverview(seed=topic_seed, topic=rows[0].topic, rows=rows, top_ideas=list(top.all()))

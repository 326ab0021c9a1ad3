"""Reading ballots and papers, and the statements that write papers: each query a page or a vote
needs, built once where building it costs more than running it. Nothing here decides a rule or
commits."""

import functools
import json
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import col, exists, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import AuthSession, User
from app.cocreation.models import CocreationSession
from app.core.db import DriverQuery, Mode, bind_of, driver, loaded_models, runs_on_driver, unit_of
from app.core.security import token_digest
from app.ideas.models import Idea
from app.voting import rules
from app.voting.models import (
    Ballot,
    BallotOption,
    Vote,
)
from app.workspaces.models import Membership, Workspace


async def get(*, session: AsyncSession, workspace_id: int, ballot_id: int) -> Ballot | None:
    ballot = await session.get(Ballot, ballot_id)
    return ballot if ballot is not None and ballot.workspace_id == workspace_id else None


@functools.cache
def _options_query():
    return (
        select(BallotOption)
        .where(col(BallotOption.ballot_id) == bindparam("ballot_id"))
        .order_by(col(BallotOption.position))
    )


async def options_of(*, session: AsyncSession, ballot_id: int) -> list[BallotOption]:
    rows = await session.exec(_options_query(), params={"ballot_id": ballot_id})
    return list(rows.all())


# A ballot's options are made with it and never change: the busiest request, a vote through the ballot
# page, takes them from the process's memory. An entry is dropped when the ballot closes here, and after
# a minute in any case (an idea an option links to may have been removed since).
OPTIONS_TTL_SECONDS = 60.0
OPTIONS_CACHED_MAX = 500
# By the ballot's id and creation time: an id of a ballot whose creation was rolled back may come again.
_cached_options: dict[tuple[int, datetime], tuple[float, list[BallotOption]]] = {}


async def options_cached(*, session: AsyncSession, ballot: Ballot) -> list[BallotOption]:
    """``options_of``, from this process's memory when it read them less than a minute ago. The
    options are copies, in no session: for reading only."""
    now = time.monotonic()
    key = (ballot.id, ballot.created_at)
    found = _cached_options.get(key)
    if found is not None and now - found[0] < OPTIONS_TTL_SECONDS:
        return found[1]
    loaded = await options_of(session=session, ballot_id=ballot.id)
    options = [BallotOption.model_construct(**row.model_dump()) for row in loaded]
    if len(_cached_options) >= OPTIONS_CACHED_MAX:
        del _cached_options[next(iter(_cached_options))]  # the oldest entry
    _cached_options[key] = (now, options)
    return options


def forget_options(ballot: Ballot) -> None:
    """Drops a ballot's options from this process's memory (it closed: no one votes on it any more)."""
    _cached_options.pop((ballot.id, ballot.created_at), None)


async def list_ballots(
    *,
    session: AsyncSession,
    workspace_id: int,
    session_id: int | None = None,
    limit: int = 50,
    with_draft_sessions: bool = True,
) -> list[Ballot]:
    """Newest first. Without ``with_draft_sessions``, ballots of unpublished sessions are left out."""
    statement = select(Ballot).where(Ballot.workspace_id == workspace_id)
    if not with_draft_sessions:
        statement = statement.outerjoin(
            CocreationSession, col(CocreationSession.id) == Ballot.session_id
        ).where(col(Ballot.session_id).is_(None) | (col(CocreationSession.status) != "draft"))
    if session_id is not None:
        statement = statement.where(Ballot.session_id == session_id)
    rows = await session.exec(
        statement.order_by(col(Ballot.opens_at).desc(), col(Ballot.id).desc()).limit(limit)
    )
    return list(rows.all())


@functools.cache
def _turnout_query():
    return select(func.count()).select_from(Vote).where(col(Vote.ballot_id) == bindparam("ballot_id"))


async def turnout(*, session: AsyncSession, ballot_id: int) -> int:
    """How many papers the ballot holds (built once: it runs after every vote)."""
    return (await session.exec(_turnout_query(), params={"ballot_id": ballot_id})).one()


async def vote_counts(*, session: AsyncSession, ballot_ids: list[int]) -> dict[int, int]:
    if not ballot_ids:
        return {}
    rows = await session.exec(
        select(Vote.ballot_id, func.count())
        .where(col(Vote.ballot_id).in_(ballot_ids))
        .group_by(Vote.ballot_id)
    )
    return dict(rows.all())


@dataclass
class Standing:
    """Where a user stands towards a ballot: its workspace, their membership, its session's status."""

    workspace: Workspace
    membership: Membership | None
    session_status: str | None


@functools.cache
def _standing_query():
    return (
        select(Ballot, Workspace, Membership, CocreationSession.status)
        .join(Workspace, col(Workspace.id) == Ballot.workspace_id)
        .outerjoin(
            Membership,
            (col(Membership.workspace_id) == Ballot.workspace_id)
            & (col(Membership.user_id) == bindparam("user_id")),
        )
        .outerjoin(CocreationSession, col(CocreationSession.id) == Ballot.session_id)
        .where(col(Ballot.id) == bindparam("ballot_id"))
    )


async def ballot_standing(
    *, session: AsyncSession, ballot_id: int, user: User | None
) -> tuple[Ballot, Standing] | None:
    """One query for what the vote API checks before a vote: the ballot, its workspace, the user's
    membership there and the status of the ballot's session; None when there is no such ballot."""
    params = {"user_id": user.id if user else None, "ballot_id": ballot_id}
    row = (await session.exec(_standing_query(), params=params)).first()
    if row is None:
        return None
    return row[0], Standing(workspace=row[1], membership=row[2], session_status=row[3])


async def my_vote(
    *, session: AsyncSession, ballot: Ballot, user: User | None, secret_key: str
) -> Vote | None:
    if user is None:
        return None
    key = rules.voter_key(secret_key=secret_key, ballot_id=ballot.id, user_id=user.id)
    return (
        await session.exec(select(Vote).where(Vote.ballot_id == ballot.id, Vote.voter_key == key))
    ).first()


@functools.cache
def upsert_paper(dialect: str):
    """The voter's paper, inserted or replaced by one INSERT .. ON CONFLICT DO UPDATE, unless the ballot
    was closed early: then no row comes back. Built once per dialect (building it costs more than
    running it); parameters ``ballot_id``, ``voter_key``, ``voter_id``, ``choices``, ``stamp``.

    The close is checked in the same statement, so a vote counts exactly when its statement began
    before the close committed: a close never leaves a paper added after it."""
    columns = Vote.__table__.c
    still_open = ~exists().where(
        col(Ballot.id) == bindparam("ballot_id"), col(Ballot.closed_early_at).is_not(None)
    )
    values = select(
        bindparam("ballot_id", type_=columns.ballot_id.type),
        bindparam("voter_key", type_=columns.voter_key.type),
        bindparam("voter_id", type_=columns.voter_id.type),
        bindparam("choices", type_=columns.choices.type),
        bindparam("stamp", type_=columns.cast_at.type),
        bindparam("stamp", type_=columns.updated_at.type),
    ).where(still_open)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Vote.__table__).from_select(
        [
            columns.ballot_id,
            columns.voter_key,
            columns.voter_id,
            columns.choices,
            columns.cast_at,
            columns.updated_at,
        ],
        values,
    )
    return statement.on_conflict_do_update(
        index_elements=["ballot_id", "voter_key"],
        set_={"choices": statement.excluded.choices, "updated_at": statement.excluded.updated_at},
        where=still_open,
    ).returning(columns.cast_at)


def _voter_standing_select(option_ids):
    """The sign-in behind a cookie's digest and the voter's standing on a ballot, with ``option_ids``
    (the ballot's option ids in their order, as the database aggregates them) as the last column."""
    return (
        select(AuthSession, User, Ballot, Workspace, Membership, CocreationSession.status, option_ids)
        .select_from(AuthSession)
        .join(User, col(User.id) == AuthSession.user_id)
        .outerjoin(Ballot, col(Ballot.id) == bindparam("ballot_id"))
        .outerjoin(Workspace, col(Workspace.id) == Ballot.workspace_id)
        .outerjoin(
            Membership,
            (col(Membership.workspace_id) == Ballot.workspace_id) & (col(Membership.user_id) == User.id),
        )
        .outerjoin(CocreationSession, col(CocreationSession.id) == Ballot.session_id)
        .where(col(AuthSession.token_hash) == bindparam("digest"))
    )


@functools.cache
def driver_queries() -> tuple[DriverQuery, DriverQuery]:
    """The vote's two statements compiled for asyncpg: the voter's standing (option ids as an array)
    and the paper's upsert."""
    option_ids = (
        select(func.array_agg(aggregate_order_by(col(BallotOption.id), col(BallotOption.position))))
        .where(col(BallotOption.ballot_id) == col(Ballot.id))
        .scalar_subquery()
    )
    return DriverQuery(_voter_standing_select(option_ids)), DriverQuery(upsert_paper("postgresql"))


@dataclass
class VoterStanding:
    """What a vote needs to know of its ballot, beside who votes: the ballot (None when there is no such
    ballot), where the voter stands towards it and its options' ids in their order."""

    ballot: Ballot | None
    standing: Standing | None
    option_ids: list[int]


@functools.cache
def _voter_standing_query(dialect: str):
    """``_voter_standing_select`` for the dialect: the ballot's option ids come as an array on
    PostgreSQL and as a JSON list elsewhere."""
    if dialect == "postgresql":
        return driver_queries()[0]
    ordered = (
        select(BallotOption.id)
        .where(col(BallotOption.ballot_id) == bindparam("ballot_id"))
        .order_by(col(BallotOption.position))
        .subquery()
    )
    return _voter_standing_select(select(func.json_group_array(ordered.c.id)).scalar_subquery())


async def voter_standing(
    *, session: AsyncSession, token: str, ballot_id: int
) -> tuple[AuthSession | None, User | None, VoterStanding]:
    """The login session behind the cookie ``token`` and its user (None when there is none, live or not:
    ``app.accounts.service.live_session`` decides), with the voter's standing on the ballot, in one
    statement: for ``SignIn.load_with``. On PostgreSQL it runs straight on asyncpg."""
    bind = bind_of(unit_of(session).factory) if unit_of(session) else session.bind
    params = {"digest": token_digest(token), "ballot_id": ballot_id}
    if runs_on_driver(bind):
        async with driver(bind) as raw:
            rows = await _voter_standing_query("postgresql").fetch(raw, **params)
        row = loaded_models(rows[0], (AuthSession, User, Ballot, Workspace, Membership)) if rows else None
    else:
        found = (await session.exec(_voter_standing_query(bind.dialect.name), params=params)).first()
        row = list(found) if found is not None else None
        if row is not None:
            row[-1] = json.loads(row[-1]) if row[-1] else []
    if row is None:
        return None, None, VoterStanding(None, None, [])
    auth_session, user, ballot, workspace, membership, session_status, option_ids = row
    standing = None
    if ballot is not None:
        standing = Standing(workspace=workspace, membership=membership, session_status=session_status)
    return auth_session, user, VoterStanding(ballot, standing, list(option_ids or []))


async def write_paper(*, session: AsyncSession, params: dict) -> datetime | None:
    """Stores a paper by ``upsert_paper``'s one statement; returns its ``cast_at``, or None when the ballot
    was closed. On PostgreSQL, while the unit of work runs its statements alone (``Mode.ALONE``, no
    transaction begun), the statement goes straight to asyncpg and commits by itself."""
    unit = unit_of(session)
    bind = bind_of(unit.factory) if unit else session.bind
    if runs_on_driver(bind) and unit is not None and unit.mode is Mode.ALONE and not session.in_transaction():
        async with driver(bind) as raw:
            rows = await driver_queries()[1].fetch(
                raw, **{**params, "choices": json.dumps(params["choices"])}
            )
        return rows[0][0] if rows else None
    result = await session.exec(upsert_paper(bind.dialect.name), params=params)
    return result.scalar_one_or_none()


async def papers(*, session: AsyncSession, ballot: Ballot) -> list[Vote]:
    """Every paper, in the order of their keys: for an anonymous ballot an order that says nothing."""
    rows = await session.exec(select(Vote).where(Vote.ballot_id == ballot.id).order_by(col(Vote.voter_key)))
    return list(rows.all())


CANDIDATE_IDEAS = 200


async def candidate_ideas(*, session: AsyncSession, workspace_id: int) -> list[Idea]:
    """Ideas to put on a ballot: the shortlisted ones first, then the most supported."""
    rows = await session.exec(
        select(Idea)
        .where(Idea.workspace_id == workspace_id, col(Idea.hidden_at).is_(None))
        .order_by((col(Idea.status) == "shortlisted").desc(), col(Idea.support_count).desc(), col(Idea.id))
        .limit(CANDIDATE_IDEAS)
    )
    return list(rows.all())


# Anonymous ballots whose keys are looked up in one query.
KEY_BATCH = 500


async def papers_of_voter(
    *, session: AsyncSession, secret_key: str, user_id: int
) -> list[tuple[Vote, Ballot]]:
    """Every paper the person cast, with its ballot: by their id where the ballot names its voters,
    and on anonymous ballots, which store no id, by working their keyed hash out again for each
    anonymous ballot (only the server, holding the secret, can)."""
    statement = select(Vote, Ballot).join(Ballot, col(Ballot.id) == Vote.ballot_id)
    found = list((await session.exec(statement.where(col(Vote.voter_id) == user_id))).all())
    anonymous = (
        await session.exec(select(Ballot.id).where(col(Ballot.anonymous)).order_by(col(Ballot.id)))
    ).all()
    keys = [
        (ballot_id, rules.voter_key(secret_key=secret_key, ballot_id=ballot_id, user_id=user_id))
        for ballot_id in anonymous
    ]
    for start in range(0, len(keys), KEY_BATCH):
        pairs = tuple_(col(Vote.ballot_id), col(Vote.voter_key)).in_(keys[start : start + KEY_BATCH])
        found += (await session.exec(statement.where(pairs))).all()
    return sorted(found, key=lambda row: row[1].id)

"""Ballots: creating them, casting and changing votes (one paper per voter, also when two requests
race), who may vote and see results, tallies, and the CSV exports anyone can recount from."""

import functools
import hashlib
import hmac
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import col, delete, exists, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import AuthSession, User
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession
from app.core import live
from app.core.db import DriverQuery, loaded_models, needs_transaction, utcnow
from app.core.errors import Refused
from app.core.exports import SafeCsvWriter
from app.core.forms import (
    FormError,
    clean_local_datetime,
    clean_text,
    form_text,
    number_between,
    whole_number,
    whole_numbers,
)
from app.core.i18n import N_, _, get_time_zone
from app.core.security import token_digest
from app.ideas.models import Idea
from app.voting import tally
from app.voting.models import (
    Ballot,
    BallotOption,
    BallotState,
    Eligibility,
    Method,
    ResultsVisibility,
    Vote,
)
from app.workspaces import service as workspace_service
from app.workspaces.models import Membership, Workspace

QUESTION_MAX = 300
DESCRIPTION_MAX = 4000
OPTION_MAX = 200
OPTIONS_MAX = 30
DOTS_MAX = 100
REASON_MAX = 1000
SCORE_MAX = 5
CONSENT_CHOICES = ("agree", "abstain", "disagree", "block")

METHOD_LABELS = {
    Method.APPROVAL: N_("Approval: tick every option you support, up to a limit"),
    Method.SINGLE: N_("Single choice: pick one option"),
    Method.RANKED: N_("Ranked: put the options in order (counted by instant runoff and by Schulze)"),
    Method.DOT: N_("Dot voting: spread a number of dots over the options"),
    Method.SCORE: N_("Score: rate each option from 0 to 5"),
    Method.CONSENT: N_("Consent: agree, abstain, disagree or block each proposal"),
}
SHORT_METHOD_LABELS = {
    Method.APPROVAL: N_("Approval"),
    Method.SINGLE: N_("Single choice"),
    Method.RANKED: N_("Ranked choice"),
    Method.DOT: N_("Dot voting"),
    Method.SCORE: N_("Score"),
    Method.CONSENT: N_("Consent"),
}
VISIBILITY_LABELS = {
    ResultsVisibility.LIVE: N_("Live, while the ballot is open"),
    ResultsVisibility.AFTER_VOTE: N_("To each voter once they have voted"),
    ResultsVisibility.AFTER_CLOSE: N_("When the ballot closes"),
}
ELIGIBILITY_LABELS = {
    Eligibility.MEMBERS: N_("Members of the workspace"),
    Eligibility.ATTENDEES: N_("People with a place in the session"),
}
STATE_LABELS = {
    BallotState.UPCOMING: N_("Not open yet"),
    BallotState.OPEN: N_("Open"),
    BallotState.CLOSED: N_("Closed"),
}
CONSENT_LABELS = {
    "agree": N_("Agree"),
    "abstain": N_("Abstain"),
    "disagree": N_("Disagree"),
    "block": N_("Block"),
}


def now() -> datetime:
    return utcnow()


class VoteRefused(Refused):
    """A vote that may not be cast: the message says why; nothing was stored. 422 for a ballot paper
    that breaks a rule (or a closed ballot), 403 when the voter may not vote on this ballot at all."""

    default_status = 422


@dataclass
class BallotInput:
    question: str = ""
    description: str = ""
    method: str = Method.APPROVAL
    options_text: str = ""
    idea_ids: list[int] = field(default_factory=list)
    max_choices: str = ""
    dots: str = ""
    per_option_max: str = ""
    opens_at: str = ""
    closes_at: str = ""
    results_visibility: str = ResultsVisibility.AFTER_CLOSE
    anonymous: bool = False
    eligibility: str = Eligibility.MEMBERS


async def _clean(
    session: AsyncSession, workspace: Workspace, cs: CocreationSession | None, data: BallotInput
) -> tuple[dict, list[tuple[str, int | None]]]:
    errors: dict[str, str] = {}
    values: dict = {
        "question": clean_text(data.question, field="question", errors=errors, max_length=QUESTION_MAX),
        "description": clean_text(
            data.description, field="description", errors=errors, max_length=DESCRIPTION_MAX, required=False
        ),
    }
    if data.method not in METHOD_LABELS:
        errors["method"] = _("Choose a voting method from the list.")
    values["method"] = data.method
    options: list[tuple[str, int | None]] = []
    idea_ids = list(dict.fromkeys(data.idea_ids))
    if idea_ids:
        found = await session.exec(
            select(Idea).where(
                col(Idea.id).in_(idea_ids), Idea.workspace_id == workspace.id, col(Idea.hidden_at).is_(None)
            )
        )
        ideas = {idea.id: idea for idea in found.all()}
        if set(ideas) != set(idea_ids):
            errors["idea_ids"] = _("Choose ideas of this workspace.")
        options += [(ideas[i].title[:OPTION_MAX], i) for i in idea_ids if i in ideas]
    for line in data.options_text.splitlines():
        label = line.strip()
        if not label:
            continue
        if len(label) > OPTION_MAX:
            errors["options_text"] = _("Keep each option to at most %(max)s characters.", max=OPTION_MAX)
        options.append((label[:OPTION_MAX], None))
    labels = [label.casefold() for label, _idea in options]
    minimum = 1 if data.method == Method.CONSENT else 2
    if "options_text" in errors:
        pass  # an option too long: that is the message to see first
    elif len(set(labels)) != len(labels):
        errors["options_text"] = _("Each option must be different.")
    elif len(options) < minimum:
        errors["options_text"] = (
            _("Give the proposal to decide on.") if minimum == 1 else _("Give at least two options.")
        )
    elif len(options) > OPTIONS_MAX:
        errors["options_text"] = _("A ballot has at most %(max)s options.", max=OPTIONS_MAX)
    values["max_choices"] = values["dots"] = values["per_option_max"] = None
    if data.method == Method.APPROVAL:
        high = max(len(options), 1)
        values["max_choices"] = number_between(data.max_choices or str(high), 1, high)
        if values["max_choices"] is None:
            errors["max_choices"] = _("Give a whole number from 1 to %(max)s.", max=high)
    if data.method == Method.DOT:
        values["dots"] = number_between(data.dots, 1, DOTS_MAX)
        if values["dots"] is None:
            errors["dots"] = _("Give a whole number from 1 to %(max)s.", max=DOTS_MAX)
        high = values["dots"] or DOTS_MAX
        values["per_option_max"] = number_between(data.per_option_max or str(high), 1, high)
        if values["per_option_max"] is None:
            errors["per_option_max"] = _("Give a whole number from 1 to %(max)s.", max=high)
    zone = ZoneInfo(get_time_zone())
    opens_at = (
        clean_local_datetime(data.opens_at, zone=zone, field="opens_at", errors=errors)
        if data.opens_at.strip()
        else utcnow()
    )
    closes_at = clean_local_datetime(data.closes_at, zone=zone, field="closes_at", errors=errors)
    if closes_at is not None and opens_at is not None and closes_at <= opens_at:
        errors["closes_at"] = _("The ballot must close after it opens.")
    elif closes_at is not None and closes_at <= utcnow():
        errors["closes_at"] = _("The closing time has already passed.")
    values["opens_at"], values["closes_at"] = opens_at, closes_at
    if data.results_visibility not in VISIBILITY_LABELS:
        errors["results_visibility"] = _("Choose when results can be seen.")
    values["results_visibility"] = data.results_visibility
    if data.eligibility not in ELIGIBILITY_LABELS or (
        data.eligibility == Eligibility.ATTENDEES and cs is None
    ):
        errors["eligibility"] = _("Choose who may vote.")
    values["eligibility"] = data.eligibility
    values["anonymous"] = bool(data.anonymous)
    if values["anonymous"] and data.results_visibility != ResultsVisibility.AFTER_CLOSE:
        # Totals that move as each person votes would tell who voted what.
        errors["results_visibility"] = _("An anonymous ballot shows its results only when it closes.")
    if errors:
        raise FormError(errors)
    return values, options


async def create(
    *,
    session: AsyncSession,
    workspace: Workspace,
    cs: CocreationSession | None,
    author: User,
    data: BallotInput,
) -> Ballot:
    values, options = await _clean(session, workspace, cs, data)
    ballot = Ballot(
        **values, workspace_id=workspace.id, session_id=cs.id if cs else None, created_by_id=author.id
    )
    session.add(ballot)
    await session.flush()
    for position, (label, idea_id) in enumerate(options, start=1):
        session.add(BallotOption(ballot_id=ballot.id, position=position, label=label, idea_id=idea_id))
    workspace_service.record_activity(
        session, workspace_id=workspace.id, actor_id=author.id, kind="ballot_created"
    )
    if cs is not None and ballot.opens_at <= utcnow():
        await session.flush()
        await live.publish(
            session, channel=session_service.channel(cs.id), kind="ballot", data={"ballot_id": ballot.id}
        )
    await session.flush()
    return ballot


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
    *, session: AsyncSession, ballot_id: int, user: User
) -> tuple[Ballot, Standing] | None:
    """One query for what the vote API checks before a vote: the ballot, its workspace, the user's
    membership there and the status of the ballot's session; None when there is no such ballot."""
    row = (await session.exec(_standing_query(), params={"user_id": user.id, "ballot_id": ballot_id})).first()
    if row is None:
        return None
    return row[0], Standing(workspace=row[1], membership=row[2], session_status=row[3])


def voter_key(*, secret_key: str, ballot_id: int, user_id: int) -> str:
    """The same voter on the same ballot always gets the same key; without the server's secret the
    key does not tell who voted."""
    message = f"vote:{ballot_id}:{user_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


async def is_eligible(
    *, session: AsyncSession | None, ballot: Ballot, user: User | None, member: bool
) -> bool:
    """``member``: the user may contribute to the workspace (an active member, not banned, or staff).
    ``session`` is needed only for a session's ballot, which asks for a place in the session."""
    if user is None or not member:
        return False
    if ballot.eligibility == Eligibility.ATTENDEES and ballot.session_id is not None:
        return await session_service.is_attendee(
            session=session, session_id=ballot.session_id, user_id=user.id
        )
    return True


async def my_vote(
    *, session: AsyncSession, ballot: Ballot, user: User | None, secret_key: str
) -> Vote | None:
    if user is None:
        return None
    key = voter_key(secret_key=secret_key, ballot_id=ballot.id, user_id=user.id)
    return (
        await session.exec(select(Vote).where(Vote.ballot_id == ballot.id, Vote.voter_key == key))
    ).first()


def parse_choices(ballot: Ballot, option_ids: list[int], form) -> dict:
    """The voter's marks from the form, checked against the ballot's rules, as stored in the vote;
    ``option_ids`` are the ballot's options in their order."""
    ids = set(option_ids)
    method = ballot.method

    def chosen_ids() -> list[int]:
        values = [whole_number(v) for v in form.getlist("option")]
        if any(v not in ids for v in values):
            raise VoteRefused(_("Choose among the ballot's options."))
        return values

    if method == Method.APPROVAL:
        chosen = chosen_ids()
        if len(set(chosen)) != len(chosen):
            raise VoteRefused(_("Choose each option only once."))
        if not chosen:
            raise VoteRefused(_("Choose at least one option."))
        if len(chosen) > (ballot.max_choices or len(option_ids)):
            raise VoteRefused(_("Choose at most %(max)s options.", max=ballot.max_choices))
        return {"options": sorted(chosen)}
    if method == Method.SINGLE:
        chosen = chosen_ids()
        if len(chosen) != 1:
            raise VoteRefused(_("Choose one option."))
        return {"options": chosen}
    if method == Method.RANKED:
        ranks: dict[int, int] = {}
        for option_id in option_ids:
            value = form_text(form, f"rank-{option_id}").strip()
            if not value:
                continue
            rank = number_between(value, 1, len(option_ids))
            if rank is None:
                raise VoteRefused(_("Give ranks from 1 to %(max)s.", max=len(option_ids)))
            ranks[option_id] = rank
        if not ranks:
            raise VoteRefused(_("Rank at least one option."))
        if len(set(ranks.values())) != len(ranks):
            raise VoteRefused(_("Give each rank to one option only."))
        return {"options": sorted(ranks, key=ranks.__getitem__)}
    if method == Method.DOT:
        dots: dict[str, int] = {}
        for option_id in option_ids:
            placed = whole_number(form_text(form, f"dots-{option_id}").strip() or "0")
            if placed is None:
                raise VoteRefused(_("Give dots as whole numbers."))
            if placed > (ballot.per_option_max or 0):
                raise VoteRefused(_("Put at most %(max)s dots on one option.", max=ballot.per_option_max))
            if placed:
                dots[str(option_id)] = placed
        total = sum(dots.values())
        if total == 0:
            raise VoteRefused(_("Place at least one dot."))
        if total > (ballot.dots or 0):
            raise VoteRefused(_("You have %(max)s dots; you placed %(count)s.", max=ballot.dots, count=total))
        return {"marks": dots}
    if method == Method.SCORE:
        scores: dict[str, int] = {}
        for option_id in option_ids:
            value = form_text(form, f"score-{option_id}").strip()
            if not value:
                continue
            given = number_between(value, 0, SCORE_MAX)
            if given is None:
                raise VoteRefused(_("Give scores from 0 to %(max)s.", max=SCORE_MAX))
            scores[str(option_id)] = given
        if not scores:
            raise VoteRefused(_("Score at least one option."))
        return {"marks": scores}
    consent: dict[str, str] = {}
    for option_id in option_ids:
        value = form_text(form, f"consent-{option_id}").strip()
        if value not in CONSENT_CHOICES:
            raise VoteRefused(_("Say agree, abstain, disagree or block for each proposal."))
        consent[str(option_id)] = value
    reason = form_text(form, "reason").strip()
    if len(reason) > REASON_MAX:
        raise VoteRefused(_("Keep the reason to at most %(max)s characters.", max=REASON_MAX))
    if "block" in consent.values() and not reason:
        raise VoteRefused(_("A block needs a reason, so the group can address it."))
    return {"marks": consent, "reason": reason}


@functools.cache
def _upsert_paper(dialect: str):
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


async def _checked_choices(
    session: AsyncSession | None, ballot: Ballot, option_ids: list[int], user: User, member: bool, form
) -> dict:
    """The paper to store, once the ballot is open, the user may vote on it and the marks keep its rules;
    else VoteRefused."""
    state = ballot.state(utcnow())
    if state == BallotState.UPCOMING:
        raise VoteRefused(_("This ballot is not open yet."))
    if state == BallotState.CLOSED:
        raise VoteRefused(_("This ballot is closed."))
    if not await is_eligible(session=session, ballot=ballot, user=user, member=member):
        raise VoteRefused(_("You are not among the people who may vote on this ballot."), 403)
    return parse_choices(ballot, option_ids, form)


@dataclass
class Cast:
    """A vote that was stored: ``first`` when it is the voter's first paper on the ballot."""

    first: bool
    paper: Vote


async def cast(
    *,
    session: AsyncSession,
    ballot: Ballot,
    options: list[BallotOption],
    user: User,
    member: bool,
    form,
    secret_key: str,
) -> Cast:
    """Stores the voter's paper, replacing their earlier one.

    One INSERT .. ON CONFLICT DO UPDATE: a voter sending twice at once ends with one paper, and
    1,000 voters at once each keep theirs. A vote on a session's ballot also raises a live event in
    the same transaction; any other vote is that one statement, which may commit on its own (see
    ``app.core.db.Mode.ALONE``)."""
    option_ids = [option.id for option in options]
    choices = await _checked_choices(session, ballot, option_ids, user, member, form)
    if ballot.session_id is not None:
        await needs_transaction(session)
    key = voter_key(secret_key=secret_key, ballot_id=ballot.id, user_id=user.id)
    stamp = utcnow()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    params = {
        "ballot_id": ballot.id,
        "voter_key": key,
        "voter_id": None if ballot.anonymous else user.id,
        "choices": choices,
        "stamp": stamp,
    }
    cast_at = (await session.exec(_upsert_paper(dialect), params=params)).scalar_one_or_none()
    if cast_at is None:
        raise VoteRefused(_("This ballot is closed."))
    if ballot.session_id is not None:
        # Readers waiting to see results until they have voted learn it was their vote from the key.
        data = {"ballot_id": ballot.id}
        if ballot.results_visibility == ResultsVisibility.AFTER_VOTE:
            data["voter_key"] = key
        await live.publish(
            session, channel=session_service.channel(ballot.session_id), kind="tally", data=data
        )
    paper = Vote(
        ballot_id=ballot.id,
        voter_key=key,
        voter_id=params["voter_id"],
        choices=choices,
        cast_at=cast_at,
        updated_at=stamp,
    )
    return Cast(first=cast_at == stamp, paper=paper)


# The vote API's path on PostgreSQL (``app.voting.intake``): what the sign-in lookup, ``ballot_standing``,
# ``options_of`` and ``cast`` do, in two statements run on asyncpg without the ORM.


@functools.cache
def _driver_queries() -> tuple[DriverQuery, DriverQuery]:
    option_ids = (
        select(func.array_agg(aggregate_order_by(col(BallotOption.id), col(BallotOption.position))))
        .where(col(BallotOption.ballot_id) == col(Ballot.id))
        .scalar_subquery()
    )
    standing = (
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
    return DriverQuery(standing), DriverQuery(_upsert_paper("postgresql"))


@dataclass
class DriverStanding:
    """What one statement tells the vote API: the sign-in behind the cookie and, when the ballot
    exists, the ballot, where the user stands towards it and its options' ids in their order."""

    auth_session: AuthSession
    user: User
    ballot: Ballot | None
    standing: Standing | None
    option_ids: list[int]


async def driver_standing(*, connection, token: str, ballot_id: int) -> DriverStanding | None:
    """The session behind the cookie ``token`` (None when there is none, live or not: the caller checks
    with ``app.accounts.service.live_session``), with ``ballot_standing`` and the ballot's option ids,
    in one statement on an asyncpg connection (``app.core.db.driver``)."""
    rows = await _driver_queries()[0].fetch(connection, digest=token_digest(token), ballot_id=ballot_id)
    if not rows:
        return None
    auth_session, user, ballot, workspace, membership, session_status, option_ids = loaded_models(
        rows[0], (AuthSession, User, Ballot, Workspace, Membership)
    )
    standing = None
    if ballot is not None:
        standing = Standing(workspace=workspace, membership=membership, session_status=session_status)
    return DriverStanding(auth_session, user, ballot, standing, option_ids or [])


async def driver_cast(
    *, connection, ballot: Ballot, option_ids: list[int], user: User, member: bool, form, secret_key: str
) -> bool:
    """``cast`` on an asyncpg connection (``app.core.db.driver``), for a ballot outside a session (whose vote
    raises no live event): the same checks, then the same single statement, which commits by itself.
    Returns whether it was the voter's first paper."""
    if ballot.session_id is not None:
        raise ValueError("a session's ballot publishes its votes: use cast()")
    choices = await _checked_choices(None, ballot, option_ids, user, member, form)
    stamp = utcnow()
    rows = await _driver_queries()[1].fetch(
        connection,
        ballot_id=ballot.id,
        voter_key=voter_key(secret_key=secret_key, ballot_id=ballot.id, user_id=user.id),
        voter_id=None if ballot.anonymous else user.id,
        choices=json.dumps(choices),
        stamp=stamp,
    )
    if not rows:
        raise VoteRefused(_("This ballot is closed."))
    return rows[0][0] == stamp


async def close_early(*, session: AsyncSession, ballot: Ballot) -> None:
    if ballot.state(utcnow()) == BallotState.CLOSED:
        raise VoteRefused(_("This ballot is closed."))
    ballot.closed_early_at = utcnow()
    await session.exec(
        update(Ballot).where(col(Ballot.id) == ballot.id).values(closed_early_at=ballot.closed_early_at)
    )
    if ballot.session_id is not None:
        await live.publish(
            session,
            channel=session_service.channel(ballot.session_id),
            kind="tally",
            data={"ballot_id": ballot.id},
        )
    await session.flush()


def can_see_results(ballot: Ballot, *, has_voted: bool) -> bool:
    state = ballot.state(utcnow())
    if state == BallotState.CLOSED or ballot.results_visibility == ResultsVisibility.LIVE:
        return True
    return ballot.results_visibility == ResultsVisibility.AFTER_VOTE and has_voted


async def papers(*, session: AsyncSession, ballot: Ballot) -> list[Vote]:
    """Every paper, in the order of their keys: for an anonymous ballot an order that says nothing."""
    rows = await session.exec(select(Vote).where(Vote.ballot_id == ballot.id).order_by(col(Vote.voter_key)))
    return list(rows.all())


def _ballot_marks(method: str, votes: list[Vote]) -> list:
    if method == Method.SINGLE:
        return [vote.choices["options"][0] for vote in votes]
    if method in (Method.APPROVAL, Method.RANKED):
        return [vote.choices["options"] for vote in votes]
    return [{int(option): mark for option, mark in vote.choices["marks"].items()} for vote in votes]


def results_view(ballot: Ballot, options: list[BallotOption], votes: list[Vote]) -> dict:
    """The tally as plain data (lists in the ballot's option order), for the results page, the live
    room's events and the CSV export alike."""
    ids = [option.id for option in options]
    labels = {option.id: option.label for option in options}
    marks = _ballot_marks(ballot.method, votes)
    view: dict = {
        "ballot_id": ballot.id,
        "method": ballot.method,
        "ballots": len(votes),
        "options": [
            {"id": option.id, "label": option.label, "idea_id": option.idea_id} for option in options
        ],
    }
    if ballot.method in (Method.APPROVAL, Method.SINGLE, Method.DOT):
        counter = {Method.APPROVAL: tally.approval, Method.SINGLE: tally.single_choice, Method.DOT: tally.dot}
        result = counter[ballot.method](ids, marks)
        top = max(result.counts.values(), default=0) or 1
        view["rows"] = [
            {
                "id": i,
                "label": labels[i],
                "value": result.counts.get(i, 0),
                "share": result.counts.get(i, 0) / top,
            }
            for i in result.ranking
        ]
    elif ballot.method == Method.SCORE:
        result = tally.score(ids, marks)
        view["rows"] = [
            {
                "id": i,
                "label": labels[i],
                "value": round(result.scores[i].mean, 2) if result.scores[i].mean is not None else None,
                "share": (result.scores[i].mean or 0) / SCORE_MAX,
                "count": result.scores[i].count,
                "histogram": list(result.scores[i].histogram),
            }
            for i in result.ranking
        ]
    elif ballot.method == Method.CONSENT:
        result = tally.consent(ids, marks)
        view["rows"] = [
            {
                "id": i,
                "label": labels[i],
                **{choice: getattr(result.consents[i], choice) for choice in CONSENT_CHOICES},
                "passed": result.consents[i].passed,
            }
            for i in result.ranking
        ]
    else:
        result = tally.instant_runoff(ids, marks)
        schulze = tally.schulze(ids, marks)
        view["rounds"] = [
            {
                "votes": [round_.votes.get(i) for i in ids],
                "exhausted": round_.exhausted,
                "eliminated": round_.eliminated,
                "winner": round_.winner,
            }
            for round_ in result.rounds
        ]
        first = result.rounds[0].votes if result.rounds else {}
        top = max(first.values(), default=0) or 1
        view["rows"] = [
            {"id": i, "label": labels[i], "value": first.get(i, 0), "share": first.get(i, 0) / top}
            for i in result.ranking
        ]
        view["schulze"] = {
            "ranking": schulze.ranking,
            "ranks": _schulze_ranks(schulze),
            "winner": schulze.winner,
            "tied": list(schulze.tied) if len(schulze.tied) > 1 else [],
            "pairwise": [[schulze.pairwise[a][b] if a != b else None for b in ids] for a in ids],
        }
    view["winner"] = result.winner
    # Two or more options level at the top: pages say "tied", never "leading".
    view["tied"] = list(result.tied) if len(result.tied) > 1 else []
    view["ranking"] = list(result.ranking)
    return view


def _schulze_ranks(result: tally.SchulzeResult) -> list[int]:
    """The place of each option of the Schulze ranking: an option shares the place of the one before it
    when neither beats the other."""
    strongest, ranks = result.strongest, []
    for position, option in enumerate(result.ranking):
        before = result.ranking[position - 1] if position else None
        level = before is not None and strongest[before][option] <= strongest[option][before]
        ranks.append(ranks[-1] if level else position + 1)
    return ranks


async def results(*, session: AsyncSession, ballot: Ballot, options: list[BallotOption]) -> dict:
    return results_view(ballot, options, await papers(session=session, ballot=ballot))


def results_csv(view: dict) -> str:
    """One row per option, in ranking order, with every figure the page shows."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    method = view["method"]
    if method == Method.SCORE:
        writer.writerow(["rank", "option_id", "option", "mean", "scores", *[f"score_{s}" for s in range(6)]])
        for rank, row in enumerate(view["rows"], start=1):
            writer.writerow([rank, row["id"], row["label"], row["value"], row["count"], *row["histogram"]])
    elif method == Method.CONSENT:
        writer.writerow(["rank", "option_id", "option", *CONSENT_CHOICES, "passed"])
        for rank, row in enumerate(view["rows"], start=1):
            writer.writerow(
                [rank, row["id"], row["label"], *[row[c] for c in CONSENT_CHOICES], row["passed"]]
            )
    else:
        heading = (
            "first_preferences" if method == Method.RANKED else ("dots" if method == Method.DOT else "votes")
        )
        writer.writerow(["rank", "option_id", "option", heading])
        for rank, row in enumerate(view["rows"], start=1):
            writer.writerow([rank, row["id"], row["label"], row["value"]])
    if method == Method.RANKED:
        ids = [option["id"] for option in view["options"]]
        writer.writerow([])
        writer.writerow(["instant_runoff_round", *ids, "exhausted", "eliminated"])
        for number, round_ in enumerate(view["rounds"], start=1):
            writer.writerow(
                [
                    number,
                    *["" if v is None else v for v in round_["votes"]],
                    round_["exhausted"],
                    round_["eliminated"] or "",
                ]
            )
        writer.writerow([])
        writer.writerow(["schulze_pairwise", *ids])
        for a, row in zip(ids, view["schulze"]["pairwise"], strict=True):
            writer.writerow([a, *["" if v is None else v for v in row]])
    return out.getvalue()


def papers_csv(
    ballot: Ballot, options: list[BallotOption], votes: list[Vote], names: dict[int, str] | None
) -> str:
    """Every paper, so anyone can recount. Voters and times only with ``names`` (the moderators' copy of
    a ballot that is not anonymous); otherwise none, in an order that says nothing of who voted when."""
    named = names is not None and not ballot.anonymous
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    ids = [option.id for option in options]
    head = ["voter", "cast_at", "updated_at"] if named else []
    columns = [f"option_{i}" for i in ids]
    if ballot.method == Method.CONSENT:
        columns.append("reason")
    writer.writerow(["paper", *head, *columns])
    for number, vote in enumerate(votes, start=1):
        if ballot.method in (Method.APPROVAL, Method.SINGLE):
            marks = ["1" if i in vote.choices["options"] else "" for i in ids]
        elif ballot.method == Method.RANKED:
            order = vote.choices["options"]
            marks = [str(order.index(i) + 1) if i in order else "" for i in ids]
        else:
            given = vote.choices["marks"]
            marks = [str(given.get(str(i), "")) for i in ids]
        if ballot.method == Method.CONSENT:
            marks.append(vote.choices.get("reason", ""))
        who = (
            [names.get(vote.voter_id or 0, ""), vote.cast_at.isoformat(), vote.updated_at.isoformat()]
            if named
            else []
        )
        writer.writerow([number, *who, *marks])
    return out.getvalue()


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


def prefill(ballot: Ballot, options: list[BallotOption], vote: Vote | None, submitted=None) -> dict:
    """What the voting form shows checked: what was just sent back with an error, else the paper
    already cast."""
    chosen: set[int] = set()
    marks: dict[int, object] = {}
    reason = ""
    if submitted is not None:
        chosen = set(whole_numbers(submitted.getlist("option")))
        prefix = {Method.RANKED: "rank", Method.DOT: "dots", Method.SCORE: "score", Method.CONSENT: "consent"}
        if ballot.method in prefix:
            for option in options:
                value = submitted.get(f"{prefix[ballot.method]}-{option.id}", "")
                if isinstance(value, str) and value.strip():
                    marks[option.id] = value.strip()[:10]
        reason = str(submitted.get("reason", ""))[:REASON_MAX]
    elif vote is not None:
        if "options" in vote.choices:
            chosen = set(vote.choices["options"])
            marks = {option_id: rank for rank, option_id in enumerate(vote.choices["options"], start=1)}
        else:
            marks = {int(option_id): mark for option_id, mark in vote.choices["marks"].items()}
        reason = vote.choices.get("reason", "")
    return {"chosen": chosen, "marks": marks, "reason": reason}


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
        (ballot_id, voter_key(secret_key=secret_key, ballot_id=ballot_id, user_id=user_id))
        for ballot_id in anonymous
    ]
    for start in range(0, len(keys), KEY_BATCH):
        pairs = tuple_(col(Vote.ballot_id), col(Vote.voter_key)).in_(keys[start : start + KEY_BATCH])
        found += (await session.exec(statement.where(pairs))).all()
    return sorted(found, key=lambda row: row[1].id)


async def forget_voter(*, session: AsyncSession, papers: list[tuple[Vote, Ballot]], remove_open: bool) -> int:
    """For an account that is being deleted, in the caller's transaction. A paper on a closed ballot
    stays counted (a result already announced does not change), and so does one on an open ballot
    unless ``remove_open``: it loses the voter's id, and a random key replaces their keyed hash, so
    nothing, not even the server's secret, ties it to them again. With ``remove_open`` the papers on
    ballots still open are removed instead, and their sessions' live rooms told the tally changed.
    Returns how many papers were removed."""
    now = utcnow()
    changed_tallies: set[tuple[int, int]] = set()
    removed = 0
    for vote, ballot in papers:
        if remove_open and ballot.state(now) != BallotState.CLOSED:
            await session.exec(delete(Vote).where(col(Vote.id) == vote.id))
            removed += 1
            if ballot.session_id is not None:
                changed_tallies.add((ballot.session_id, ballot.id))
        else:
            await session.exec(
                update(Vote)
                .where(col(Vote.id) == vote.id)
                .values(voter_id=None, voter_key=secrets.token_hex(32))
            )
    # Channels in one order, so two transactions publishing to several never wait on each other.
    for session_id, ballot_id in sorted(changed_tallies):
        await live.publish(
            session, channel=session_service.channel(session_id), kind="tally", data={"ballot_id": ballot_id}
        )
    return removed

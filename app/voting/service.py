"""Ballots' use cases: creating one, casting and changing a vote (one paper per voter, also when two
requests race), closing early, and forgetting a voter whose account is deleted. The rules are in
``rules``, the statements in ``storage``, what pages show in ``views`` and the CSV files in
``exports``."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, delete, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession
from app.core import live
from app.core.db import needs_transaction, utcnow
from app.core.i18n import _
from app.voting import rules, storage
from app.voting.models import (
    Ballot,
    BallotOption,
    BallotState,
    Eligibility,
    ResultsVisibility,
    Vote,
)
from app.workspaces import service as workspace_service
from app.workspaces.models import Workspace


def now() -> datetime:
    return utcnow()


async def create(
    *,
    session: AsyncSession,
    workspace: Workspace,
    cs: CocreationSession | None,
    author: User,
    data: rules.BallotInput,
) -> Ballot:
    values, options = await rules.clean_ballot(session, workspace, cs, data)
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


async def _checked_choices(
    session: AsyncSession | None, ballot: Ballot, option_ids: list[int], user: User, member: bool, form
) -> dict:
    """The paper to store, once the ballot is open, the user may vote on it and the marks keep its rules;
    else rules.VoteRefused."""
    state = ballot.state(utcnow())
    if state == BallotState.UPCOMING:
        raise rules.VoteRefused(_("This ballot is not open yet."))
    if state == BallotState.CLOSED:
        raise rules.VoteRefused(_("This ballot is closed."))
    if not await is_eligible(session=session, ballot=ballot, user=user, member=member):
        raise rules.VoteRefused(_("You are not among the people who may vote on this ballot."), 403)
    return rules.parse_choices(ballot, option_ids, form)


@dataclass
class Cast:
    """A vote that was stored: ``first`` when it is the voter's first paper on the ballot."""

    first: bool
    paper: Vote


async def cast_vote(
    *,
    session: AsyncSession,
    ballot: Ballot,
    option_ids: list[int],
    user: User,
    member: bool,
    form,
    secret_key: str,
) -> Cast:
    """Stores the voter's paper, replacing their earlier one: the one use case of a vote, for the
    ballot page's form and the JSON API alike. ``option_ids`` are the ballot's options in their order;
    ``member``: the user may contribute to the ballot's workspace.

    One INSERT .. ON CONFLICT DO UPDATE: a voter sending twice at once ends with one paper, and
    1,000 voters at once each keep theirs. A vote on a session's ballot also raises a live event in
    the same transaction; any other vote is that one statement, which may commit on its own (see
    ``app.core.db.Mode.ALONE``)."""
    choices = await _checked_choices(session, ballot, option_ids, user, member, form)
    if ballot.session_id is not None:
        await needs_transaction(session)
    key = rules.voter_key(secret_key=secret_key, ballot_id=ballot.id, user_id=user.id)
    stamp = utcnow()
    params = {
        "ballot_id": ballot.id,
        "voter_key": key,
        "voter_id": None if ballot.anonymous else user.id,
        "choices": choices,
        "stamp": stamp,
    }
    cast_at = await storage.write_paper(session=session, params=params)
    if cast_at is None:
        raise rules.VoteRefused(_("This ballot is closed."))
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


async def close_early(*, session: AsyncSession, ballot: Ballot) -> None:
    if ballot.state(utcnow()) == BallotState.CLOSED:
        raise rules.VoteRefused(_("This ballot is closed."))
    storage.forget_options(ballot)
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

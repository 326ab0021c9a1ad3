"""Votes under a rush: one paper per voter however often they send it, and no vote lost."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import func, select
from starlette.datastructures import FormData

from app.cocreation import service as session_service
from app.core.db import Mode, utcnow
from app.core.live import LiveEvent
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting import views as voting_views
from app.voting.models import Ballot, Vote
from tests.cocreation.test_live_room import live_session
from tests.conftest import TEST_DATABASE_URL, TEST_SECRET_KEY
from tests.races import Arena


@pytest.fixture
async def arena(engine, database_url):
    arena = Arena(database_url)
    yield arena
    await arena.close()


async def open_ballot(arena, workspace, author, cs=None) -> tuple[Ballot, list[int]]:
    async with arena.work() as session:
        data = voting_rules.BallotInput(
            question="Which garden first?",
            method="single",
            options_text="North\nSouth\nEast",
            closes_at=(utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        )
        ballot = await voting_service.create(
            session=session, workspace=workspace, cs=cs, author=author, data=data
        )
        options = await voting_storage.options_of(session=session, ballot_id=ballot.id)
        return ballot, [option.id for option in options]


async def cast(arena, ballot_id: int, user, option_id: int, *, alone: bool = False) -> bool:
    """A vote as the page sends it, or as the API does (``alone``: no transaction around the reads and
    the vote's one statement, on PostgreSQL)."""
    async with arena.work(Mode.ALONE if alone else Mode.WRITE) as session:
        ballot = await session.get(Ballot, ballot_id)
        options = await voting_storage.options_of(session=session, ballot_id=ballot_id)
        done = await voting_service.cast_vote(
            session=session,
            ballot=ballot,
            option_ids=[option.id for option in options],
            user=user,
            member=True,
            form=FormData([("option", str(option_id))]),
            secret_key=TEST_SECRET_KEY,
        )
        return done.first


async def papers(arena, ballot_id: int) -> list[Vote]:
    async with arena.work() as session:
        return list((await session.exec(select(Vote).where(Vote.ballot_id == ballot_id))).all())


async def test_the_same_voter_sending_twice_at_once_counts_once(arena):
    author = await arena.user(role="facilitator")
    workspace = await arena.workspace(author)
    (voter,) = await arena.members(workspace, 1)
    ballot, (north, south, _east) = await open_ballot(arena, workspace, author)
    firsts = await asyncio.gather(*(cast(arena, ballot.id, voter, option) for option in [north, south] * 5))
    stored = await papers(arena, ballot.id)
    assert len(stored) == 1 and stored[0].choices["options"][0] in (north, south)
    assert firsts.count(True) == 1


@pytest.mark.parametrize("alone", [False, True], ids=["in-a-transaction", "statement-alone"])
async def test_a_vote_in_the_live_room_keeps_its_paper_and_its_event(arena, alone):
    """A vote on a session's ballot is two writes, its paper and the room's event: a unit of work begun
    with statements alone (the vote route's) turns into one transaction on the app's own engine."""
    author = await arena.user(role="facilitator")
    workspace = await arena.workspace(author)
    (voter,) = await arena.members(workspace, 1)
    async with arena.work() as session:
        cs = await live_session(session, workspace, author)
    ballot, (north, _south, _east) = await open_ballot(arena, workspace, author, cs)
    channel = session_service.channel(cs.id)
    in_the_room = select(func.count()).select_from(LiveEvent).where(LiveEvent.channel == channel)
    async with arena.work() as session:
        before = await session.scalar(in_the_room)
    assert await cast(arena, ballot.id, voter, north, alone=alone)
    assert [paper.choices["options"] for paper in await papers(arena, ballot.id)] == [[north]]
    async with arena.work() as session:
        after = await session.scalar(in_the_room)
    assert after == before + 1


# The target is for PostgreSQL, the database for several app processes. SQLite lets one writer in at a
# time and the others wait up to its busy timeout (5 s): on a loaded machine the last of 1,000 writers
# of one process, queued behind the event loop, could wait longer than that.
RUSH = 1000 if TEST_DATABASE_URL.startswith("postgresql") else 300


@pytest.mark.parametrize("alone", [False, True], ids=["in-a-transaction", "statement-alone"])
async def test_a_thousand_voters_at_once_lose_no_vote(arena, alone):
    author = await arena.user(role="facilitator")
    workspace = await arena.workspace(author)
    voters = await arena.members(workspace, RUSH)
    ballot, options = await open_ballot(arena, workspace, author)
    chosen = {voter.id: options[n % 3] for n, voter in enumerate(voters)}
    await asyncio.gather(*(cast(arena, ballot.id, voter, chosen[voter.id], alone=alone) for voter in voters))
    stored = await papers(arena, ballot.id)
    assert len(stored) == RUSH
    assert {paper.voter_id: paper.choices["options"][0] for paper in stored} == chosen
    async with arena.work() as session:
        view = await voting_views.results(
            session=session,
            ballot=ballot,
            options=await voting_storage.options_of(session=session, ballot_id=ballot.id),
        )
    assert sorted(row["value"] for row in view["rows"]) == sorted(
        sum(1 for option in chosen.values() if option == each) for each in options
    )
    assert sum(row["value"] for row in view["rows"]) == RUSH


@pytest.mark.parametrize("alone", [False, True], ids=["in-a-transaction", "statement-alone"])
async def test_votes_racing_an_early_close_leave_no_paper_after_it(arena, alone):
    """Votes loaded the ballot while it was open; the close commits among them. A vote either counts
    or is refused as closed, and a refused one stored nothing."""
    author = await arena.user(role="facilitator")
    workspace = await arena.workspace(author)
    voters = await arena.members(workspace, 60)
    ballot, options = await open_ballot(arena, workspace, author)

    async def vote(voter):
        try:
            return await cast(arena, ballot.id, voter, options[0], alone=alone)
        except voting_rules.VoteRefused as refused:
            return refused.message

    async def close():
        await asyncio.sleep(0.01)
        async with arena.work() as session:
            await voting_service.close_early(session=session, ballot=await session.get(Ballot, ballot.id))

    outcomes = await asyncio.gather(*(vote(voter) for voter in voters), close())
    refused = [outcome for outcome in outcomes[:-1] if outcome is not True]
    assert all(outcome == "This ballot is closed." for outcome in refused)
    assert len(await papers(arena, ballot.id)) == len(voters) - len(refused)


@pytest.mark.parametrize("alone", [False, True], ids=["in-a-transaction", "statement-alone"])
async def test_a_vote_that_loaded_the_ballot_before_it_closed_is_refused(arena, alone):
    """The vote's own statement checks the close: the ballot the request loaded still looked open."""
    author = await arena.user(role="facilitator")
    workspace = await arena.workspace(author)
    (voter,) = await arena.members(workspace, 1)
    ballot, options = await open_ballot(arena, workspace, author)
    # Loaded as the request loads it, then closed by another request before the vote is written (on
    # SQLite a writing unit of work holds the write lock from its first read, so the load is apart).
    async with arena.work(Mode.READ) as reading:
        loaded = await reading.get(Ballot, ballot.id)
    async with arena.work() as other:
        await voting_service.close_early(session=other, ballot=await other.get(Ballot, ballot.id))
    assert loaded.closed_early_at is None
    async with arena.work(Mode.ALONE if alone else Mode.WRITE) as session:
        with pytest.raises(voting_rules.VoteRefused, match="closed"):
            await voting_service.cast_vote(
                session=session,
                ballot=loaded,
                option_ids=[
                    o.id for o in await voting_storage.options_of(session=session, ballot_id=ballot.id)
                ],
                user=voter,
                member=True,
                form=FormData([("option", str(options[0]))]),
                secret_key=TEST_SECRET_KEY,
            )
    assert await papers(arena, ballot.id) == []

"""Votes under a rush: one paper per voter however often they send it, and no vote lost."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.datastructures import FormData

from app.db import utcnow
from app.voting import service as voting_service
from app.voting.models import Ballot, Vote
from tests.conftest import TEST_SECRET_KEY
from tests.races import Arena


@pytest.fixture
async def arena(engine, database_url):
    arena = Arena(database_url)
    yield arena
    await arena.close()


async def open_ballot(arena, workspace, author) -> tuple[Ballot, list[int]]:
    async with arena.factory() as session:
        data = voting_service.BallotInput(
            question="Which garden first?",
            method="single",
            options_text="North\nSouth\nEast",
            closes_at=(utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        )
        ballot = await voting_service.create(
            session=session, workspace=workspace, cs=None, author=author, data=data
        )
        options = await voting_service.options_of(session=session, ballot_id=ballot.id)
        return ballot, [option.id for option in options]


async def cast(arena, ballot_id: int, user, option_id: int) -> bool:
    async with arena.factory() as session:
        ballot = await session.get(Ballot, ballot_id)
        options = await voting_service.options_of(session=session, ballot_id=ballot_id)
        return await voting_service.cast(
            session=session,
            ballot=ballot,
            options=options,
            user=user,
            member=True,
            form=FormData([("option", str(option_id))]),
            secret_key=TEST_SECRET_KEY,
        )


async def papers(arena, ballot_id: int) -> list[Vote]:
    async with arena.factory() as session:
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


async def test_a_thousand_voters_at_once_lose_no_vote(arena):
    author = await arena.user(role="facilitator")
    workspace = await arena.workspace(author)
    voters = await arena.members(workspace, 1000)
    ballot, options = await open_ballot(arena, workspace, author)
    chosen = {voter.id: options[n % 3] for n, voter in enumerate(voters)}
    await asyncio.gather(*(cast(arena, ballot.id, voter, chosen[voter.id]) for voter in voters))
    stored = await papers(arena, ballot.id)
    assert len(stored) == 1000
    assert {paper.voter_id: paper.choices["options"][0] for paper in stored} == chosen
    async with arena.factory() as session:
        view = await voting_service.results(
            session=session,
            ballot=ballot,
            options=await voting_service.options_of(session=session, ballot_id=ballot.id),
        )
    assert sorted(row["value"] for row in view["rows"]) == [333, 333, 334]

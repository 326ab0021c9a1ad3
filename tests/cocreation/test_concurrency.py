"""Places in a session under a rush: never more registered than the capacity, nobody lost."""

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import func, select

from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession, Registration
from app.core.db import utcnow
from tests.races import Arena


@pytest.fixture
async def arena(engine, database_url):
    arena = Arena(database_url)
    yield arena
    await arena.close()


async def test_two_hundred_people_registering_at_once_never_go_over_capacity(arena):
    facilitator = await arena.user(role="facilitator")
    workspace = await arena.workspace(facilitator)
    people = await arena.members(workspace, 200)
    async with arena.work() as session:
        data = session_service.SessionInput(
            title="Tree planting day",
            phase="co-implementation",
            mode="in-person",
            place_name="Parque Oriental",
            time_zone="Europe/Lisbon",
            starts_at=(utcnow() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            ends_at=(utcnow() + timedelta(days=7, hours=3)).strftime("%Y-%m-%dT%H:%M"),
            capacity="50",
        )
        cs = await session_service.create(session=session, workspace=workspace, author=facilitator, data=data)
        await session_service.set_status(session=session, cs=cs, status="scheduled", by=facilitator)

    async def register(person):
        async with arena.work() as session:
            mine = await session.get(CocreationSession, cs.id)
            return (await session_service.register(session=session, cs=mine, user=person)).status

    statuses = await asyncio.gather(*(register(person) for person in people))
    assert statuses.count("registered") == 50 and statuses.count("waitlisted") == 150

    async with arena.work() as session:
        stored = await session.get(CocreationSession, cs.id)
        counted = await session.exec(
            select(Registration.status, func.count())
            .where(Registration.session_id == cs.id)
            .group_by(Registration.status)
        )
        assert dict(counted.all()) == {"registered": 50, "waitlisted": 150}
        assert stored.registered_count == 50

    # Twenty with a place cancel at once: twenty from the waiting list take them, in their order.
    seated = [p for p, s in zip(people, statuses, strict=True) if s == "registered"][:20]
    async with arena.work() as session:
        queue = await session.exec(
            select(Registration.user_id)
            .where(Registration.session_id == cs.id, Registration.status == "waitlisted")
            .order_by(Registration.queued_at, Registration.id)
        )
        first_waiting = list(queue.all())[:20]

    async def cancel(person):
        async with arena.work() as session:
            mine = await session.get(CocreationSession, cs.id)
            await session_service.cancel(session=session, cs=mine, user=person)

    await asyncio.gather(*(cancel(person) for person in seated))
    async with arena.work() as session:
        stored = await session.get(CocreationSession, cs.id)
        registered = set(
            (
                await session.exec(
                    select(Registration.user_id).where(
                        Registration.session_id == cs.id, Registration.status == "registered"
                    )
                )
            ).all()
        )
        assert stored.registered_count == len(registered) == 50
        assert set(first_waiting) <= registered

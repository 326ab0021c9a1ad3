"""Two admins acting on each other at the same moment, with real commits: the platform always keeps an
active admin."""

import asyncio

import pytest
from sqlmodel import col, func, select

from app.accounts.models import Role, User
from app.admin import service as admin_service
from app.audit.models import AuditEvent
from app.core.errors import Refused
from tests.races import Arena


@pytest.fixture
async def arena(engine, database_url):
    arena = Arena(database_url)
    yield arena
    await arena.close()


async def active_admins(arena: Arena) -> list[int]:
    async with arena.work() as session:
        rows = await session.exec(
            select(User.id).where(User.role == Role.ADMIN, col(User.is_active)).order_by(User.id)
        )
        return list(rows.all())


async def act_at_once(arena: Arena, first: User, second: User, act) -> list[bool]:
    """``first`` acts on ``second`` and ``second`` on ``first``, together; True for each act done."""

    async def one(admin: User, target: User) -> bool:
        async with arena.work() as session:
            try:
                await act(session=session, target=await session.get(User, target.id), admin=admin)
            except Refused:
                return False
            return True

    return await asyncio.gather(one(first, second), one(second, first))


async def demote(*, session, target, admin):
    await admin_service.change_role(
        session=session, target=target, admin=admin, role="citizen", reason="Race"
    )


async def disable(*, session, target, admin):
    await admin_service.disable(session=session, target=target, admin=admin, reason="Race")


@pytest.mark.parametrize(
    ("act", "action"),
    [(demote, admin_service.Action.ROLE_CHANGE), (disable, admin_service.Action.DISABLE)],
    ids=["demote", "disable"],
)
async def test_the_last_two_admins_acting_on_each_other_at_once_leave_one_admin(arena, act, action):
    assert await active_admins(arena) == [], "the test database should hold no committed admin"
    racers = []
    for _round in range(5):
        first = await arena.user(role=Role.ADMIN)
        second = await arena.user(role=Role.ADMIN)
        racers += [first.id, second.id]
        outcomes = await act_at_once(arena, first, second, act)
        assert sorted(outcomes) == [False, True]
        assert len(await active_admins(arena)) == 1
        # Out of the way for the next round: the admin left becomes a citizen (directly, unlogged).
        async with arena.work() as session:
            for user in await session.exec(select(User).where(col(User.id).in_([first.id, second.id]))):
                user.role = Role.CITIZEN
                session.add(user)
            await session.commit()
    async with arena.work() as session:
        logged = await session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == action, col(AuditEvent.target_id).in_(racers))
        )
        assert logged.one() == 5  # the acts refused left no trace

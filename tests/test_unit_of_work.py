"""One unit of work per request: what a request does is committed once, when its answer is not a
refusal or an error, and dropped otherwise, with everything that goes with it (live events,
notifications, counters). Services only flush. What requests do with it is tested in
tests/cocreation/test_one_unit_of_work.py."""

import re
from pathlib import Path

import pytest

from app.core.db import Mode, UnitOfWork, after_commit, apart, unit_of_work

APP = Path(__file__).resolve().parents[1] / "app"


async def test_after_commit_steps_run_only_once_the_unit_commits(session_factory):
    ran = []
    async with unit_of_work(session_factory) as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(ValueError):
        async with unit_of_work(session_factory) as session:
            after_commit(session, lambda: ran.append("rolled back"))
            raise ValueError
    assert ran == ["committed"]


async def test_a_read_unit_refuses_to_write(session_factory, user):
    """A GET runs in READ mode (on PostgreSQL without a transaction): a write in it would commit
    statement by statement, so it is a programming error, raised before anything is written."""
    unit = UnitOfWork(session_factory, Mode.READ)
    try:
        row = await unit.session.get(type(user), user.id)
        row.display_name = "Changed by a GET"
        with pytest.raises(RuntimeError, match="READ mode"):
            await unit.session.flush()
    finally:
        await unit.finish(success=False)


async def test_a_write_apart_comes_before_the_request_writes(session_factory, user):
    """What must stand whatever the request does (a rate limit's count) is written apart, before the
    request's own first statement: after it, on SQLite, it would wait for the request's own lock."""
    unit = UnitOfWork(session_factory, Mode.WRITE)
    try:
        async with apart(unit.session) as own:
            assert await own.get(type(user), user.id) is not None
        await unit.session.get(type(user), user.id)
        with pytest.raises(RuntimeError, match="before the request's first statement"):
            async with apart(unit.session):
                pass
        async with apart(unit.session, Mode.READ) as reading:  # reading apart is always possible
            assert await reading.get(type(user), user.id) is not None
    finally:
        await unit.finish(success=False)


async def test_a_unit_told_its_mode_after_opening_its_session_runs_in_that_mode(engine, database_url):
    """On the app's own engine (not the tests' one connection) a route's mode may come after a
    dependency opened the session: the session then runs on the engine of that mode, and says so."""
    from tests.races import Arena

    arena = Arena(database_url)
    try:
        unit = UnitOfWork(arena.factory, Mode.READ)
        session = unit.session
        unit.use(Mode.WRITE)
        assert session.bind.dialect.name == arena.engine.dialect.name
        created = await arena.user()
        row = await session.get(type(created), created.id)
        row.display_name = "Renamed in a unit told to write"
        await session.flush()
        await unit.finish(success=True)
        async with arena.work(Mode.READ) as reading:
            renamed = await reading.get(type(created), created.id)
            assert renamed.display_name == "Renamed in a unit told to write"
    finally:
        await arena.close()


def test_no_service_commits():
    """Only the unit of work (app/core/db.py) commits, and the loaders of demo and scale data, which write
    in batches. A commit anywhere else would split a request's work in two."""
    allowed = {"db.py", "seed.py", "scale.py"}
    committing = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if path.name not in allowed and re.search(r"\.commit\(\)", path.read_text())
    ]
    assert committing == []

"""The database layer: SQLite pragmas, UTC timestamps, and page-or-fragment rendering."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import Request
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.main import create_app
from app.network.models import NetworkCity
from app.templating import render
from tests.conftest import client_for, make_user


async def test_foreign_keys_are_enforced(session):
    session.add(NetworkCity(network_id=999_999, city_id=999_999, role="member"))
    with pytest.raises(IntegrityError):
        await session.flush()


@pytest.mark.sqlite_only
async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(session):
    assert (await session.exec(text("PRAGMA journal_mode"))).one()[0] == "wal"
    assert (await session.exec(text("PRAGMA busy_timeout"))).one()[0] == 5000


async def test_times_come_back_in_utc(session):
    user = await make_user(session)
    user.last_login_at = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    session.add(user)
    await session.commit()
    session.expunge_all()
    loaded = await session.get(User, user.id)
    assert loaded.last_login_at == datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    assert loaded.last_login_at.tzinfo is not None


async def test_naive_datetimes_are_refused(session):
    user = await make_user(session)
    user.last_login_at = datetime(2026, 6, 1, 12, 0)
    session.add(user)
    with pytest.raises(Exception, match="naive datetime"):
        await session.flush()


async def test_htmx_fragment_requests_get_only_the_block(settings, session_factory):
    app = create_app(settings, session_factory)

    @app.get("/fragment-demo")
    async def fragment_demo(request: Request):
        return render(
            request, "errors/error.html", {"status_code": 200, "title": "T", "message": "M"}, block="content"
        )

    async with client_for(app) as client:
        page = await client.get("/fragment-demo")
        fragment = await client.get("/fragment-demo", headers={"HX-Request": "true"})
        boosted = await client.get("/fragment-demo", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in page.text and "<html" in boosted.text
    assert "<html" not in fragment.text and "<h1>T</h1>" in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]

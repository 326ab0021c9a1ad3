"""The database layer: SQLite pragmas, UTC timestamps, and page-or-fragment rendering."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import Request
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.accounts.models import AuthSession, User
from app.core import db
from app.core.templating import render
from app.main import create_app
from app.network.models import NetworkCity
from app.voting.models import Ballot, BallotOption
from app.workspaces.models import Membership, Workspace
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


@pytest.mark.parametrize("model", [AuthSession, User, Ballot, BallotOption, Workspace, Membership])
def test_driver_rows_are_read_in_the_order_the_orm_selects_them(model):
    """``loaded_models`` reads a model's values in its table's column order: the order ``select(model)``
    puts them in, or values would land in the wrong attributes."""
    keys, key_at = db._columns_of(model)
    assert keys == tuple(column.key for column in select(model).selected_columns)
    assert keys[key_at] == "id"


def test_driver_rows_become_detached_models_that_a_session_updates():
    assert db.loaded_models((7, "Ana"), ()) == [7, "Ana"]  # no model: the row as it is
    columns, _ = db._columns_of(BallotOption)
    values = {"id": 5, "ballot_id": 2, "position": 1, "label": "Rain gardens", "idea_id": None}
    option, tail = db.loaded_models((*[values[key] for key in columns], 42), (BallotOption,))
    assert isinstance(option, BallotOption) and option.label == "Rain gardens" and tail == 42
    assert sa_inspect(option).detached and sa_inspect(option).identity == (5,)
    missing, tail = db.loaded_models((None, None, None, None, None, 42), (BallotOption,))
    assert missing is None and tail == 42

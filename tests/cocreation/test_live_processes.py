"""The live room across server processes: two uvicorn processes serve one PostgreSQL database, and
what the moderator does through one reaches a client listening on the other, through LISTEN/NOTIFY.

The processes get a database of their own, created and dropped here, named after the suite's test
database, so the shared test database's rows are never touched."""

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import utcnow
from app.demo.seed import DEMO_PASSWORD
from tests.conftest import TEST_DATABASE_URL, post_form
from tests.e2e import server
from tests.test_live import postgresql_only

pytestmark = postgresql_only

PORTO = "/w/porto-campanha-green-corridor"
AGENDA = ["Welcome", "Where the water stands", "What we try first"]
UVICORN = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
WITHIN = 5.0  # seconds for an event to cross from one process to the other


@pytest.fixture
async def own_database_url():
    """An empty database beside the suite's test database, dropped afterwards (even with sessions
    still open on it: a server that would not stop must not leave it behind)."""
    url = make_url(TEST_DATABASE_URL)
    url = url.set(database=f"{url.database}_procs")
    maintenance = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = maintenance.dialect.identifier_preparer.quote(url.database)
    try:
        async with maintenance.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            await connection.execute(text(f"CREATE DATABASE {name}"))
        yield url.render_as_string(hide_password=False)
        async with maintenance.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        await maintenance.dispose()


@contextlib.contextmanager
def app_processes(database_url: str, count: int) -> Iterator[list[str]]:
    """The base URLs of ``count`` app processes serving one database, migrated and seeded once: as
    ``tests.e2e.server.running_app`` serves one, with its helpers."""
    with tempfile.TemporaryDirectory(prefix="cocreate-procs-") as tmp, contextlib.ExitStack() as running:
        env = {
            **os.environ,
            "COCREATE_DATABASE_URL": database_url,
            "COCREATE_ASSETS": "local",
            "COCREATE_ENV": "development",
            "COCREATE_DATA_DIR": tmp,
            "PYTHONUNBUFFERED": "1",
        }
        server._run_cli(["migrate"], env)
        server._run_cli(["seed-demo"], env)
        base_urls = []
        for number in range(count):
            port = server._free_port()
            log_path = Path(tmp) / f"server-{number}.log"
            process = subprocess.Popen(
                [*UVICORN, "--host", "127.0.0.1", "--port", str(port)],
                cwd=server.REPO_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=running.enter_context(log_path.open("wb")),
            )
            running.callback(server._stop, process)
            base_urls.append(f"http://127.0.0.1:{port}")
            server._wait_until_healthy(process, base_urls[-1], log_path)
        yield base_urls


@pytest.fixture
def two_processes(own_database_url):
    with app_processes(own_database_url, 2) as base_urls:
        yield base_urls


async def live_session(moderator: httpx.AsyncClient) -> tuple[str, list[str]]:
    """Schedules, publishes and starts a session through the forms; its room's path and agenda ids."""
    response = await post_form(
        moderator, "/login", {"email": "facilitator@example.org", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 303, response.text
    now = utcnow()
    response = await post_form(
        moderator,
        f"{PORTO}/sessions/new",
        {
            "title": "Rain walk, online",
            "phase": "co-diagnostic",
            "mode": "online",
            "online_url": "https://meet.example.org/rain-walk",
            "time_zone": "UTC",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "agenda_title": AGENDA,
            "agenda_minutes": ["10"] * len(AGENDA),
        },
    )
    assert response.status_code == 303, response.text
    session_path = response.headers["location"]
    for status in ("scheduled", "live"):
        response = await post_form(moderator, f"{session_path}/status", {"status": status})
        assert response.status_code == 303, response.text
    room = f"{session_path}/live"
    page = await moderator.get(room)
    return room, re.findall(r'name="item_id" value="(\d+)"', page.text)


async def next_event(lines) -> dict[str, str]:
    """The next Server-Sent Event of a stream as its fields; comments (keep-alives) are skipped."""
    fields: dict[str, str] = {}
    async for line in lines:
        if not line:
            if fields:
                return fields
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(": ")
        fields[name] = f"{fields[name]}\n{value}" if name in fields else value
    raise AssertionError("the event stream ended")


async def test_an_agenda_move_made_through_one_process_reaches_a_listener_on_the_other(two_processes):
    first, second = two_processes
    async with (
        httpx.AsyncClient(base_url=first, timeout=10) as moderator,
        httpx.AsyncClient(base_url=second, timeout=10) as citizen,
    ):
        room, item_ids = await live_session(moderator)
        assert len(item_ids) == len(AGENDA)
        page = await citizen.get(room)
        assert page.status_code == 200
        last_event_id = re.search(r'data-last-event-id="(\d+)"', page.text).group(1)

        async with citizen.stream("GET", f"{room}/events?last_event_id={last_event_id}") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            # The first move proves the stream is subscribed: it came by the table or by NOTIFY. The
            # second one, committed after that, can only come by NOTIFY.
            for item_id, title in zip(item_ids[1:], AGENDA[1:], strict=True):
                response = await post_form(moderator, f"{room}/agenda", {"item_id": item_id})
                assert response.status_code == 303, response.text
                event = await asyncio.wait_for(next_event(lines), WITHIN)
                assert event["event"] == "agenda"
                assert int(event["id"]) > int(last_event_id)
                current = re.search(r'<li class="current" aria-current="step">([^<]*)<', event["data"])
                assert current is not None and current.group(1).strip() == title, event["data"]
                last_event_id = event["id"]

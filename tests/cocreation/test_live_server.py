"""Open live rooms against the real server: a stream must not hold a database connection, or a few
open tabs would starve every other page (the pool has 15 connections)."""

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.server import running_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PORTO = "/w/porto-campanha-green-corridor"
STREAMS = 20


async def post(client: httpx.AsyncClient, url: str, data: dict) -> httpx.Response:
    token = CSRF.search((await client.get("/")).text).group(1)
    return await client.post(url, data={"csrf_token": token, **data})


async def start_live_session(client: httpx.AsyncClient) -> str:
    token = CSRF.search((await client.get("/login")).text).group(1)
    await client.post(
        "/login",
        data={"csrf_token": token, "email": "facilitator@example.org", "password": "green-corridor-2026"},
    )
    now = datetime.now(UTC)
    created = await post(
        client,
        f"{PORTO}/sessions/new",
        {
            "title": "Many tabs",
            "phase": "co-design",
            "mode": "in-person",
            "place_name": "Hall",
            "time_zone": "UTC",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    room = created.headers["location"]
    await post(client, f"{room}/status", {"status": "scheduled"})
    await post(client, f"{room}/status", {"status": "live"})
    return room


async def open_rooms_leave_the_pages_answering(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        room = await start_live_session(client)
        async with OpenStreams(base_url, f"{room}/live/events?last_event_id=0", STREAMS) as statuses:
            assert statuses == [200] * STREAMS
            page = await asyncio.wait_for(client.get("/workspaces"), timeout=5)
            assert page.status_code == 200
            moved = await asyncio.wait_for(post(client, f"{room}/status", {"status": "closed"}), timeout=5)
            assert moved.status_code == 303


class OpenStreams:
    """Opens ``count`` event streams (anonymous watchers of a public room) and keeps them open."""

    def __init__(self, base_url: str, path: str, count: int) -> None:
        self.clients = [httpx.AsyncClient(base_url=base_url, timeout=10) for _ in range(count)]
        self.path = path
        self.streams = []

    async def __aenter__(self) -> list[int]:
        for client in self.clients:
            stream = client.stream("GET", self.path)
            self.streams.append(stream)
        responses = [await stream.__aenter__() for stream in self.streams]
        return [response.status_code for response in responses]

    async def __aexit__(self, *exc) -> None:
        for stream in self.streams:
            await stream.__aexit__(None, None, None)
        for client in self.clients:
            await client.aclose()


def test_twenty_open_live_rooms_leave_the_other_pages_answering():
    with running_app() as base_url:
        asyncio.run(open_rooms_leave_the_pages_answering(base_url))

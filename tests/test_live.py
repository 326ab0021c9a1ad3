"""Live events: published in the caller's transaction, delivered after its commit, replayed from the table
when a subscriber resumes or falls behind, and across processes through PostgreSQL LISTEN/NOTIFY."""

import asyncio
import math
import os
import sys
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import col, delete, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from app.core import live
from app.core.config import BASE_DIR
from app.core.db import create_engine, create_session_factory, utcnow
from app.core.live import LiveEvent
from app.core.live import events as live_events
from app.main import create_app
from tests.conftest import TEST_DATABASE_URL, make_settings

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="LISTEN/NOTIFY needs PostgreSQL")


async def next_event(events, within: float = 5.0) -> live.ChannelEvent:
    return await asyncio.wait_for(anext(events), within)


async def assert_nothing_more(events) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(anext(events), 0.1)


async def publish_committed(session, channel: str, kind: str = "idea_added", **data) -> LiveEvent:
    event = await live.publish(session, channel=channel, kind=kind, data=data)
    await session.commit()
    return event


# One process, SQLite: the publishing session's commit hands events to the in-process hub.


@pytest.fixture
async def local_hub(engine, session_factory):
    hub = live.LocalHub(engine, session_factory=session_factory)
    yield hub
    await hub.close()


@pytest.mark.sqlite_only
async def test_a_committed_event_reaches_the_subscribers_of_its_channel_only(local_hub, session):
    async with (
        local_hub.subscribe("session:1") as room,
        local_hub.subscribe("session:2") as other_room,
    ):
        published = await publish_committed(session, "session:1", title="Rain garden", tags=("water",))

        received = await next_event(room)
        assert (received.id, received.channel, received.kind) == (published.id, "session:1", "idea_added")
        assert received.data == {"title": "Rain garden", "tags": ["water"]}
        assert received.created_at == published.created_at
        await assert_nothing_more(other_room)


@pytest.mark.sqlite_only
async def test_resuming_replays_exactly_the_missed_events_in_order_then_goes_live(local_hub, session):
    first, second, third = [await publish_committed(session, "session:1", n=n) for n in range(3)]
    await publish_committed(session, "session:2", n=99)

    async with local_hub.subscribe("session:1", last_event_id=first.id) as events:
        # Committed after subscribing but before the replay is read: in the table and in the queue.
        during_replay = await publish_committed(session, "session:1", n=3)
        replayed = [await next_event(events) for _ in range(3)]
        assert [event.id for event in replayed] == [second.id, third.id, during_replay.id]
        assert [event.data["n"] for event in replayed] == [1, 2, 3]

        live_one = await publish_committed(session, "session:1", n=4)
        assert (await next_event(events)).id == live_one.id
        await assert_nothing_more(events)


@pytest.mark.sqlite_only
async def test_without_a_last_event_id_only_events_committed_from_now_on_come(local_hub, session):
    await publish_committed(session, "session:1", n=0)
    async with local_hub.subscribe("session:1") as events:
        await assert_nothing_more(events)
        later = await publish_committed(session, "session:1", n=1)
        assert (await next_event(events)).id == later.id


@pytest.mark.sqlite_only
async def test_nothing_is_delivered_for_a_rolled_back_transaction(local_hub, session):
    async with local_hub.subscribe("session:1") as events:
        await live.publish(session, channel="session:1", kind="idea_added", data={"n": 0})
        await session.rollback()
        await assert_nothing_more(events)

        kept = await live.publish(session, channel="session:1", kind="idea_added", data={"n": 1})
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await live.publish(session, channel="session:1", kind="idea_added", data={"n": 2})
                raise RuntimeError("the vote was refused")
        async with session.begin_nested():
            released = await live.publish(session, channel="session:1", kind="idea_added", data={"n": 3})
        await assert_nothing_more(events)  # a released savepoint is not a commit
        await session.commit()

        received = [await next_event(events) for _ in range(2)]
        assert [(event.id, event.data["n"]) for event in received] == [(kept.id, 1), (released.id, 3)]
        await assert_nothing_more(events)
        stored = await session.exec(select(LiveEvent).where(LiveEvent.channel == "session:1"))
        assert sorted(event.data["n"] for event in stored) == [1, 3]


@pytest.mark.sqlite_only
async def test_a_session_closed_without_committing_forgets_what_it_published(local_hub, session):
    async with local_hub.subscribe("session:1") as events:
        await live.publish(session, channel="session:1", kind="idea_added", data={"n": 0})
        await session.close()
        kept = await publish_committed(session, "session:1", n=1)
        assert (await next_event(events)).data == {"n": 1}
        assert kept.id == await live.latest_event_id(session, channel="session:1")
        await assert_nothing_more(events)


@pytest.mark.sqlite_only
async def test_a_subscriber_too_slow_for_its_queue_reads_what_it_missed_from_the_table(
    engine, session_factory, session
):
    hub = live.LocalHub(engine, session_factory=session_factory, queue_size=2)
    try:
        async with hub.subscribe("session:1") as events:
            published = [await publish_committed(session, "session:1", n=n) for n in range(7)]
            received = [await next_event(events) for _ in range(7)]
            assert [event.id for event in received] == [event.id for event in published]
            await assert_nothing_more(events)
    finally:
        await hub.close()


@pytest.mark.sqlite_only
async def test_closing_the_hub_ends_its_subscriptions(local_hub):
    async with local_hub.subscribe("session:1") as events:
        waiting = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0)
        await local_hub.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 1)
    with pytest.raises(RuntimeError):
        local_hub.subscribe("session:1")


# Both databases.


@pytest.mark.parametrize(
    ("data", "error"),
    [({"ids": {1, 2}}, TypeError), ({"share": math.nan}, ValueError), (["not", "a", "dict"], TypeError)],
)
async def test_publish_refuses_data_that_json_cannot_carry(session, data, error):
    with pytest.raises(error):
        await live.publish(session, channel="session:1", kind="tally_changed", data=data)


async def test_publish_refuses_a_channel_or_kind_longer_than_the_columns(session):
    with pytest.raises(ValueError):
        await live.publish(session, channel="s" * 101, kind="idea_added", data={})
    with pytest.raises(ValueError):
        await live.publish(session, channel="session:1", kind="k" * 41, data={})


async def test_events_older_than_two_days_are_deleted(session):
    old = LiveEvent(
        channel="session:1", kind="idea_added", created_at=utcnow() - timedelta(days=2, minutes=1)
    )
    recent = LiveEvent(channel="session:1", kind="idea_added", created_at=utcnow() - timedelta(days=1))
    session.add_all([old, recent])
    await session.flush()

    await live.delete_expired(session)

    remaining = (
        await session.exec(select(LiveEvent.id).where(col(LiveEvent.id).in_([old.id, recent.id])))
    ).all()
    assert remaining == [recent.id]


async def test_publishing_deletes_expired_events_at_most_once_an_hour(session, monkeypatch):
    monkeypatch.setattr(live_events, "_next_purge", 0.0)

    async def add_expired() -> int:
        expired = LiveEvent(channel="session:1", kind="idea_added", created_at=utcnow() - timedelta(days=3))
        session.add(expired)
        await session.flush()
        return expired.id

    def stored(event_id: int):
        return session.exec(select(LiveEvent.id).where(LiveEvent.id == event_id))

    first = await add_expired()
    await live.publish(session, channel="session:1", kind="idea_added", data={})
    assert (await stored(first)).first() is None
    second = await add_expired()
    await live.publish(session, channel="session:1", kind="idea_added", data={})
    assert (await stored(second)).first() == second


async def test_latest_event_id_is_the_channel_s_newest_or_zero(session):
    assert await live.latest_event_id(session, channel="session:7") == 0
    await live.publish(session, channel="session:7", kind="idea_added", data={})
    newest = await live.publish(session, channel="session:7", kind="idea_added", data={})
    await live.publish(session, channel="session:8", kind="idea_added", data={})
    assert await live.latest_event_id(session, channel="session:7") == newest.id


async def test_the_app_creates_its_hub_at_startup_and_closes_it_at_shutdown(settings):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        hub = app.state.live
        assert isinstance(hub, live.PostgresHub if ON_POSTGRESQL else live.LocalHub)
        assert not hub.closed
    assert hub.closed


def test_an_app_given_a_session_factory_has_no_hub(settings, session_factory):
    app = create_app(settings, session_factory)
    assert not hasattr(app.state, "live")


# Server-Sent Events.


def test_an_sse_message_has_id_event_and_one_data_line_per_line():
    assert live.sse_message(event_id=42, event="idea_added", data="<li>Rain garden</li>") == (
        "id: 42\nevent: idea_added\ndata: <li>Rain garden</li>\n\n"
    )
    assert live.sse_message(event_id=7, event="tally", data="<ul>\n<li>a</li>\r\n<li>b</li>\r</ul>") == (
        "id: 7\nevent: tally\ndata: <ul>\ndata: <li>a</li>\ndata: <li>b</li>\ndata: </ul>\n\n"
    )
    assert live.sse_message(event_id=None, event=None, data="") == "data: \n\n"
    # Only CR and LF end SSE lines; other Unicode line separators are content.
    assert live.sse_message(event_id=None, event=None, data="a\u2028b") == "data: a\u2028b\n\n"


def test_an_sse_event_name_cannot_break_the_stream():
    with pytest.raises(ValueError):
        live.sse_message(event_id=1, event="idea\ndata: injected", data="x")


def request_with(headers: dict[str, str] | None = None, query: str = "") -> Request:
    raw_headers = [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": raw_headers, "query_string": query}
    )


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({"Last-Event-ID": "42"}, "", 42),
        ({}, "last_event_id=17", 17),
        ({"Last-Event-ID": "42"}, "last_event_id=17", 42),
        ({"Last-Event-ID": " 8 "}, "", 8),
        ({"Last-Event-ID": "0"}, "", 0),
        ({}, "", None),
        ({"Last-Event-ID": "abc"}, "", None),
        ({"Last-Event-ID": "-3"}, "", None),
        ({"Last-Event-ID": "1e3"}, "", None),
        ({"Last-Event-ID": "١٢"}, "", None),
        ({"Last-Event-ID": str(2**63)}, "", None),
        ({"Last-Event-ID": "9" * 40}, "", None),
        ({"Last-Event-ID": "garbage"}, "last_event_id=5", 5),
        ({}, "last_event_id=%00", None),
    ],
)
def test_the_last_event_id_comes_from_the_header_or_the_query_and_garbage_is_ignored(
    headers, query, expected
):
    assert live.parse_last_event_id(request_with(headers, query)) == expected


class StreamRequest:
    """What sse_stream uses of a request: the app's state and whether the client is still there."""

    def __init__(self, hub=None) -> None:
        self.app = SimpleNamespace(state=SimpleNamespace(live=hub) if hub else SimpleNamespace())
        self.disconnected = False

    async def is_disconnected(self) -> bool:
        return self.disconnected


async def test_the_stream_sends_messages_and_a_keepalive_comment_when_idle():
    outbox: asyncio.Queue[str] = asyncio.Queue()
    closed = asyncio.Event()

    async def messages():
        try:
            while True:
                yield await outbox.get()
        finally:
            closed.set()

    request = StreamRequest()
    stream = live.sse_stream(request, messages(), keepalive=0.05)
    outbox.put_nowait(live.sse_message(event_id=1, event="idea_added", data="one"))
    assert await anext(stream) == "id: 1\nevent: idea_added\ndata: one\n\n"
    assert await anext(stream) == ": keep-alive\n\n"

    request.disconnected = True
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    await asyncio.wait_for(closed.wait(), 1)


async def test_a_stream_its_reader_may_no_longer_read_says_goodbye_and_sends_nothing_more():
    outbox: asyncio.Queue[str] = asyncio.Queue()
    allowed = [True]

    async def messages():
        while True:
            yield await outbox.get()

    async def still_allowed():
        return allowed[0]

    stream = live.sse_stream(
        StreamRequest(),
        messages(),
        keepalive=0.05,
        allowed=still_allowed,
        farewell="event: closed\ndata: bye\n\n",
    )
    outbox.put_nowait("data: one\n\n")
    assert await anext(stream) == "data: one\n\n"
    allowed[0] = False
    outbox.put_nowait("data: secret\n\n")
    assert [message async for message in stream] == ["event: closed\ndata: bye\n\n"]


async def test_an_idle_stream_is_closed_at_its_keepalive_once_its_reader_may_no_longer_read():
    async def messages():
        await asyncio.Event().wait()
        yield "data: never\n\n"

    async def no():
        return False

    stream = live.sse_stream(
        StreamRequest(), messages(), keepalive=0.05, allowed=no, farewell="event: closed\n\n"
    )
    assert [message async for message in stream] == ["event: closed\n\n"]


async def test_the_stream_ends_when_the_messages_do():
    async def messages():
        yield "data: last\n\n"

    stream = live.sse_stream(StreamRequest(), messages(), keepalive=5)
    assert [message async for message in stream] == ["data: last\n\n"]


async def test_the_stream_ends_when_the_app_shuts_down(engine):
    hub = live.LocalHub(engine)
    never = asyncio.Event()

    async def messages():
        await never.wait()
        yield "data: never\n\n"

    stream = live.sse_stream(StreamRequest(hub), messages(), keepalive=5)
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)
    await hub.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(pending, 1)


@pytest.mark.sqlite_only
async def test_a_stream_of_a_subscription_unregisters_it_when_the_client_leaves(local_hub, session):
    async def messages():
        async with local_hub.subscribe("session:1") as events:
            async for event in events:
                yield live.sse_message(event_id=event.id, event=event.kind, data=str(event.data["n"]))

    request = StreamRequest(local_hub)
    stream = live.sse_stream(request, messages(), keepalive=0.05)
    assert await anext(stream) == ": keep-alive\n\n"
    event = await publish_committed(session, "session:1", n=5)
    assert await anext(stream) == f"id: {event.id}\nevent: idea_added\ndata: 5\n\n"

    request.disconnected = True
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert local_hub._subscribers == {}


@pytest.mark.sqlite_only
@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_a_streaming_response_unsubscribes_when_the_client_goes(local_hub, session, spec_version):
    """Through Starlette itself, as uvicorn (ASGI HTTP spec 2.3) and newer servers (2.4) drive it."""

    async def endpoint(request):
        async def messages():
            async with local_hub.subscribe("session:1") as events:
                async for event in events:
                    yield live.sse_message(event_id=event.id, event=event.kind, data="x")

        return StreamingResponse(
            live.sse_stream(request, messages(), keepalive=0.05), media_type="text/event-stream"
        )

    app = Starlette(routes=[Route("/live", endpoint)])
    bodies: list[bytes] = []
    streaming, gone = asyncio.Event(), asyncio.Event()

    async def receive():
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.body":
            bodies.append(message["body"])
            streaming.set()
        if message.get("body", b"").startswith(b"id:"):
            gone.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/live",
        "raw_path": b"/live",
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "server": ("testserver", 80),
        "client": ("203.0.113.7", 50000),
    }
    serving = asyncio.ensure_future(app(scope, receive, send))
    await asyncio.wait_for(streaming.wait(), 2)
    event = await publish_committed(session, "session:1", n=1)
    await asyncio.wait_for(serving, 2)

    assert bodies[0] == b": keep-alive\n\n"
    assert f"id: {event.id}\nevent: idea_added\ndata: x\n\n".encode() in bodies
    for _ in range(10):
        await asyncio.sleep(0)
    assert local_hub._subscribers == {}


# Several processes, PostgreSQL: real commits on engines of their own, NOTIFY between separate connections.


@pytest.fixture
async def pg_engines(engine):  # the session's engine: the schema is migrated before these run
    engines = []

    def make():
        engines.append(create_engine(make_settings(TEST_DATABASE_URL)))
        return engines[-1]

    yield make
    for each in engines:
        await each.dispose()


@pytest.fixture
async def channel(pg_engines):
    """A channel of this test's own; its committed events are deleted afterwards."""
    name = f"test:{uuid.uuid4().hex}"
    yield name
    async with create_session_factory(pg_engines())() as session:
        await session.exec(delete(LiveEvent).where(LiveEvent.channel == name))
        await session.commit()


@pytest.fixture
async def pg_hubs(pg_engines):
    hubs = []

    async def make(**options) -> live.PostgresHub:
        hubs.append(live.PostgresHub(pg_engines(), **options))
        await hubs[-1].start()
        assert hubs[-1].listening
        return hubs[-1]

    yield make
    for hub in hubs:
        await hub.close()


async def publish_elsewhere(engine, channel: str, kind: str = "idea_added", **data) -> LiveEvent:
    async with create_session_factory(engine)() as session:
        return await publish_committed(session, channel, kind, **data)


@postgresql_only
async def test_an_event_committed_through_one_hub_s_database_reaches_another_hub(
    pg_engines, pg_hubs, channel
):
    publisher, subscriber = await pg_hubs(), await pg_hubs()
    assert publisher.listener_pid != subscriber.listener_pid
    publishing_engine = pg_engines()

    async with subscriber.subscribe(channel) as events, publisher.subscribe(channel) as own_events:
        published = await publish_elsewhere(publishing_engine, channel, title="水花园", votes=[1, 2])
        for stream in (events, own_events):
            received = await next_event(stream)
            assert (received.id, received.kind) == (published.id, "idea_added")
            assert received.data == {"title": "水花园", "votes": [1, 2]}
            assert received.created_at == published.created_at

        # Too large for a NOTIFY payload: announced by id, read back by the listening hub.
        large = await publish_elsewhere(publishing_engine, channel, "agenda_moved", body="x" * 10_000)
        assert (await next_event(events)).data == {"body": "x" * 10_000}
        assert large.id > published.id

    resumed = await pg_hubs()
    async with resumed.subscribe(channel, last_event_id=published.id) as events:
        assert (await next_event(events)).id == large.id
        after = await publish_elsewhere(publishing_engine, channel, n=3)
        assert (await next_event(events)).id == after.id
        await assert_nothing_more(events)


@postgresql_only
async def test_postgresql_delivers_nothing_for_a_rolled_back_transaction(pg_engines, pg_hubs, channel):
    hub = await pg_hubs()
    session_factory = create_session_factory(pg_engines())
    async with hub.subscribe(channel) as events:
        async with session_factory() as session:
            await live.publish(session, channel=channel, kind="idea_added", data={"n": 0})
            await session.rollback()
            kept = await publish_committed(session, channel, n=1)
        assert (await next_event(events)).id == kept.id
        await assert_nothing_more(events)


@postgresql_only
async def test_publishers_of_one_channel_commit_in_id_order(pg_engines, pg_hubs, channel):
    hub = await pg_hubs()
    session_factory = create_session_factory(pg_engines())
    async with hub.subscribe(channel) as events, session_factory() as first, session_factory() as second:
        earlier = await live.publish(first, channel=channel, kind="tally_changed", data={"n": 1})
        later = asyncio.ensure_future(
            live.publish(second, channel=channel, kind="tally_changed", data={"n": 2})
        )
        await asyncio.sleep(0.3)
        assert not later.done()  # waits for the first publisher's transaction
        await first.commit()
        assert (await later).id > earlier.id
        await second.commit()
        assert [(await next_event(events)).data["n"] for _ in range(2)] == [1, 2]


PUBLISHER = """
import asyncio, os, sys

import app.models
from app.core import live
from app.core.config import Settings
from app.core.db import create_engine, create_session_factory


async def main(url, channel):
    engine = create_engine(Settings(database_url=url, _env_file=None))
    async with create_session_factory(engine)() as session:
        event = await live.publish(session, channel=channel, kind="idea_added", data={"pid": os.getpid()})
        await session.commit()
    await engine.dispose()
    print(event.id)


asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@postgresql_only
async def test_an_event_published_by_another_process_arrives_within_five_seconds(pg_hubs, channel):
    hub = await pg_hubs()
    async with hub.subscribe(channel) as events:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            PUBLISHER,
            TEST_DATABASE_URL,
            channel,
            cwd=BASE_DIR,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        received = await next_event(events, within=5)
        stdout, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()
        assert received.id == int(stdout)
        assert received.data["pid"] == process.pid != os.getpid()


@postgresql_only
async def test_events_committed_while_the_listening_connection_is_down_still_arrive(
    pg_engines, pg_hubs, channel
):
    hub = await pg_hubs(reconnect_delays=(2.0, 2.0))
    other_engine = pg_engines()
    async with hub.subscribe(channel) as events:
        before = await publish_elsewhere(other_engine, channel, n=0)
        assert (await next_event(events)).id == before.id
        dropped_pid = hub.listener_pid

        async with other_engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped_pid})
        for _ in range(50):
            if not hub.listening:
                break
            await asyncio.sleep(0.05)
        assert not hub.listening
        during = await publish_elsewhere(other_engine, channel, n=1)
        assert not hub.listening  # nobody heard this NOTIFY

        assert (await next_event(events, within=10)).id == during.id
        assert hub.listening and hub.listener_pid != dropped_pid
        after = await publish_elsewhere(other_engine, channel, n=2)
        assert (await next_event(events)).id == after.id
        await assert_nothing_more(events)

"""Live events: services publish on a channel (``session:42``); the live room streams them as SSE.

Publishing writes a ``live_event`` row in the caller's transaction, so an event exists if and only if the
business change commits. Delivery follows the commit: PostgreSQL sends a NOTIFY that every process's
:class:`PostgresHub` hears on its own LISTEN connection; on SQLite (one process) the session's commit
hands the event to the in-process :class:`LocalHub`.

Every subscriber gets each event of its channel once, in id order. Ids grow in commit order within a
channel (publishers of one channel take a transaction lock on PostgreSQL; SQLite has a single writer), so
``id > last delivered id`` is an exact test for "new", a browser resuming with ``Last-Event-ID`` misses
nothing, and whatever a subscriber could not take live (a full queue, a lost LISTEN connection) is read
back from the table.

An SSE route::

    hub: live.Hub = request.app.state.live
    last_event_id = live.parse_last_event_id(request)

    async def messages():
        async with hub.subscribe(f"session:{session_id}", last_event_id=last_event_id) as events:
            async for event in events:
                yield live.sse_message(event_id=event.id, event=event.kind, data=render(event))

    return StreamingResponse(live.sse_stream(request, messages()), media_type="text/event-stream")
"""

import asyncio
import hashlib
import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakSet

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import Field, SQLModel, col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

from app.core.db import SessionFactory, UTCDateTime, create_session_factory, utcnow

logger = logging.getLogger("cocreate")

CHANNEL_MAX_LENGTH = 100
KIND_MAX_LENGTH = 40
NOTIFY_CHANNEL = "cocreate_live"
# PostgreSQL refuses NOTIFY payloads from 8,000 bytes; larger events are announced by id and read back.
NOTIFY_PAYLOAD_LIMIT = 7500
# pg_advisory_xact_lock(int, int) keys: this namespace, then a hash of the channel.
LOCK_NAMESPACE = 0x4C495645
QUEUE_SIZE = 1000
READ_BATCH = 500
RETENTION = timedelta(days=2)
PURGE_INTERVAL_SECONDS = 3600.0
KEEPALIVE_SECONDS = 15.0
LISTEN_CONNECT_TIMEOUT_SECONDS = 10.0
MAX_EVENT_ID = 2**63 - 1


class LiveEvent(SQLModel, table=True):
    """One published event; kept for two days so subscribers can catch up from the last id they saw."""

    __tablename__ = "live_event"
    # AUTOINCREMENT: SQLite must never hand out an id again, even once old rows are gone.
    __table_args__ = (sa.Index("ix_live_event_channel_id", "channel", "id"), {"sqlite_autoincrement": True})

    id: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    )
    channel: str = Field(max_length=CHANNEL_MAX_LENGTH)
    kind: str = Field(max_length=KIND_MAX_LENGTH)
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    """An event as subscribers receive it; one instance goes to every subscriber, so leave ``data`` be."""

    id: int
    channel: str
    kind: str
    data: dict[str, Any]
    created_at: datetime

    @classmethod
    def from_row(cls, row: LiveEvent) -> "ChannelEvent":
        return cls(id=row.id, channel=row.channel, kind=row.kind, data=row.data, created_at=row.created_at)


async def publish(session: AsyncSession, *, channel: str, kind: str, data: dict) -> LiveEvent:
    """Record an event in the caller's transaction; subscribers get it once that transaction commits.

    On PostgreSQL the channel stays locked until the commit, and other publishers to it wait: publish as
    the last step before committing, and to one channel per transaction (or always in the same order).
    """
    if not isinstance(data, dict):
        raise TypeError("live event data must be a dict")
    if len(channel) > CHANNEL_MAX_LENGTH or len(kind) > KIND_MAX_LENGTH:
        raise ValueError(f"live event channel or kind too long: {channel!r}, {kind!r}")
    # Subscribers on either database see the data as JSON gives it back (tuples become lists...).
    data = json.loads(json.dumps(data, allow_nan=False))
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    if on_postgresql:
        # Held to commit: the next publisher on this channel gets a higher id and commits after us.
        await session.exec(select(func.pg_advisory_xact_lock(LOCK_NAMESPACE, _channel_lock_id(channel))))
    row = LiveEvent(channel=channel, kind=kind, data=data)
    session.add(row)
    await session.flush()
    event = ChannelEvent.from_row(row)
    if on_postgresql:
        await session.exec(select(func.pg_notify(NOTIFY_CHANNEL, _notification_payload(event))))
    else:
        _deliver_after_commit(session.sync_session, event)
    await _delete_expired_now_and_then(session)
    return row


async def latest_event_id(session: AsyncSession, *, channel: str) -> int:
    """The id of the channel's newest stored event (0 if none), for a page to resume its stream from."""
    latest = (await session.exec(select(func.max(LiveEvent.id)).where(LiveEvent.channel == channel))).one()
    return latest or 0


async def delete_expired(session: AsyncSession) -> None:
    """Delete events past the retention period, skipping rows another process is deleting right now."""
    expired = (
        select(LiveEvent.id)
        .where(LiveEvent.created_at < utcnow() - RETENTION)
        .with_for_update(skip_locked=True)
    )
    await session.exec(delete(LiveEvent).where(col(LiveEvent.id).in_(expired)))


_next_purge = 0.0


async def _delete_expired_now_and_then(session: AsyncSession) -> None:
    global _next_purge
    if time.monotonic() < _next_purge:
        return
    _next_purge = time.monotonic() + PURGE_INTERVAL_SECONDS
    await delete_expired(session)


def _channel_lock_id(channel: str) -> int:
    return int.from_bytes(hashlib.blake2b(channel.encode(), digest_size=4).digest(), "big", signed=True)


def _notification_payload(event: ChannelEvent) -> str:
    payload = _compact_json(
        {
            "id": event.id,
            "channel": event.channel,
            "kind": event.kind,
            "data": event.data,
            "created_at": event.created_at.isoformat(),
        }
    )
    if len(payload.encode()) > NOTIFY_PAYLOAD_LIMIT:
        return _compact_json({"id": event.id, "channel": event.channel})
    return payload


def _compact_json(value: dict) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# In-process delivery (SQLite): events wait on the session until its transaction commits.

_PENDING = "live_pending_events"
_local_hubs: "WeakSet[LocalHub]" = WeakSet()


def _database_key(engine: sa.Engine) -> tuple[str, str | None]:
    return engine.url.get_backend_name(), engine.url.database


def _deliver_after_commit(session: Session, event: ChannelEvent) -> None:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        sa.event.listen(session, "after_commit", _on_commit)
        sa.event.listen(session, "after_soft_rollback", _on_rollback)
        sa.event.listen(session, "after_transaction_end", _on_transaction_end)
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending.append((transaction, _database_key(session.get_bind().engine), event))


def _on_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released; its events wait for the outer transaction
    committed = list(session.info[_PENDING])
    session.info[_PENDING].clear()
    for _transaction, database, event in committed:
        for hub in list(_local_hubs):
            if hub.database_key == database:
                hub._fan_out(event)


def _on_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info[_PENDING]
    pending[:] = [entry for entry in pending if not _inside(entry[0], previous_transaction)]


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info[_PENDING].clear()  # closed without a commit: nothing of it happened


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


# Hubs and subscriptions.

_RESYNC = object()  # "read the table from your last id": the queue overflowed or live delivery had a gap
_CLOSED = object()


class Hub:
    """Fans committed events out to this process's subscribers, by channel. See :func:`create_hub`."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        session_factory: SessionFactory | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.database_key = _database_key(engine.sync_engine)
        self._session_factory = session_factory or create_session_factory(engine)
        self._queue_size = queue_size
        self._subscribers: dict[str, set[Subscription]] = {}
        self._closed = asyncio.Event()

    async def start(self) -> None:
        """Begin receiving events; an in-process hub has nothing to start."""

    async def close(self) -> None:
        """End every subscription; their iterators stop."""
        self._closed.set()
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription._end()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    def subscribe(self, channel: str, *, last_event_id: int | None = None) -> "Subscription":
        """The channel's events with ids above ``last_event_id`` (stored ones first), then live ones.

        With ``last_event_id=None`` only events committed from now on. Use it as
        ``async with hub.subscribe(channel, last_event_id=...) as events: async for event in events``;
        the iteration ends when the hub closes.
        """
        if self.closed:
            raise RuntimeError("the live hub is closed")
        return Subscription(self, channel, last_event_id)

    def _fan_out(self, event: ChannelEvent) -> None:
        for subscription in list(self._subscribers.get(event.channel, ())):
            subscription._offer(event)

    def _register(self, subscription: "Subscription") -> None:
        self._subscribers.setdefault(subscription.channel, set()).add(subscription)

    def _unregister(self, subscription: "Subscription") -> None:
        subscribers = self._subscribers.get(subscription.channel, set())
        subscribers.discard(subscription)
        if not subscribers:
            self._subscribers.pop(subscription.channel, None)

    async def _read_after(self, channel: str, after_id: int) -> list[ChannelEvent]:
        async with self._session_factory() as session:
            rows = await session.exec(
                select(LiveEvent)
                .where(LiveEvent.channel == channel, LiveEvent.id > after_id)
                .order_by(col(LiveEvent.id))
                .limit(READ_BATCH)
            )
            return [ChannelEvent.from_row(row) for row in rows]

    async def _latest_id(self, channel: str) -> int:
        async with self._session_factory() as session:
            return await latest_event_id(session, channel=channel)


class Subscription:
    """An async context manager that registers with the hub, and the async iterator of its events.

    Live events are queued from registration on, before any stored event is read, and anything at or
    below the last id handed out is skipped: nothing is lost between the replay and the live stream, and
    nothing comes twice. Iterating is safe to cancel (``asyncio.wait_for(anext(events), 1)``).
    """

    def __init__(self, hub: Hub, channel: str, last_event_id: int | None) -> None:
        self.channel = channel
        self._hub = hub
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=hub._queue_size)
        self._replay: deque[ChannelEvent] = deque()
        self._last_event_id = last_event_id
        # The highest id handed out or waiting in the replay buffer; anything at or below it is old.
        self._position = last_event_id or 0
        # The highest id this subscriber already has, the queue included: where a catch-up starts.
        self._covered = self._position
        self._must_read = last_event_id is not None
        self._ready = last_event_id is not None
        self._overflowed = False
        self._ended = False

    async def __aenter__(self) -> "Subscription":
        self._hub._register(self)
        if self._last_event_id is None:
            try:
                latest = await self._hub._latest_id(self.channel)
            except BaseException:
                self._hub._unregister(self)
                raise
            self._position = latest
            self._covered = max(self._covered, latest)
            self._ready = True
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._hub._unregister(self)

    def __aiter__(self) -> "Subscription":
        return self

    async def __anext__(self) -> ChannelEvent:
        while not self._ended:
            if self._replay:
                return self._replay.popleft()
            if self._must_read:
                await self._read_stored()
                continue
            item = await self._queue.get()
            if item is _RESYNC:
                self._overflowed = False
                self._covered = self._position
                self._must_read = True
            elif item is not _CLOSED and item.id > self._position:
                self._position = item.id
                return item
        raise StopAsyncIteration

    async def _read_stored(self) -> None:
        events = await self._hub._read_after(self.channel, self._position)
        self._replay.extend(events)
        if events:
            self._position = events[-1].id
            self._covered = max(self._covered, self._position)
        self._must_read = len(events) == READ_BATCH

    def _offer(self, event: ChannelEvent) -> None:
        if self._overflowed or event.id <= self._covered:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self._overflow()
        else:
            self._covered = event.id

    def _request_resync(self) -> None:
        if self._overflowed:
            return  # a resync is already waiting
        try:
            self._queue.put_nowait(_RESYNC)
        except asyncio.QueueFull:
            self._overflow()

    def _overflow(self) -> None:
        """Too slow to keep up: drop the queue and read the table from the last id instead."""
        self._drain()
        self._queue.put_nowait(_RESYNC)
        self._overflowed = True
        self._covered = self._position

    def _end(self) -> None:
        self._ended = True
        self._drain()
        self._queue.put_nowait(_CLOSED)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()


class LocalHub(Hub):
    """One process: the publishing session's commit hands events to this hub directly."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        session_factory: SessionFactory | None = None,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        super().__init__(engine, session_factory=session_factory, queue_size=queue_size)
        _local_hubs.add(self)

    async def close(self) -> None:
        _local_hubs.discard(self)
        await super().close()


@dataclass
class _CatchUp:
    """Queued before LISTEN: notifications heard after it wait until the table has been read."""

    listening: asyncio.Event


class PostgresHub(Hub):
    """Several processes: one LISTEN connection per process, reconnected with backoff when it drops.

    After every (re)connection each channel with subscribers is read back from the lowest id its
    subscribers have, so events committed while nobody was listening still arrive.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        session_factory: SessionFactory | None = None,
        queue_size: int = QUEUE_SIZE,
        reconnect_delays: tuple[float, float] = (0.5, 30.0),
        health_check_interval: float = 30.0,
    ) -> None:
        super().__init__(engine, session_factory=session_factory, queue_size=queue_size)
        self._connect_args = _asyncpg_connect_args(engine)
        self._reconnect_delays = reconnect_delays
        self._health_check_interval = health_check_interval
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._first_attempt = asyncio.Event()
        self.listener_pid: int | None = None

    @property
    def listening(self) -> bool:
        return self.listener_pid is not None

    async def start(self) -> None:
        """Start listening; returns after the first connection attempt, retrying in the background."""
        self._tasks = [
            asyncio.create_task(self._listen(), name="live-listen"),
            asyncio.create_task(self._dispatch(), name="live-dispatch"),
        ]
        await self._first_attempt.wait()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().close()

    async def _listen(self) -> None:
        shortest, longest = self._reconnect_delays
        delay = shortest
        while True:
            try:
                connection = await asyncpg.connect(**self._connect_args)
            except Exception as exc:
                logger.warning("live events: cannot connect to listen (%s), retrying in %.1f s", exc, delay)
            else:
                delay = shortest
                try:
                    await self._listen_on(connection)
                except Exception as exc:
                    logger.warning("live events: listening connection lost (%s), reconnecting", exc)
                finally:
                    self.listener_pid = None
                    connection.terminate()
            self._first_attempt.set()
            # Jitter, so the processes a database restart disconnected do not all come back at once.
            await asyncio.sleep(random.uniform(delay / 2, delay))  # noqa: S311
            delay = min(delay * 2, longest)

    async def _listen_on(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        catch_up = _CatchUp(asyncio.Event())
        self._inbox.put_nowait(catch_up)
        try:
            await connection.add_listener(NOTIFY_CHANNEL, self._on_notification)
        finally:
            catch_up.listening.set()
        self.listener_pid = connection.get_server_pid()
        self._first_attempt.set()
        while not lost.is_set():
            try:
                await asyncio.wait_for(lost.wait(), timeout=self._health_check_interval)
            except TimeoutError:
                # A connection that died silently (no FIN from a vanished host) shows up here.
                await connection.execute("SELECT 1", timeout=self._health_check_interval)
        raise ConnectionError("the server closed the connection")

    def _on_notification(self, _connection, _pid: int, _channel: str, payload: str) -> None:
        self._inbox.put_nowait(payload)

    async def _dispatch(self) -> None:
        """Handle notifications and catch-ups one at a time, so each channel stays in id order."""
        while True:
            item = await self._inbox.get()
            try:
                if isinstance(item, _CatchUp):
                    await item.listening.wait()
                    await self._catch_up()
                else:
                    await self._deliver(item)
            except Exception:
                logger.exception("live events: delivery failed; subscribers will read the table")
                for subscribers in list(self._subscribers.values()):
                    for subscription in list(subscribers):
                        subscription._request_resync()

    async def _deliver(self, payload: str) -> None:
        message = json.loads(payload)
        if message["channel"] not in self._subscribers:
            return
        if "kind" in message:
            event = ChannelEvent(
                id=message["id"],
                channel=message["channel"],
                kind=message["kind"],
                data=message["data"],
                created_at=datetime.fromisoformat(message["created_at"]),
            )
        else:
            async with self._session_factory() as session:
                row = await session.get(LiveEvent, message["id"])
            if row is None:
                return  # already past retention
            event = ChannelEvent.from_row(row)
        self._fan_out(event)

    async def _catch_up(self) -> None:
        for channel, subscribers in list(self._subscribers.items()):
            ready = [s for s in subscribers if s._ready and not s._overflowed]
            for subscription in subscribers.difference(ready):
                subscription._request_resync()
            if not ready:
                continue
            after_id = min(subscription._covered for subscription in ready)
            while True:
                events = await self._read_after(channel, after_id)
                for event in events:
                    self._fan_out(event)
                if len(events) < READ_BATCH:
                    break
                after_id = events[-1].id


def _asyncpg_connect_args(engine: AsyncEngine) -> dict:
    """What SQLAlchemy would pass to asyncpg.connect for this URL, less the dialect's own options."""
    _args, options = engine.dialect.create_connect_args(engine.url)
    connect_args = {key: value for key, value in options.items() if key in _ASYNCPG_CONNECT_PARAMETERS}
    connect_args.setdefault("timeout", LISTEN_CONNECT_TIMEOUT_SECONDS)
    return connect_args


_ASYNCPG_CONNECT_PARAMETERS = {"host", "port", "user", "password", "passfile", "database", "ssl", "timeout"}


def create_hub(engine: AsyncEngine, *, session_factory: SessionFactory | None = None) -> Hub:
    """The hub for this engine's database: LISTEN/NOTIFY on PostgreSQL, in-process on SQLite."""
    if engine.dialect.name == "postgresql":
        return PostgresHub(engine, session_factory=session_factory)
    return LocalHub(engine, session_factory=session_factory)


# Server-Sent Events.

KEEPALIVE_MESSAGE = ": keep-alive\n\n"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_EVENT_ID = re.compile(r"[0-9]{1,19}")


def sse_message(*, event_id: int | None, event: str | None, data: str) -> str:
    """One Server-Sent Event; each line of ``data`` becomes its own ``data:`` line."""
    if event is not None and _LINE_BREAK.search(event):
        raise ValueError("an SSE event name cannot contain a line break")
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    return "\n".join(lines) + "\n\n"


async def sse_stream(
    request: Request,
    messages: AsyncIterator[str],
    *,
    keepalive: float = KEEPALIVE_SECONDS,
    allowed: Callable[[], Awaitable[bool]] | None = None,
    farewell: str = "",
) -> AsyncIterator[str]:
    """The body of a ``text/event-stream`` response: ``messages`` as they come, a comment when idle.

    Before each message and keep-alive it asks ``allowed`` (when given) whether the reader may still
    read the stream; when not, it sends ``farewell`` and ends, and what was waiting is never sent.
    Ends too when the client disconnects, ``messages`` ends or the app's hub closes, and then closes
    ``messages`` (so an ``async with hub.subscribe(...)`` inside it unregisters).
    """
    hub: Hub | None = getattr(request.app.state, "live", None)
    shutdown = asyncio.ensure_future(hub.wait_closed()) if hub is not None else None
    next_message: asyncio.Future | None = None
    try:
        while not await request.is_disconnected():
            if next_message is None:
                next_message = asyncio.ensure_future(anext(messages))
            waiting = {next_message} if shutdown is None else {next_message, shutdown}
            done, _ = await asyncio.wait(waiting, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED)
            if shutdown in done:
                return
            if allowed is not None and not await allowed():
                if farewell:
                    yield farewell
                return
            if next_message not in done:
                yield KEEPALIVE_MESSAGE
                continue
            finished, next_message = next_message, None
            try:
                message = finished.result()
            except StopAsyncIteration:
                return
            yield message
    finally:
        # Cancelling first: it needs no await, so it happens even if this generator is being cancelled.
        unfinished = [task for task in (next_message, shutdown) if task is not None]
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        close_messages = getattr(messages, "aclose", None)
        if close_messages is not None:
            await close_messages()


def parse_last_event_id(request: Request) -> int | None:
    """The id to resume after: the ``Last-Event-ID`` header (an EventSource reconnecting) or a
    ``last_event_id`` query parameter (the page's first connection); None if neither is a valid id."""
    for value in (request.headers.get("last-event-id"), request.query_params.get("last_event_id")):
        if value is not None and _EVENT_ID.fullmatch(value.strip()):
            event_id = int(value.strip())
            if event_id <= MAX_EVENT_ID:
                return event_id
    return None

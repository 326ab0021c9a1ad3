"""Hubs: each process's subscriptions to live channels, fed by PostgreSQL's LISTEN (``PostgresHub``) or
by the commits of the process itself (``LocalHub``, SQLite), and read back from the table whatever a
subscriber could not take live."""

import asyncio
import json
import logging
import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from app.core.db import SessionFactory, create_session_factory
from app.core.live.events import (
    NOTIFY_CHANNEL,
    ChannelEvent,
    LiveEvent,
    database_key,
    latest_event_id,
    local_hubs,
)

logger = logging.getLogger("cocreate")

QUEUE_SIZE = 1000


READ_BATCH = 500


LISTEN_CONNECT_TIMEOUT_SECONDS = 10.0


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
        self.database_key = database_key(engine.sync_engine)
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
        local_hubs.add(self)

    async def close(self) -> None:
        local_hubs.discard(self)
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

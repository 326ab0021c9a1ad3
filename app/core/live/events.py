"""Live events: the ``live_event`` table, publishing an event in the caller's transaction (the NOTIFY
on PostgreSQL, the hand-over to the process's hubs on SQLite after the commit), and the purge of old
events."""

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakSet

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import Field, SQLModel, col, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import UTCDateTime, utcnow

logger = logging.getLogger("cocreate")


# In-process delivery (SQLite): events wait on the session until its transaction commits, then go to
# every LocalHub of the process.
local_hubs: WeakSet = WeakSet()


CHANNEL_MAX_LENGTH = 100


KIND_MAX_LENGTH = 40


NOTIFY_CHANNEL = "cocreate_live"


# PostgreSQL refuses NOTIFY payloads from 8,000 bytes; larger events are announced by id and read back.
NOTIFY_PAYLOAD_LIMIT = 7500


# pg_advisory_xact_lock(int, int) keys: this namespace, then a hash of the channel.
LOCK_NAMESPACE = 0x4C495645


RETENTION = timedelta(days=2)


PURGE_INTERVAL_SECONDS = 3600.0


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


_PENDING = "live_pending_events"


def database_key(engine: sa.Engine) -> tuple[str, str | None]:
    return engine.url.get_backend_name(), engine.url.database


def _deliver_after_commit(session: Session, event: ChannelEvent) -> None:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        sa.event.listen(session, "after_commit", _on_commit)
        sa.event.listen(session, "after_soft_rollback", _on_rollback)
        sa.event.listen(session, "after_transaction_end", _on_transaction_end)
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending.append((transaction, database_key(session.get_bind().engine), event))


def _on_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint was released; its events wait for the outer transaction
    committed = list(session.info[_PENDING])
    session.info[_PENDING].clear()
    for _transaction, database, event in committed:
        for hub in list(local_hubs):
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

"""Sliding-window rate limits kept in the database, so every app process sees the same counts, and
counted atomically before the act, so a burst of requests sent at once cannot slip past them."""

import hashlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, and_, col, delete, func, insert, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import UTCDateTime, apart, utcnow


class RateLimitHit(SQLModel, table=True):
    """One counted event (a failed login, say) in a named bucket."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (sa.Index("ix_rate_limit_hit_bucket_key_created_at", "bucket", "key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=40)
    key: str = Field(max_length=254)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited, retry after {retry_after} s")
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        """The wait as people are told it: in whole minutes, at least one."""
        return max(1, round(self.retry_after / 60))


@dataclass(frozen=True)
class Counter:
    """At most ``limit`` hits for ``key`` in ``bucket`` within a window."""

    bucket: str
    key: str
    limit: int


# Hits older than this are never counted by any limit; a key's stale hits go when it is hit again.
RETENTION = timedelta(days=1)
# pg_advisory_xact_lock(int, int) keys: this namespace, then a hash of the bucket and key.
LOCK_NAMESPACE = 0x524C494D


def _lock_id(bucket: str, key: str) -> int:
    digest = hashlib.blake2b(f"{bucket}\n{key}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


async def count(*, session: AsyncSession, counters: Sequence[Counter], window: timedelta) -> list[int]:
    """Counts one act against each counter, before the act: raises RateLimited, counting nothing,
    when any of them has its limit of hits within ``window`` already; else records a hit on each and
    returns their ids (for ``refund``).

    The count stands whatever the act then does: it is a transaction of its own beside the
    request's (``app.core.db.apart``), committed before this returns, so call it before the request's
    first write. The counters are locked while they are counted (SQLite's write lock, PostgreSQL
    advisory locks), so requests sent at once are counted one after another and a limit holds
    exactly; and only for that moment, so that the act itself, a password hashed say, does not hold
    up the next request."""
    async with apart(session) as own:
        if own.get_bind().dialect.name == "postgresql":
            # In one order, so two requests locking the same two counters cannot wait for each other.
            locks = sorted({_lock_id(counter.bucket, counter.key) for counter in counters})
            await own.exec(select(*(func.pg_advisory_xact_lock(LOCK_NAMESPACE, lock) for lock in locks)))
        now = utcnow()
        for counter in counters:
            used, oldest = (
                await own.exec(
                    select(func.count(), func.min(RateLimitHit.created_at)).where(
                        RateLimitHit.bucket == counter.bucket,
                        RateLimitHit.key == counter.key,
                        RateLimitHit.created_at > now - window,
                    )
                )
            ).one()
            if used >= counter.limit:
                raise RateLimited(max(1, int((oldest + window - now).total_seconds()) + 1))
        await own.exec(
            delete(RateLimitHit).where(
                or_(*(and_(RateLimitHit.bucket == c.bucket, RateLimitHit.key == c.key) for c in counters)),
                RateLimitHit.created_at < now - RETENTION,
            )
        )
        ids = (
            await own.exec(
                insert(RateLimitHit)
                .values([{"bucket": c.bucket, "key": c.key, "created_at": now} for c in counters])
                .returning(RateLimitHit.id)
            )
        ).all()
    return [row[0] for row in ids]


async def forgive(*, session: AsyncSession, hit_ids: Sequence[int], bucket: str, key: str) -> None:
    """Takes back the hits that ``count`` recorded, for an act that turned out not to count (a right
    password), and clears ``key``'s other hits in ``bucket``. Like the count it stands whatever the
    request does then (a new password refused for being too short), so it is apart from the
    request's transaction too, before the request's first statement."""
    async with apart(session) as own:
        if hit_ids:
            await own.exec(delete(RateLimitHit).where(col(RateLimitHit.id).in_(hit_ids)))
        await own.exec(delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.key == key))


# Limits on what people do -------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """At most ``per_user`` acts by one signed-in user and ``per_address`` from one address within
    ``seconds``; 0 leaves that side unlimited."""

    per_user: int
    per_address: int
    seconds: int

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.seconds)


# An address is shared by a household, a school, a mobile carrier's NAT or a workshop's wifi: its
# limits are sized for a room of two hundred people acting at once (one registration, an idea or two,
# a few comments, votes changed a few times), far above one user's, so they stop a script and never a
# workshop (docs/rate-limits.md). Per user, the limits are those of one busy person.
DEFAULT_LIMITS = {
    "post": Limit(per_user=10, per_address=400, seconds=3600),
    "comment": Limit(per_user=30, per_address=600, seconds=600),
    "report": Limit(per_user=20, per_address=200, seconds=3600),
    "vote": Limit(per_user=60, per_address=1200, seconds=60),
    "register": Limit(per_user=0, per_address=300, seconds=3600),
    # Each search is a request to the deployment's geocoder, which limits its users in turn.
    "place_search": Limit(per_user=30, per_address=600, seconds=600),
}


# Acts counted in memory rather than in the database (see LocalWindows).
IN_MEMORY = frozenset({"vote", "place_search"})


def parse_limits(text: str) -> dict[str, Limit]:
    """The defaults, with overrides written as ``action=per_user/per_address/seconds`` separated by
    commas, for example ``comment=10/50/600,register=0/5/3600``. Raises ValueError on anything else."""
    limits = dict(DEFAULT_LIMITS)
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        action, _, numbers = part.partition("=")
        values = numbers.split("/")
        if (
            action.strip() not in DEFAULT_LIMITS
            or len(values) != 3
            or not all(v.strip().isdigit() for v in values)
        ):
            raise ValueError(
                f"rate limit {part!r}: write action=per_user/per_address/seconds, action one of "
                + ", ".join(DEFAULT_LIMITS)
            )
        per_user, per_address, seconds = (int(v) for v in values)
        if seconds <= 0:
            raise ValueError(f"rate limit {part!r}: the window must be at least one second")
        limits[action.strip()] = Limit(per_user, per_address, seconds)
    return limits


def _keys(limit: Limit, user_id: int | None, address: str) -> list[tuple[str, int]]:
    keys = []
    if limit.per_user and user_id is not None:
        keys.append((f"user:{user_id}", limit.per_user))
    if limit.per_address:
        keys.append((f"address:{address}", limit.per_address))
    return keys


async def enforce(
    *, session: AsyncSession, action: str, limit: Limit, user_id: int | None, address: str
) -> None:
    """Raises RateLimited when the user or the address has used up ``limit`` for ``action``; else counts
    this act, at once and for good (``count``: a transaction of its own, so call it before the act's
    writes). An act
    counts once it is tried, even if it then fails."""
    counters = [Counter(action, key, most) for key, most in _keys(limit, user_id, address)]
    if counters:
        await count(session=session, counters=counters, window=limit.window)


class LocalWindows:
    """Sliding windows kept in this process's memory, for acts too frequent to count in the database
    (votes: a vote is one statement, and counting it there would double its cost). With several app
    processes each counts its own share, so a limit is a limit per process."""

    MAX_KEYS = 100_000

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._longest = 0

    def enforce(self, *, action: str, limit: Limit, user_id: int | None, address: str) -> None:
        now = time.monotonic()
        self._longest = max(self._longest, limit.seconds)
        keys = _keys(limit, user_id, address)
        windows = []
        for key, most in keys:
            window = self._hits.setdefault((action, key), deque())
            while window and window[0] <= now - limit.seconds:
                window.popleft()
            if len(window) >= most:
                raise RateLimited(max(1, int(window[0] + limit.seconds - now) + 1))
            windows.append(window)
        for window in windows:
            window.append(now)
        if len(self._hits) > self.MAX_KEYS:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, window in self._hits.items() if not window or window[-1] <= now - self._longest]:
            del self._hits[key]

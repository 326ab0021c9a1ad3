"""Sliding-window rate limits kept in the database, so every app process sees the same counts."""

import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, delete, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import UTCDateTime, utcnow


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


async def retry_after(
    *, session: AsyncSession, bucket: str, key: str, limit: int, window: timedelta
) -> int | None:
    """Seconds until ``key`` may act again in ``bucket``, or None when it is under the limit."""
    since = utcnow() - window
    count, oldest = (
        await session.exec(
            select(func.count(), func.min(RateLimitHit.created_at)).where(
                RateLimitHit.bucket == bucket,
                RateLimitHit.key == key,
                RateLimitHit.created_at > since,
            )
        )
    ).one()
    if count < limit:
        return None
    return max(1, int((oldest + window - utcnow()).total_seconds()) + 1)


# Hits older than this are never counted by any limit; a key's stale hits go when it is hit again.
RETENTION = timedelta(days=1)


async def hit(*, session: AsyncSession, bucket: str, key: str) -> None:
    await session.exec(
        delete(RateLimitHit).where(
            RateLimitHit.bucket == bucket,
            RateLimitHit.key == key,
            RateLimitHit.created_at < utcnow() - RETENTION,
        )
    )
    session.add(RateLimitHit(bucket=bucket, key=key))


async def clear(*, session: AsyncSession, bucket: str, key: str) -> None:
    await session.exec(delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.key == key))


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


# An address is shared by a household, a school or a workshop's wifi, so it gets more than one user.
DEFAULT_LIMITS = {
    "post": Limit(per_user=10, per_address=40, seconds=3600),
    "comment": Limit(per_user=30, per_address=120, seconds=600),
    "report": Limit(per_user=20, per_address=60, seconds=3600),
    "vote": Limit(per_user=60, per_address=1200, seconds=60),
    "register": Limit(per_user=0, per_address=10, seconds=3600),
}


# Acts counted in memory rather than in the database (see LocalWindows).
IN_MEMORY = frozenset({"vote"})


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
    this act in the caller's transaction (an act that is rolled back is not counted)."""
    keys = _keys(limit, user_id, address)
    for key, most in keys:
        wait = await retry_after(session=session, bucket=action, key=key, limit=most, window=limit.window)
        if wait is not None:
            raise RateLimited(wait)
    for key, _most in keys:
        await hit(session=session, bucket=action, key=key)


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

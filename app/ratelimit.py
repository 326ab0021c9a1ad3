"""Sliding-window rate limits kept in the database, so every app process sees the same counts."""

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

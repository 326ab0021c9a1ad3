"""What the header shows a signed-in user: their unread notifications and, to those who moderate,
how many moderation cases wait for them. One statement, run for every whole page a signed-in user
gets, so it is built once (per kind of reader: staff or not) with the reader and the time as bound
parameters, and run with their values: building the statement cost several times what running it does."""

import functools

from sqlalchemy import Integer, bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core.db import UTCDateTime, utcnow
from app.moderation import service as moderation_service
from app.notifications import service as notification_service
from app.workspaces.permissions import is_staff


@functools.cache
def _statement(staff: bool):
    reader_id = bindparam("reader_id", type_=Integer)
    now = bindparam("now", type_=UTCDateTime)
    waiting, moderates = moderation_service.waiting_for(staff=staff, reader_id=reader_id, now=now)
    unread = notification_service.unread_statement(staff=staff, reader_id=reader_id, now=now)
    return select(unread.scalar_subquery(), waiting, moderates)


async def counts(session: AsyncSession, user: User) -> dict:
    """``unread_notifications``, and ``moderation_waiting``: None for someone who moderates nothing."""
    params = {"reader_id": user.id, "now": utcnow()}
    result = await session.exec(_statement(is_staff(user)), params=params)
    row = result.one()
    return {"unread_notifications": row[0], "moderation_waiting": row[1] if row[2] else None}

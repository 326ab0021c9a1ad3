"""What the header shows a signed-in user: their unread notifications and, to those who moderate,
how many moderation cases wait for them. One statement, run by the sign-in middleware for every
whole page."""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.moderation import service as moderation_service
from app.notifications import service as notification_service


async def counts(session: AsyncSession, user: User) -> dict:
    """``unread_notifications``, and ``moderation_waiting``: None for someone who moderates nothing."""
    waiting, moderates = moderation_service.waiting_for(user)
    unread = notification_service.unread_statement(user).scalar_subquery()
    row = (await session.exec(select(unread, waiting, moderates))).one()
    return {"unread_notifications": row[0], "moderation_waiting": row[1] if row[2] else None}

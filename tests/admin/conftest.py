"""Accounts made quickly for the admins' pages: most never log in, so they get no real password hash."""

from datetime import timedelta

from app.accounts.models import Role, User
from app.core.db import utcnow
from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)

UNUSABLE_PASSWORD_HASH = "!admin-tests"


async def add_users(session, count: int, *, prefix: str = "person", role: str = Role.CITIZEN, **values):
    """``count`` accounts named "<prefix> <n>", created a minute apart (the last is the newest)."""
    start = utcnow() - timedelta(minutes=count)
    users = [
        User(
            email=f"{prefix}-{n}@example.org",
            display_name=f"{prefix.title()} {n}",
            password_hash=UNUSABLE_PASSWORD_HASH,
            role=role,
            created_at=start + timedelta(minutes=n),
            **values,
        )
        for n in range(count)
    ]
    session.add_all(users)
    await session.commit()
    return users

"""Moderation is tested on comments, ideas and members inside the demo network's workspaces."""

import pytest
from sqlmodel import func, select

from app.audit.models import AuditEvent
from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)


@pytest.fixture
async def audit_mark(session) -> int:
    """The last audit event before the test: the log is append-only, so concurrency tests' events
    (committed for real) stay in it."""
    return (await session.exec(select(func.max(AuditEvent.id)))).one() or 0

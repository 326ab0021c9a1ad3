"""The daily clean-up deletes what is past the times the privacy page gives, and nothing else; the
audit log refuses deletes again afterwards."""

from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import delete, select

from app.accounts.models import AuthSession
from app.audit.models import AuditEvent
from app.core import ratelimit
from app.core.db import utcnow
from app.privacy import service as privacy_service
from tests.conftest import make_user


async def test_prune_deletes_ended_logins_old_counters_and_audit_entries_past_their_years(session, settings):
    user = await make_user(session)
    now = utcnow()
    days = timedelta(days=1)
    session.add_all(
        [
            AuthSession(user_id=user.id, token_hash="live", expires_at=now + 5 * days),
            AuthSession(
                user_id=user.id, token_hash="revoked", expires_at=now + 5 * days, revoked_at=now - 2 * days
            ),
            AuthSession(user_id=user.id, token_hash="expired", expires_at=now - 2 * days),
            AuthSession(
                user_id=user.id, token_hash="idle", expires_at=now + 5 * days, last_seen_at=now - 9 * days
            ),
            AuthSession(
                user_id=user.id, token_hash="ended-an-hour-ago", expires_at=now + days, revoked_at=now
            ),
            ratelimit.RateLimitHit(bucket="login-account", key="a@example.org", created_at=now - 2 * days),
            ratelimit.RateLimitHit(bucket="login-account", key="b@example.org", created_at=now),
            AuditEvent(action="hide", actor_name="Old", created_at=now - 6 * 366 * days),
            AuditEvent(action="hide", actor_name="Recent", created_at=now - 4 * 365 * days),
        ]
    )
    await session.commit()

    done = await privacy_service.prune(session=session, settings=settings)

    assert done == {"login_sessions": 3, "counters": 1, "audit_entries": 1}
    logins = await session.exec(
        select(AuthSession.token_hash).where(AuthSession.user_id == user.id).order_by(AuthSession.id)
    )
    assert logins.all() == ["live", "ended-an-hour-ago"]
    hits = select(ratelimit.RateLimitHit.key).where(
        ratelimit.RateLimitHit.key.in_(["a@example.org", "b@example.org"])
    )
    assert (await session.exec(hits)).all() == ["b@example.org"]
    # (Other tests commit audit entries of their own, which no test can delete.)
    mine = select(AuditEvent.actor_name).where(AuditEvent.actor_name.in_(["Old", "Recent"]))
    assert (await session.exec(mine)).all() == ["Recent"]
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.exec(delete(AuditEvent).where(AuditEvent.actor_name == "Recent"))
    assert (await session.exec(mine)).all() == ["Recent"]


async def test_prune_with_nothing_old_leaves_the_audit_log_alone(session, settings):
    session.add(AuditEvent(action="hide", actor_name="Recent"))
    await session.commit()
    assert (await privacy_service.prune(session=session, settings=settings))["audit_entries"] == 0
    kept = await session.exec(select(AuditEvent).where(AuditEvent.actor_name == "Recent"))
    assert len(kept.all()) == 1


def test_the_prune_command_runs_on_a_database_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli

    for name in ("COCREATE_ENV", "COCREATE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCREATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    result = runner.invoke(cli, ["prune"])
    assert result.exit_code == 0, result.output
    assert (
        "Pruned 0 ended login sessions, 0 rate-limit counts and 0 audit entries older than 5 years."
        in result.output
    )

"""Login, logout and the life of a server-side session."""

from datetime import timedelta

from sqlmodel import func, select

from app.accounts import service as account_service
from app.accounts.models import AuthSession
from app.core.db import utcnow
from tests.conftest import PASSWORD, log_in, make_user, post_form

COOKIE = "cocreate_session"


async def test_login_sets_a_fresh_session_each_time(client, session, user):
    await log_in(client, user, via_form=True)
    first = client.cookies.get(COOKIE)
    await log_in(client, user, via_form=True)
    second = client.cookies.get(COOKIE)
    assert first and second and first != second
    sessions = (await session.exec(select(AuthSession).where(AuthSession.user_id == user.id))).all()
    assert len(sessions) == 2
    assert sum(s.revoked_at is None for s in sessions) == 1


async def test_login_redirects_to_a_local_next_only(client, user):
    response = await post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": "/network"}
    )
    assert response.headers["location"] == "/network"
    response = await post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example"}
    )
    assert response.headers["location"] == "/"


async def test_unknown_email_and_wrong_password_get_the_same_answer(client, user):
    wrong = await post_form(client, "/login", {"email": user.email, "password": "not it at all"})
    unknown = await post_form(client, "/login", {"email": "nobody@example.org", "password": "x" * 9})
    assert wrong.status_code == unknown.status_code == 422
    message = "That email and password do not match an account."
    assert message in wrong.text and message in unknown.text
    assert f'value="{user.email}"' in wrong.text


async def test_login_is_throttled_per_account(client, other_client, user):
    for _ in range(5):
        response = await post_form(client, "/login", {"email": user.email, "password": "wrong-guess"})
        assert response.status_code == 422
    blocked = await post_form(other_client, "/login", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed attempts" in blocked.text
    assert COOKIE not in other_client.cookies


async def test_login_is_throttled_per_address(client, session, monkeypatch):
    monkeypatch.setattr(account_service, "LOGIN_LIMIT_PER_ADDRESS", 3)
    for n in range(3):
        await post_form(client, "/login", {"email": f"guess{n}@example.org", "password": "whatever1"})
    someone = await make_user(session)
    response = await post_form(client, "/login", {"email": someone.email, "password": PASSWORD})
    assert response.status_code == 429


async def test_logins_that_succeed_leave_the_address_its_allowance(client, session, monkeypatch):
    """A room of people logging in from one wifi: only the failures count against the address."""
    monkeypatch.setattr(account_service, "LOGIN_LIMIT_PER_ADDRESS", 3)
    for n in range(6):
        await log_in(client, await make_user(session, display_name=f"Participant {n}"), via_form=True)
    for n in range(3):
        failed = await post_form(
            client, "/login", {"email": f"guess{n}@example.org", "password": "whatever1"}
        )
        assert failed.status_code == 422
    refused = await post_form(client, "/login", {"email": "guess@example.org", "password": "whatever1"})
    assert refused.status_code == 429


async def test_success_clears_the_account_counter(client, user):
    for _ in range(4):
        await post_form(client, "/login", {"email": user.email, "password": "wrong-guess"})
    await log_in(client, user, via_form=True)
    await post_form(client, "/logout")
    for _ in range(4):
        response = await post_form(client, "/login", {"email": user.email, "password": "wrong-guess"})
        assert response.status_code == 422


async def test_logout_revokes_so_a_replayed_cookie_is_logged_out(client, other_client, user):
    await log_in(client, user, via_form=True)
    token = client.cookies.get(COOKIE)
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    other_client.cookies.set(COOKIE, token)
    replay = await other_client.get("/profile")
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login?next=/profile")


async def test_idle_session_expires(client, session, settings, user):
    await log_in(client, user, via_form=True)
    auth = (await session.exec(select(AuthSession).where(AuthSession.user_id == user.id))).one()
    auth.last_seen_at = utcnow() - timedelta(minutes=settings.session_idle_minutes + 1)
    session.add(auth)
    await session.commit()
    assert (await client.get("/profile")).status_code == 303


async def test_absolute_expiry_ends_even_an_active_session(client, session, user):
    await log_in(client, user, via_form=True)
    auth = (await session.exec(select(AuthSession).where(AuthSession.user_id == user.id))).one()
    auth.expires_at = utcnow() - timedelta(seconds=1)
    session.add(auth)
    await session.commit()
    response = await client.get("/profile")
    assert response.status_code == 303


async def test_inactive_user_cannot_log_in(client, session, user):
    user.is_active = False
    session.add(user)
    await session.commit()
    response = await post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 403 and "This account is disabled." in response.text
    assert COOKIE not in response.cookies
    # Without the password nobody learns that the account exists, let alone that it is disabled.
    wrong = await post_form(client, "/login", {"email": user.email, "password": "not it at all"})
    assert wrong.status_code == 422 and "disabled" not in wrong.text


async def test_huge_password_is_refused_without_error(client, user):
    response = await post_form(client, "/login", {"email": user.email, "password": "p" * 100_000})
    assert response.status_code == 422


async def test_ended_sessions_are_cleared_at_the_next_login(client, session, user):
    await log_in(client, user, via_form=True)
    await post_form(client, "/logout")
    ended = (await session.exec(select(AuthSession).where(AuthSession.user_id == user.id))).one()
    ended.revoked_at = utcnow() - timedelta(days=2)
    session.add(ended)
    await session.commit()
    await log_in(client, user, via_form=True)
    statement = select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
    assert (await session.exec(statement)).one() == 1
    assert (await session.exec(statement.where(AuthSession.revoked_at != None))).one() == 0  # noqa: E711

"""Accounts: registration, login with throttling, server-side sessions, profile and password."""

import asyncio
import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import AuthSession, Role, User
from app.accounts.passwords import MAX_LENGTH, password_problem
from app.core import i18n, ratelimit
from app.core.config import Settings
from app.core.db import DriverQuery, Mode, apart, loaded_models, utcnow
from app.core.forms import FormError, clean_text
from app.core.i18n import _
from app.core.security import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)

DISPLAY_NAME_MAX = 80
EMAIL_MAX = 254
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_ACCOUNT_BUCKET = "login-account"
LOGIN_ADDRESS_BUCKET = "login-address"
LOGIN_LIMIT_PER_ACCOUNT = 5
# A workshop's room of two hundred logs in from one address, each attempt counted while its password
# is checked (a right one is then taken back), and some mistype theirs (docs/rate-limits.md).
LOGIN_LIMIT_PER_ADDRESS = 400
# The current password asked again (a new password, deleting the account): wrong guesses per account.
RECHECK_BUCKET = "password-recheck"
RECHECK_LIMIT_PER_ACCOUNT = 5
# A session's last_seen_at is written at most this often, so browsing does not write on every page.
TOUCH_INTERVAL = timedelta(minutes=1)
ENDED_SESSION_RETENTION = timedelta(days=1)


class AccountDisabled(Exception):
    """The password is right, but an admin has disabled the account."""


def normalize_email(email: str) -> str:
    return email.strip().lower()


def clean_email(value: str | None, errors: dict[str, str]) -> str:
    email = normalize_email(value or "")
    if not email:
        errors["email"] = _("Enter your email address.")
    elif len(email) > EMAIL_MAX:
        errors["email"] = _("Use at most %(max)s characters.", max=EMAIL_MAX)
    else:
        try:
            email = normalize_email(validate_email(email, check_deliverability=False).normalized)
        except EmailNotValidError:
            errors["email"] = _("Enter a valid email address, like name@example.org.")
    return email


# Marks that change the direction of the text after them: in a name they would turn around what the
# page says next to it (U+202E shows "Ana\u202egnp.exe" as "Ana" and a reversed "exe.png").
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_display_name(value: str | None, errors: dict[str, str]) -> str:
    """The name without direction marks; one that shows nothing (only zero-width characters) is refused."""
    name = clean_text(
        DIRECTION_CONTROLS.sub("", value or ""),
        field="display_name",
        errors=errors,
        max_length=DISPLAY_NAME_MAX,
    )
    if name and "display_name" not in errors and not any(unicodedata.category(c)[0] in "LNPS" for c in name):
        errors["display_name"] = _("Give a name that others can see.")
    return name


async def get_by_email(*, session: AsyncSession, email: str) -> User | None:
    return (await session.exec(select(User).where(User.email == normalize_email(email)))).first()


async def get(*, session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


class EmailTaken(FormError):
    """The address already has an account, and nothing else is wrong. The admin's command line says
    so; the registration page answers as a login with these details would (app/web/accounts.py)."""


async def create(
    *,
    session: AsyncSession,
    email: str | None,
    display_name: str | None,
    password: str,
    locale: str = i18n.DEFAULT_LANGUAGE,
    time_zone: str = "UTC",
    role: Role = Role.CITIZEN,
) -> User:
    """A new account, or FormError with a message per bad field. Nothing is saved on error."""
    errors: dict[str, str] = {}
    email = clean_email(email, errors)
    name = clean_display_name(display_name, errors)
    problem = password_problem(password, email=email, display_name=name)
    if problem:
        errors["password"] = problem
    if errors:
        # Whether the address is taken is told only once everything else is right (see EmailTaken).
        raise FormError(errors)
    # Read apart, and hashed before the request's first statement: on SQLite that takes the write
    # lock, held to the end; and a taken address is answered as a login, whose count comes first.
    async with apart(session, mode=Mode.READ) as reading:
        taken = await get_by_email(session=reading, email=email) is not None
    if taken:
        raise EmailTaken({"email": _("An account with this email address already exists. Log in instead?")})
    password_hash = await asyncio.to_thread(hash_password, password)
    user = User(
        email=email,
        display_name=name,
        password_hash=password_hash,
        locale=locale if locale in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE,
        time_zone=time_zone if i18n.is_time_zone(time_zone) else "UTC",
        role=role,
    )
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:
        # Two registrations with one address raced past the check above; the constraint decided. The
        # request has begun writing, so it cannot be answered as a login (whose count comes first).
        raise FormError(
            {"email": _("An account with this email address already exists. Log in instead?")}
        ) from None
    await session.refresh(user)
    return user


async def authenticate(*, session: AsyncSession, email: str, password: str, address: str) -> User | None:
    """The user these credentials belong to, or None (the same for an unknown email and a wrong
    password). Raises RateLimited when this account or this address failed too often recently, and
    AccountDisabled for the right password of a disabled account (only someone who knows the password
    learns that the account is disabled).

    Each attempt is counted before its password is checked (``ratelimit.count``), so that attempts
    sent at once are counted one after another: no more than the limit is ever checked. A right
    password takes its count back, and clears the account's failures."""
    email = normalize_email(email)[:EMAIL_MAX]
    hit_ids = await ratelimit.count(
        session=session,
        counters=[
            ratelimit.Counter(LOGIN_ACCOUNT_BUCKET, email, LOGIN_LIMIT_PER_ACCOUNT),
            ratelimit.Counter(LOGIN_ADDRESS_BUCKET, address, LOGIN_LIMIT_PER_ADDRESS),
        ],
        window=LOGIN_WINDOW,
    )
    # Read apart from the request's unit of work, which on SQLite would take the write lock with its
    # first statement and hold it while the password is checked.
    async with apart(session, mode=Mode.READ) as reading:
        user = await get_by_email(session=reading, email=email) if email else None
    # No stored password can be longer than the policy allows, so a longer one is simply wrong.
    candidate = user.password_hash if user and len(password) <= MAX_LENGTH else None
    # Hashing takes about a tenth of a second of CPU: in a thread, so other requests (and the live
    # rooms' streams) of this process go on meanwhile.
    if not await asyncio.to_thread(verify_password, candidate, password[:MAX_LENGTH]):
        return None
    rehashed = None
    if user.is_active and password_needs_rehash(user.password_hash):
        rehashed = await asyncio.to_thread(hash_password, password)
    await ratelimit.forgive(session=session, hit_ids=hit_ids, bucket=LOGIN_ACCOUNT_BUCKET, key=email)
    if not user.is_active:
        raise AccountDisabled
    session.add(user)
    if rehashed:
        user.password_hash = rehashed
    user.last_login_at = utcnow()
    await session.flush()
    return user


async def recheck_password(*, session: AsyncSession, user: User, password: str) -> bool:
    """Whether ``password`` is the signed-in user's own, asked again before a change that matters (a
    new password, deleting the account), so that someone who has only the session cannot make it.
    Guesses are limited like logins, counted the same way: raises RateLimited after
    RECHECK_LIMIT_PER_ACCOUNT wrong ones within LOGIN_WINDOW; a right one clears them."""
    hit_ids = await ratelimit.count(
        session=session,
        counters=[ratelimit.Counter(RECHECK_BUCKET, f"user:{user.id}", RECHECK_LIMIT_PER_ACCOUNT)],
        window=LOGIN_WINDOW,
    )
    if not await asyncio.to_thread(verify_password, user.password_hash, password[:MAX_LENGTH]):
        return False
    await ratelimit.forgive(session=session, hit_ids=hit_ids, bucket=RECHECK_BUCKET, key=f"user:{user.id}")
    return True


async def start_session(
    *, session: AsyncSession, user: User, settings: Settings, address: str, user_agent: str
) -> tuple[str, AuthSession]:
    """A new login session; returns the cookie token (only its digest is stored). The user's sessions
    that ended more than a day ago are deleted on the way."""
    token = new_token()
    now = utcnow()
    await session.exec(
        delete(AuthSession).where(
            col(AuthSession.user_id) == user.id,
            or_(
                col(AuthSession.expires_at) < now - ENDED_SESSION_RETENTION,
                col(AuthSession.revoked_at) < now - ENDED_SESSION_RETENTION,
            ),
        )
    )
    auth_session = AuthSession(
        user_id=user.id,
        token_hash=token_digest(token),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_max_age_days),
        ip_address=address[:45],
        user_agent=user_agent[:300],
    )
    session.add(auth_session)
    await session.flush()
    return token, auth_session


def session_is_live(auth_session: AuthSession, settings: Settings, now: datetime) -> bool:
    return (
        auth_session.revoked_at is None
        and now < auth_session.expires_at
        and now - auth_session.last_seen_at < timedelta(minutes=settings.session_idle_minutes)
    )


@dataclass
class LoadedSession:
    auth_session: AuthSession
    user: User
    touch: datetime | None = None  # the new last_seen_at, when it is to be written


@functools.cache
def _session_query():
    """Built once: it runs on every request of a signed-in user."""
    return (
        select(AuthSession, User)
        .join(User, col(User.id) == AuthSession.user_id)
        .where(col(AuthSession.token_hash) == bindparam("digest"))
    )


async def load_session(*, session: AsyncSession, token: str, settings: Settings) -> LoadedSession | None:
    """The live session behind a cookie token and its user, else None; its idle clock is due to be
    moved on when ``touch`` is set (``touch_session``, in a unit of work of its own: this one reads)."""
    row = (await session.exec(_session_query(), params={"digest": token_digest(token)})).first()
    return None if row is None else live_session(*row, settings=settings)


async def touch_session(*, session: AsyncSession, loaded: LoadedSession) -> None:
    """Moves the session's idle clock on (one statement)."""
    await session.exec(
        update(AuthSession)
        .where(col(AuthSession.id) == loaded.auth_session.id)
        .values(last_seen_at=loaded.touch)
    )
    loaded.auth_session.last_seen_at = loaded.touch


async def check_session(*, session: AsyncSession, token: str, settings: Settings) -> LoadedSession | None:
    """Whether a cookie token still signs its user in (a live session, an active account), without
    moving its idle clock: for a long-lived stream that asks again while it runs."""
    row = (await session.exec(_session_query(), params={"digest": token_digest(token)})).first()
    return None if row is None else live_session(*row, settings=settings)


@functools.cache
def _driver_queries() -> tuple[DriverQuery, DriverQuery]:
    touch = (
        update(AuthSession)
        .where(col(AuthSession.id) == bindparam("session_id"))
        .values(last_seen_at=bindparam("now", type_=AuthSession.__table__.c.last_seen_at.type))
    )
    return DriverQuery(_session_query()), DriverQuery(touch)


async def driver_load_session(*, connection, token: str, settings: Settings) -> LoadedSession | None:
    """``load_session`` on an asyncpg connection (``app.core.db.driver``): the same query and checks."""
    rows = await _driver_queries()[0].fetch(connection, digest=token_digest(token))
    if not rows:
        return None
    loaded = live_session(*loaded_models(rows[0], (AuthSession, User)), settings=settings)
    if loaded:
        await driver_touch(connection=connection, loaded=loaded)
    return loaded


async def driver_touch(*, connection, loaded: LoadedSession) -> None:
    """Moves the session's idle clock on, when it is due (``live_session``), on an asyncpg connection."""
    if loaded.touch:
        await _driver_queries()[1].fetch(connection, session_id=loaded.auth_session.id, now=loaded.touch)
        loaded.auth_session.last_seen_at = loaded.touch


def live_session(auth_session: AuthSession, user: User, *, settings: Settings) -> LoadedSession | None:
    """The session when it is live and its user active; ``touch`` is set when its idle clock is due
    to be moved on."""
    now = utcnow()
    if not user.is_active or not session_is_live(auth_session, settings, now):
        return None
    return LoadedSession(
        auth_session=auth_session,
        user=user,
        touch=now if now - auth_session.last_seen_at > TOUCH_INTERVAL else None,
    )


async def end_session(*, session: AsyncSession, auth_session_id: int) -> None:
    await session.exec(
        update(AuthSession)
        .where(col(AuthSession.id) == auth_session_id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_sessions(*, session: AsyncSession, user_id: int, keep_id: int | None = None) -> int:
    """Revokes every session of the user not yet revoked, but ``keep_id``; returns how many were
    revoked."""
    statement = update(AuthSession).where(
        col(AuthSession.user_id) == user_id, col(AuthSession.revoked_at).is_(None)
    )
    if keep_id is not None:
        statement = statement.where(col(AuthSession.id) != keep_id)
    result = await session.exec(statement.values(revoked_at=utcnow()))
    return result.rowcount


async def end_other_sessions(*, session: AsyncSession, user_id: int, keep_id: int | None) -> int:
    """Revokes every live session of the user but ``keep_id``; returns how many ended."""
    return await revoke_sessions(session=session, user_id=user_id, keep_id=keep_id)


async def live_sessions(*, session: AsyncSession, user_id: int, settings: Settings) -> list[AuthSession]:
    now = utcnow()
    rows = await session.exec(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            col(AuthSession.revoked_at).is_(None),
            AuthSession.expires_at > now,
            AuthSession.last_seen_at > now - timedelta(minutes=settings.session_idle_minutes),
        )
        .order_by(col(AuthSession.last_seen_at).desc())
    )
    return list(rows.all())


async def update_profile(
    *,
    session: AsyncSession,
    user: User,
    display_name: str | None,
    locale: str | None,
    time_zone: str | None,
    organisation_id: str,
    valid_organisation_ids: set[int],
) -> User:
    """Saves the profile form; ``organisation_id`` is the form's value, empty for none."""
    errors: dict[str, str] = {}
    name = clean_display_name(display_name, errors)
    if locale not in i18n.LANGUAGES:
        errors["locale"] = _("Choose one of the languages offered.")
    if not time_zone or not i18n.is_time_zone(time_zone):
        errors["time_zone"] = _("Choose a time zone from the list, for example Asia/Shanghai.")
    organisation = None
    if organisation_id.strip():
        organisation = next((i for i in valid_organisation_ids if str(i) == organisation_id.strip()), None)
        if organisation is None:
            errors["organisation_id"] = _("Choose an organisation from the list.")
    if errors:
        raise FormError(errors)
    user.display_name = name
    user.locale = locale
    user.time_zone = time_zone
    user.organisation_id = organisation
    user.updated_at = utcnow()
    session.add(user)
    await session.flush()
    return user


async def set_language(*, session: AsyncSession, user: User, language: str) -> None:
    user.locale = language
    session.add(user)
    await session.flush()


async def change_password(
    *,
    session: AsyncSession,
    user: User,
    current_password: str,
    new_password: str,
    confirm_password: str,
    keep_session_id: int | None,
) -> int:
    """Sets a new password and ends the user's other sessions; returns how many were ended. Raises
    FormError, and RateLimited after too many wrong current passwords (``recheck_password``)."""
    errors: dict[str, str] = {}
    problem = password_problem(new_password, email=user.email, display_name=user.display_name)
    if problem:
        errors["new_password"] = problem
    elif new_password != confirm_password:
        errors["confirm_password"] = _("The two new passwords are not the same.")
    # Hashed before the first write, which on SQLite takes the write lock until the end.
    new_hash = None if errors else await asyncio.to_thread(hash_password, new_password)
    if not await recheck_password(session=session, user=user, password=current_password):
        errors = {"current_password": _("This is not your current password."), **errors}
    if errors:
        raise FormError(errors)
    user.password_hash = new_hash
    user.updated_at = utcnow()
    session.add(user)
    await session.flush()
    return await end_other_sessions(session=session, user_id=user.id, keep_id=keep_session_id)


async def display_names(*, session: AsyncSession, user_ids: list[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.exec(select(User.id, User.display_name).where(col(User.id).in_(set(user_ids))))
    return dict(rows.all())


async def delete_user(*, session: AsyncSession, user_id: int) -> None:
    """Deletes the ``user`` row, the last step of deleting an account (``app.privacy.service``): what
    points at it is deleted or emptied by the database (``ON DELETE``), once every domain has forgotten
    the person (``app.core.personal_data``)."""
    await session.exec(delete(User).where(col(User.id) == user_id))
    await session.flush()

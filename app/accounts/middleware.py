"""Loads the signed-in user for every request and derives the session's CSRF token."""

import secrets
from collections.abc import Awaitable, Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import service as account_service
from app.core.config import Settings
from app.core.db import Mode, SessionFactory, bind_of, driver, runs_on_driver, unit_of_work
from app.core.security import csrf_token_for
from app.core.templating import wants_fragment

# What a whole page's header shows the signed-in user (their unread notifications, say), from a session.
HeaderCounts = Callable[..., Awaitable[dict]]
NO_COUNTS = {"unread_notifications": 0, "moderation_waiting": None}


class AuthContextMiddleware:
    """Sets ``state.user`` and ``state.auth_session`` from the session cookie (None when absent,
    expired or revoked), the header's counts (``header_counts``, made above the domains it counts),
    and ``state.csrf_token``. A visitor
    who is not signed in gets an anonymous id cookie, so forms such as login and register are
    CSRF-protected too."""

    def __init__(
        self, app: ASGIApp, settings: Settings, session_factory: SessionFactory, header_counts: HeaderCounts
    ) -> None:
        self.app = app
        self.settings = settings
        self.session_factory = session_factory
        self.header_counts = header_counts
        # On PostgreSQL the sign-in lookup, run on every request, goes straight to asyncpg.
        self.bind = bind_of(session_factory)
        self.on_driver = runs_on_driver(self.bind)

    async def load_session(self, token: str) -> account_service.LoadedSession | None:
        if self.on_driver:
            async with driver(self.bind) as raw:
                return await account_service.driver_load_session(
                    connection=raw, token=token, settings=self.settings
                )
        async with unit_of_work(self.session_factory, Mode.READ) as session:
            loaded = await account_service.load_session(session=session, token=token, settings=self.settings)
        if loaded and loaded.touch:
            async with unit_of_work(self.session_factory, Mode.ALONE) as session:
                await account_service.touch_session(session=session, loaded=loaded)
        return loaded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        state = scope.setdefault("state", {})
        settings = self.settings
        token = connection.cookies.get(settings.session_cookie_name)
        loaded = None
        counts = NO_COUNTS
        if token:
            loaded = await self.load_session(token)
            if loaded and shows_header(connection):
                async with unit_of_work(self.session_factory, Mode.READ) as session:
                    counts = await self.header_counts(session, loaded.user)
        state.update(counts)
        state["user"] = loaded.user if loaded else None
        state["auth_session"] = loaded.auth_session if loaded else None
        set_cookies: list[str] = []
        if loaded:
            state["csrf_token"] = csrf_token_for(settings.secret_key, token)
        else:
            if token:
                set_cookies.append(expired_cookie(settings.session_cookie_name))
            anon = connection.cookies.get(settings.anon_cookie_name)
            if not anon or len(anon) > 64:
                anon = secrets.token_urlsafe(24)
                set_cookies.append(cookie_header(settings, settings.anon_cookie_name, anon))
            state["csrf_token"] = csrf_token_for(settings.secret_key, "anon:" + anon)

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and set_cookies:
                headers = MutableHeaders(scope=message)
                # A response that signs someone in sets the session cookie itself: clearing a stale one
                # after it would log them out again at once.
                sets_session = any(
                    value.startswith(f"{settings.session_cookie_name}=")
                    for value in headers.getlist("set-cookie")
                )
                for value in set_cookies:
                    if not (sets_session and value.startswith(f"{settings.session_cookie_name}=")):
                        headers.append("set-cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_cookies)


def shows_header(connection: HTTPConnection) -> bool:
    """Whether the answer may be a whole page with the header and its unread count: not an htmx
    request for a fragment (boosted navigation swaps the whole page, so it does) nor an event stream."""
    headers = connection.headers
    if connection.url.path.startswith("/api/"):
        return False
    if wants_fragment(headers):
        return False
    return "text/event-stream" not in headers.get("accept", "")


def cookie_header(settings: Settings, name: str, value: str, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if settings.is_production:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def expired_cookie(name: str) -> str:
    return f"{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"

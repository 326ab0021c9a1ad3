"""Who is signed in on a request, looked up lazily, and the CSRF token of the browser session."""

import secrets
from collections.abc import Awaitable, Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import service as account_service
from app.core import i18n
from app.core.config import Settings
from app.core.db import Mode, SessionFactory, bind_of, driver, runs_on_driver, unit_of_work
from app.core.security import csrf_token_for
from app.core.templating import wants_fragment

# What a whole page's header shows the signed-in user (their unread notifications, say), from a session.
HeaderCounts = Callable[..., Awaitable[dict]]
NO_COUNTS = {"unread_notifications": 0, "moderation_waiting": None}


class SignIn:
    """Who is signed in on one request, looked up when first asked for (``load``): most requests ask at
    once (``app.accounts.deps.signed_in``, an app-wide dependency), a lean route asks together with
    what it needs itself (``load_with``: one statement for the sign-in and, say, the voter's standing).

    Loading sets ``state.user``, ``state.auth_session``, the header's counts for a whole page, the
    CSRF token of the browser session and the user's language; a cookie of a session that is no longer
    live is cleared, and the visitor gets an anonymous id instead."""

    def __init__(self, middleware: "AuthContextMiddleware", scope: Scope, token: str | None) -> None:
        self.middleware = middleware
        self.scope = scope
        self.token = token
        self.loaded = token is None
        self.set_cookies: list[str] = []
        if token is None:
            self._visitor()

    async def load(self) -> None:
        if not self.loaded:
            wants_counts = shows_header(HTTPConnection(self.scope))
            loaded, counts = await self.middleware.load_session(self.token, with_counts=wants_counts)
            self._settle(loaded)
            if counts is not None:
                self.scope["state"].update(counts)
            else:
                await self.header_counts()

    async def load_with(self, fetch: Callable[[str], Awaitable[tuple]]):
        """Loads the sign-in with ``fetch(token)``, which returns ``(auth_session, user, extra)`` in one
        statement (``auth_session`` None when there is none); returns ``extra``, or None when nobody
        is signed in. Its idle clock is moved on as ``load`` does."""
        if self.token is None:
            return None  # a visitor, settled as one from the start
        if self.loaded:
            raise RuntimeError("the sign-in is loaded already; load_with must come first")
        auth_session, user, extra = await fetch(self.token)
        loaded = None
        if auth_session is not None:
            loaded = account_service.live_session(auth_session, user, settings=self.middleware.settings)
            if loaded and loaded.touch:
                await self.middleware.touch(loaded)
        self._settle(loaded)
        await self.header_counts()
        return extra if loaded else None

    def _settle(self, loaded: account_service.LoadedSession | None) -> None:
        settings = self.middleware.settings
        state = self.scope["state"]
        self.loaded = True
        state["user"] = loaded.user if loaded else None
        state["auth_session"] = loaded.auth_session if loaded else None
        if loaded:
            state["csrf_token"] = csrf_token_for(settings.secret_key, self.token)
        else:
            self.set_cookies.append(expired_cookie(settings.session_cookie_name))
            self._visitor()
        i18n.settle(self.scope, state["user"])

    def _visitor(self) -> None:
        settings = self.middleware.settings
        anon = HTTPConnection(self.scope).cookies.get(settings.anon_cookie_name)
        if not anon or len(anon) > 64:
            anon = secrets.token_urlsafe(24)
            self.set_cookies.append(cookie_header(settings, settings.anon_cookie_name, anon))
        self.scope["state"]["csrf_token"] = csrf_token_for(settings.secret_key, "anon:" + anon)

    async def header_counts(self) -> None:
        """The counts a whole page's header shows the signed-in user, once loaded."""
        user = self.scope["state"].get("user")
        if user is not None and shows_header(HTTPConnection(self.scope)):
            async with unit_of_work(self.middleware.session_factory, Mode.READ) as session:
                self.scope["state"].update(await self.middleware.header_counts(session, user))


def sign_in_of(scope: Scope) -> SignIn | None:
    return scope.get("state", {}).get("sign_in")


class AuthContextMiddleware:
    """Puts a ``SignIn`` for the session cookie on every request (``state.sign_in``), looked up when first
    asked for; until then ``state.user`` and ``state.auth_session`` are None. A visitor who is not
    signed in gets an anonymous id cookie, so forms such as login and register are CSRF-protected too."""

    def __init__(
        self, app: ASGIApp, settings: Settings, session_factory: SessionFactory, header_counts: HeaderCounts
    ) -> None:
        self.app = app
        self.settings = settings
        self.session_factory = session_factory
        self.header_counts = header_counts
        # On PostgreSQL the sign-in lookup, run on nearly every request, goes straight to asyncpg.
        self.bind = bind_of(session_factory)
        self.on_driver = runs_on_driver(self.bind)

    async def load_session(
        self, token: str, *, with_counts: bool = False
    ) -> tuple[account_service.LoadedSession | None, dict | None]:
        """The live session behind the token, and, ``with_counts``, the header's counts for its user
        when they could be read with it (None otherwise: ``SignIn.header_counts`` reads them). On
        SQLite both are read in one unit of work; on PostgreSQL the lookup goes straight to asyncpg."""
        if self.on_driver:
            async with driver(self.bind) as raw:
                loaded = await account_service.driver_load_session(
                    connection=raw, token=token, settings=self.settings
                )
            return loaded, None
        counts = None
        async with unit_of_work(self.session_factory, Mode.READ) as session:
            loaded = await account_service.load_session(session=session, token=token, settings=self.settings)
            if loaded and with_counts:
                counts = await self.header_counts(session, loaded.user)
        if loaded and loaded.touch:
            await self.touch(loaded)
        return loaded, counts

    async def touch(self, loaded: account_service.LoadedSession) -> None:
        """Moves the session's idle clock on, in a statement of its own."""
        if self.on_driver:
            async with driver(self.bind) as raw:
                await account_service.driver_touch(connection=raw, loaded=loaded)
            return
        async with unit_of_work(self.session_factory, Mode.ALONE) as session:
            await account_service.touch_session(session=session, loaded=loaded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.update(NO_COUNTS)
        state["user"] = None
        state["auth_session"] = None
        sign_in = SignIn(self, scope, HTTPConnection(scope).cookies.get(self.settings.session_cookie_name))
        state["sign_in"] = sign_in
        session_cookie = f"{self.settings.session_cookie_name}="

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start" and sign_in.set_cookies:
                headers = MutableHeaders(scope=message)
                # A response that signs someone in sets the session cookie itself: clearing a stale one
                # after it would log them out again at once.
                sets_session = any(
                    value.startswith(session_cookie) for value in headers.getlist("set-cookie")
                )
                for value in sign_in.set_cookies:
                    if not (sets_session and value.startswith(session_cookie)):
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

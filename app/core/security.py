"""Password hashing, CSRF tokens, and the middleware for security headers and request body size."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.config import HTMX_CDN_URL, Settings
from app.core.deps import is_lean

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# argon2id with the library's defaults (RFC 9106 "second recommended" parameters).
_hasher = PasswordHasher()
# Verified against when an email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(secret_key: str, session_key: str) -> str:
    """The CSRF token of one browser session: a MAC of its session key, so nothing is stored."""
    return hmac.new(secret_key.encode(), f"csrf:{session_key}".encode(), hashlib.sha256).hexdigest()


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: every unsafe request carries the session's token as a field or header (a
    lean route checks it itself, once it knows who is signed in)."""
    if request.method in SAFE_METHODS or is_lean(request):
        return
    await check_csrf(request)


async def check_csrf(request: Request) -> None:
    """403 unless the request carries the browser session's CSRF token (``state.csrf_token``): the
    ``X-CSRF-Token`` header when there is one, else the form's field."""
    expected = getattr(request.state, "csrf_token", None)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not csrf_matches(expected, sent):
        raise HTTPException(status_code=403, detail="csrf")


def csrf_matches(expected: str, sent: str | None) -> bool:
    """Whether the token sent is the session's (a token is hex: anything else is simply wrong)."""
    return bool(sent) and sent.isascii() and hmac.compare_digest(expected, sent)


async def refuse_nul_characters(request: Request) -> None:
    """App-wide dependency: a NUL character in the path, the query or a form's text answers 422.

    No database keeps one in text (PostgreSQL refuses it, SQLite's full-text search fails on it), so
    it would otherwise end as a server error; no one types it, so the page says what is wrong rather
    than coming back with the form."""
    found = "\x00" in request.url.path or any(
        "\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()
    )
    if not found and request.method not in SAFE_METHODS:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            found = any(
                "\x00" in key or (isinstance(value, str) and "\x00" in value)
                for key, value in form.multi_items()
            )
    if found:
        raise HTTPException(status_code=422, detail="nul")


def content_security_policy(settings: Settings, nonce: str) -> str:
    script_src = ["'self'", f"'nonce-{nonce}'"]
    if settings.assets == "cdn":
        script_src.append(HTMX_CDN_URL.split("/npm/")[0])
    img_src = ["'self'", "data:"]
    if settings.map_tile_origin:
        img_src.append(settings.map_tile_origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": script_src,
        "style-src": ["'self'"],
        "img-src": img_src,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(settings: Settings, nonce: str) -> dict[str, str]:
    """What every answer carries: the middleware adds them, and the server error page, which Starlette
    sends from outside every middleware, adds them itself."""
    headers = {
        "Content-Security-Policy": content_security_policy(settings, nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
    }
    if settings.is_production:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware:
    """A fresh CSP nonce per request (``request.state.csp_nonce``) and the headers every answer gets."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(security_headers(self.settings, nonce))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """The request body is over the configured limit; the error page answers it with 413."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodySizeLimitMiddleware:
    """Stops reading a request body once it passes ``limit`` bytes, whatever Content-Length says.

    ``upload_limits`` lets the paths that take files (a pattern the whole path matches) send
    multipart bodies up to their own limit. The error is raised where the route reads the body, so
    the app's error page renders the 413.
    """

    def __init__(
        self, app: ASGIApp, limit: int, upload_limits: Mapping[re.Pattern[str], int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limits = dict(upload_limits or {})

    def limit_for(self, path: str, headers: dict[bytes, bytes]) -> int:
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data"):
            for pattern, upload_limit in self.upload_limits.items():
                if pattern.fullmatch(path):
                    return max(self.limit, upload_limit)
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.limit_for(scope["path"], headers)
        declared = headers.get(b"content-length", b"")
        declared_too_large = declared.isdigit() and (len(declared) > 18 or int(declared) > limit)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared_too_large:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        await self.app(scope, limited_receive, send)

"""create_app(): settings, database, middleware, routers, static files and error pages."""

import gc
import logging
import secrets
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Match

import app.handlers
import app.models  # noqa: F401 (every table, so foreign keys between domains resolve)
from app.accounts.deps import LoginRequired, ensure_signed_in, signed_in
from app.accounts.middleware import AuthContextMiddleware
from app.admin.routes import router as admin_router
from app.attachments import service as attachment_service
from app.attachments.routes import router as attachments_router
from app.core import live, ratelimit
from app.core.config import STATIC_DIR, Settings
from app.core.db import (
    SessionFactory,
    UnitOfWorkMiddleware,
    create_engine,
    create_session_factory,
    unit_of_work,
)
from app.core.errors import Refused
from app.core.i18n import N_, LocaleMiddleware, gettext, ngettext
from app.core.security import (
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
    refuse_nul_characters,
    security_headers,
    verify_csrf,
)
from app.core.templating import create_environment, is_htmx_fragment_request, render, static_version
from app.network.routes import router as network_router
from app.notifications.routes import router as notifications_router
from app.privacy.routes import router as privacy_router
from app.search.routes import router as search_router
from app.voting import keys as voting_keys
from app.voting.api import router as voting_api_router
from app.voting.routes import router as voting_router
from app.web import header
from app.web.accounts import router as accounts_router
from app.web.audit import router as audit_router
from app.web.comments import router as comments_router
from app.web.helpers import TEMPLATE_HELPERS
from app.web.ideas import router as ideas_router
from app.web.moderation import router as moderation_router
from app.web.sessions import router as cocreation_router
from app.web.topics import router as topics_router
from app.web.workspaces import router as workspaces_router

logger = logging.getLogger("cocreate")

ERROR_TEXTS = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    403: (N_("Not allowed"), N_("You do not have permission to do this.")),
    404: (N_("Page not found"), N_("There is nothing at this address. It may have been moved.")),
    405: (N_("Not allowed"), N_("This address does not accept that kind of request.")),
    413: (N_("Too large"), N_("What you sent is larger than this site accepts.")),
    422: (N_("Check your input"), N_("Some of what you sent is not valid.")),
    409: (N_("Not possible now"), N_("This cannot be done in the state things are in.")),
    429: (N_("Too many requests"), N_("Slow down a little and try again in a moment.")),
    500: (N_("Something went wrong"), N_("We could not finish this request. Please try again.")),
}
CSRF_TEXT = N_("Your form expired or came from another site. Go back, reload the page and try again.")
NUL_TEXT = N_(
    "What you sent holds a NUL character, which cannot be stored. Go back, remove it and try again."
)


def error_page(request: Request, status_code: int, headers: dict | None = None, detail: str = ""):
    title, message = ERROR_TEXTS.get(status_code, ERROR_TEXTS[400 if status_code < 500 else 500])
    if status_code == 403 and detail == "csrf":
        message = CSRF_TEXT
    elif status_code == 422 and detail == "nul":
        message = NUL_TEXT
    if request.url.path.startswith("/api/"):  # scripts and kiosks read JSON, whatever went wrong
        return JSONResponse({"detail": gettext(message)}, status_code=status_code, headers=headers)
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": gettext(title), "message": gettext(message)},
        status_code=status_code,
        headers=headers,
    )


def refusal(request: Request, status_code: int, message: str, headers: dict | None = None) -> Response:
    """A refused act (``app.core.errors.Refused``, a rate limit) that no route answered in place: JSON
    for the API, the message alone for an htmx fragment (swapped where the act was), else a page."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status_code, headers=headers)
    if is_htmx_fragment_request(request):
        return render(
            request, "errors/_inline.html", {"message": message}, status_code=status_code, headers=headers
        )
    title = ERROR_TEXTS.get(status_code, ERROR_TEXTS[400])[0]
    return render(
        request,
        "errors/error.html",
        {"status_code": status_code, "title": gettext(title), "message": message},
        status_code=status_code,
        headers=headers,
    )


def without_trailing_slash(request: Request) -> str | None:
    """The path to redirect to when ``/ideas/`` is asked for and ``/ideas`` exists, as a path only:
    Starlette's own redirect wrote the request's Host header into an absolute Location."""
    path = request.url.path
    if path == "/" or not path.endswith("/"):
        return None
    scope = {**request.scope, "path": path.rstrip("/") or "/"}
    if not any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
        return None
    return scope["path"] + (f"?{request.url.query}" if request.url.query else "")


# Generation-0 collections every 50,000 allocations instead of 700: with hundreds of live-room streams
# open, full collections of the default thresholds paused the server for 200-370 ms every few seconds
# (bench/live.py: p99 from 331 ms to about 60 ms).
GC_THRESHOLDS = (50_000, 20, 10)


def tune_garbage_collector() -> None:
    """For a serving process: what was loaded at start-up is never collected, and collections are rarer."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


GZIP_MINIMUM_BYTES = 500
# A file asked for by its versioned URL (``app.core.templating.static_url`` adds ``?v=<content hash>``)
# never changes at that URL: browsers and proxies keep it for a year. Any other URL of it (no
# version, or an old one) is checked again each time.
IMMUTABLE = "public, max-age=31536000, immutable"


class VersionedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
            current = asked == static_version(path)
            response.headers["Cache-Control"] = IMMUTABLE if current else "no-cache"
        return response


def create_app(settings: Settings | None = None, session_factory: SessionFactory | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = None
    if session_factory is None:
        engine = create_engine(settings)
        session_factory = create_session_factory(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if settings._voting_key is None:
            async with unit_of_work(session_factory) as session:
                settings.use_voting_key(await voting_keys.load_or_create(session))
        if engine is not None:
            app.state.live = live.create_hub(engine)
            await app.state.live.start()
            tune_garbage_collector()
        yield
        if engine is not None:
            await app.state.live.close()
            await engine.dispose()

    app = FastAPI(
        title="cocreate",
        lifespan=lifespan,
        dependencies=[Depends(signed_in), Depends(verify_csrf), Depends(refuse_nul_characters)],
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,  # without_trailing_slash() does it with a path, not the Host header
        openapi_url=None if settings.is_production else "/openapi.json",
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.templates = create_environment(settings, TEMPLATE_HELPERS)
    app.state.local_limits = ratelimit.LocalWindows()

    app.add_middleware(UnitOfWorkMiddleware, session_factory=session_factory)
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(
        AuthContextMiddleware,
        settings=settings,
        session_factory=session_factory,
        header_counts=header.counts,
    )
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=settings.max_body_bytes,
        upload_limits={attachment_service.UPLOAD_PATHS: attachment_service.UPLOAD_BODY_BYTES},
    )
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    # Pages, scripts and styles compressed for those who accept it; Starlette leaves the live rooms'
    # event streams (text/event-stream) alone, so each event still goes out as it happens.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)

    app.mount("/static", VersionedStaticFiles(directory=STATIC_DIR), name="static")
    # Routes are matched in order, one pattern after another: the API and the ballots, the busiest
    # when a room votes, first (none of their paths overlaps another router's).
    app.include_router(voting_api_router)
    app.include_router(voting_router)
    app.include_router(network_router)
    app.include_router(accounts_router)
    app.include_router(workspaces_router)
    app.include_router(ideas_router)
    app.include_router(comments_router)
    app.include_router(attachments_router)
    app.include_router(topics_router)
    app.include_router(notifications_router)
    app.include_router(search_router)
    app.include_router(cocreation_router)
    app.include_router(moderation_router)
    app.include_router(audit_router)
    app.include_router(admin_router)
    app.include_router(privacy_router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz():
        try:
            async with session_factory() as session:
                await session.exec(text("SELECT 1"))
        except Exception:
            logger.exception("health check failed")
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        await ensure_signed_in(request)
        if exc.status_code == 404 and (target := without_trailing_slash(request)):
            return RedirectResponse(target, status_code=307)
        return error_page(request, exc.status_code, exc.headers, str(exc.detail or ""))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        await ensure_signed_in(request)
        return error_page(request, 422)

    @app.exception_handler(ratelimit.RateLimited)
    async def rate_limited_answer(request: Request, exc: ratelimit.RateLimited):
        await ensure_signed_in(request)
        message = ngettext(
            "You did this many times in a short while. Try again in %(num)s minute.",
            "You did this many times in a short while. Try again in %(num)s minutes.",
            exc.minutes,
        )
        return refusal(request, 429, message, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Refused)
    async def refused_answer(request: Request, exc: Refused):
        await ensure_signed_in(request)
        return refusal(request, exc.status, exc.message)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": gettext("Log in first.")}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/"
        login_url = f"/login?next={quote(target, safe='/')}"
        if request.headers.get("HX-Request") == "true":
            # An htmx request would swap the login page into a fragment; send the whole page there.
            return Response(status_code=204, headers={"HX-Redirect": login_url})
        return RedirectResponse(login_url, status_code=303)

    @app.exception_handler(500)
    async def server_error(request: Request, exc: Exception):
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        # Starlette answers a server error from outside the middleware, so the headers are added here.
        nonce = getattr(request.state, "csp_nonce", None) or secrets.token_urlsafe(16)
        request.state.csp_nonce = nonce
        return error_page(request, 500, headers=security_headers(settings, nonce))

    return app

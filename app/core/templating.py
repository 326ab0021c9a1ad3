"""The Jinja environment, ``render()`` for a page or the block an HTMX swap needs, and flash messages."""

import base64
import hashlib
import hmac
import json
from functools import cache, lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import BytecodeCache, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup

from app.core import forms, i18n
from app.core.config import (
    HTMX_CDN_URL,
    HTMX_SRI,
    HTMX_SSE_CDN_URL,
    HTMX_SSE_SRI,
    HTMX_SSE_VERSION,
    HTMX_VERSION,
    LEAFLET_VERSION,
    STATIC_DIR,
    TEMPLATES_DIR,
    Settings,
)

FLASH_COOKIE = "cocreate_flash"

HTMX_CONFIG = json.dumps(
    {
        "allowEval": False,
        "allowScriptTags": True,
        "includeIndicatorStyles": False,
        "selfRequestsOnly": True,
        "historyCacheSize": 0,
        # Settling copies the old element's attributes onto its new copy first; a style attribute (the
        # map's, set by Leaflet) copied that way is an inline style the CSP refuses.
        "attributesToSettle": ["class", "width", "height"],
        # A 4xx answer is the page saying what is wrong (a form with its errors, 403, 404, 429): swapped
        # in, and not logged as an error in the console. A 5xx still is.
        "responseHandling": [
            {"code": "204", "swap": False},
            {"code": "[23]..", "swap": True},
            {"code": "4..", "swap": True, "error": False},
            {"code": "5..", "swap": True, "error": True},
        ],
    },
    separators=(",", ":"),
)


@cache
def static_version(path: str) -> str:
    """A short content hash, so a changed asset gets a new URL and caches can keep the old one."""
    file = STATIC_DIR / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.is_file() else "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version(path)}"


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates kept in the process's memory, for every environment it makes (each app has
    one; the tests make an app per test). Jinja checks each entry against its template's source, so
    an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = ProcessBytecodeCache()


def create_environment(settings: Settings, helpers: dict[str, Any] | None = None) -> Environment:
    """The templates' environment; ``helpers`` are the domains' functions the templates call (a
    permission check, say), given by the layer above them (``app.web.template_helpers``)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(("html", "xml")),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=not settings.is_production,
        bytecode_cache=COMPILED_TEMPLATES,
    )
    env.install_gettext_callables(i18n.raw_gettext, i18n.raw_ngettext, newstyle=True)
    # Jinja's newstyle gettext, with the same results, in one call instead of three (a page with many
    # comments asks for some 800 translations): see ``_gettext``.
    env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext)
    env.globals.update(
        static_url=static_url,
        settings=settings,
        languages=i18n.LANGUAGES,
        htmx_config=HTMX_CONFIG,
        htmx_url=HTMX_CDN_URL if settings.assets == "cdn" else None,
        htmx_sri=HTMX_SRI,
        htmx_local=f"vendor/htmx-{HTMX_VERSION}/htmx.min.js",
        sse_url=HTMX_SSE_CDN_URL if settings.assets == "cdn" else None,
        sse_sri=HTMX_SSE_SRI,
        sse_local=f"vendor/htmx-ext-sse-{HTMX_SSE_VERSION}/sse.min.js",
        leaflet_dir=f"vendor/leaflet-{LEAFLET_VERSION}",
        reader_time_zone=i18n.get_time_zone,
        date_years=(forms.FIRST_YEAR, forms.LAST_YEAR),
    )
    env.globals.update(helpers or {})
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        when=i18n.format_when,
        time_in=i18n.format_time_in,
        country=i18n.format_country,
        names=i18n.format_list,
        zone_name=i18n.format_time_zone,
        zone_choice=i18n.time_zone_choice,
    )
    return env


@lru_cache(maxsize=8192)
def _translated_markup(language: str, message: str) -> Markup:
    """A message translated and formatted without variables, as Jinja's newstyle gettext gives it in
    an escaping template (``%%`` becomes ``%``). Bounded: a message is normally a literal of a template
    or a marked label, but a template may pass one it computes."""
    return Markup(i18n.translations(language).ugettext(message)) % {}  # noqa: S704 (see _gettext)


@pass_context
def _gettext(__context, __string: str, **variables):
    """``jinja2.ext``'s newstyle ``gettext``: the message's translation is markup (the catalog's text, as
    Jinja's own takes it), the variables are escaped into it."""
    if __context.eval_ctx.autoescape:
        if not variables:
            return _translated_markup(i18n.get_language(), __string)
        return Markup(i18n.raw_gettext(__string)) % variables  # noqa: S704
    return i18n.raw_gettext(__string) % variables


@pass_context
def _ngettext(__context, __singular: str, __plural: str, __num: int, **variables):
    """``jinja2.ext``'s newstyle ``ngettext``: ``num`` is the count unless given."""
    variables.setdefault("num", __num)
    text = i18n.raw_ngettext(__singular, __plural, __num)
    if __context.eval_ctx.autoescape:
        return Markup(text) % variables  # noqa: S704 (as _gettext)
    return text % variables


def _sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), b"flash:" + payload, hashlib.sha256).hexdigest()


def flash(request: Request, response: Response, message: str, category: str = "info") -> None:
    """Queues a message for the next page this browser renders (a signed cookie, no server state)."""
    messages = [*_read_flashes(request), {"category": category, "message": message}]
    payload = base64.urlsafe_b64encode(json.dumps(messages).encode())
    value = f"{payload.decode()}.{_sign(request.app.state.settings.secret_key, payload)}"
    response.set_cookie(
        FLASH_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.is_production,
        path="/",
    )


def _read_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _, signature = raw.encode().partition(b".")
    # Compared as bytes: anyone can write the cookie, and compare_digest refuses text outside ASCII.
    expected = _sign(request.app.state.settings.secret_key, payload).encode()
    if not payload or not hmac.compare_digest(expected, signature):
        return []
    try:
        messages = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, json.JSONDecodeError):
        return []
    return [m for m in messages if isinstance(m, dict)][:10]


def is_htmx_fragment_request(request: Request) -> bool:
    """True for an HTMX request that swaps part of a page. Boosted navigation and history restores
    want the whole page. The one check of it: the middleware asks ``wants_fragment`` of the headers."""
    return wants_fragment(request.headers)


def wants_fragment(headers) -> bool:
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The whole page, or only ``block`` of it when HTMX asks for a fragment."""
    env: Environment = request.app.state.templates
    template = env.get_template(template_name)
    state = request.state
    flashes = _read_flashes(request)
    values = {
        "request": request,
        "current_user": getattr(state, "user", None),
        "unread_notifications": getattr(state, "unread_notifications", 0),
        "moderation_waiting": getattr(state, "moderation_waiting", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "csp_nonce": getattr(state, "csp_nonce", ""),
        "language": i18n.get_language(),
        "html_lang": "zh-Hans" if i18n.get_language() == "zh" else i18n.get_language(),
        "flashes": flashes,
        **(context or {}),
    }
    if block and is_htmx_fragment_request(request):
        html = "".join(template.blocks[block](template.new_context(values)))
    else:
        html = template.render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
    response.headers.setdefault("Cache-Control", "no-store")
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response

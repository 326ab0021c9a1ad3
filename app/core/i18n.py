"""Languages: negotiation, Babel catalogs, and formatting of dates in the reader's language and zone.

The current language and time zone live in context variables set once per request by
``LocaleMiddleware``; ``gettext`` and the formatters read them, so templates, services and flash
messages all speak the reader's language without passing it around.
"""

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import BASE_DIR

TRANSLATIONS_DIR = BASE_DIR / "app" / "translations"
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "cocreate_lang"

# Our language key -> (Babel locale for formatting, catalog directory, name in its own language)
LANGUAGES: dict[str, tuple[str, str, str]] = {
    # British English: day-month dates and 24-hour times, as our European users write them.
    "en": ("en_GB", "en", "English"),
    "zh": ("zh_Hans_CN", "zh_Hans", "中文"),
}

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)
_time_zone: ContextVar[str] = ContextVar("time_zone", default="UTC")
UTC_ZONE = ZoneInfo("UTC")


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated later, where it is shown."""
    return message


@cache
def translations(language: str) -> NullTranslations:
    """The catalog for ``language``, compiled in memory from its .po file (no build step)."""
    _, directory, _ = LANGUAGES[language]
    po_path = TRANSLATIONS_DIR / directory / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=LANGUAGES[language][0])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def get_language() -> str:
    return _language.get()


def get_time_zone() -> str:
    return _time_zone.get()


@cache
def _locale_of(language: str) -> Locale:
    return Locale.parse(LANGUAGES[language][0])


def babel_locale() -> Locale:
    """The reader's Babel locale (parsed once per language: a page formats a hundred dates)."""
    return _locale_of(get_language())


def set_context(language: str, time_zone: str = "UTC") -> None:
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    _time_zone.set(time_zone if is_time_zone(time_zone) else "UTC")


def raw_gettext(message: str) -> str:
    """The translation, unformatted (Jinja's newstyle gettext fills in the variables itself)."""
    return translations(get_language()).ugettext(message)


def raw_ngettext(singular: str, plural: str, n: int) -> str:
    return translations(get_language()).ungettext(singular, plural, n)


def gettext(message: str, **variables) -> str:
    text = raw_gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    variables.setdefault("num", n)
    return raw_ngettext(singular, plural, n) % variables


_ = gettext


def language_from_accept(header: str) -> str | None:
    """The first supported language in an Accept-Language header, by quality then order."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else None


def negotiate(*, user_language: str | None, cookie: str | None, accept_language: str) -> str:
    for candidate in (user_language, cookie, language_from_accept(accept_language)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


@cache
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC"))


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(time_zones())


def is_time_zone(name: str) -> bool:
    if name not in _time_zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _zone(name: str | None) -> ZoneInfo:
    name = name or get_time_zone()
    return ZoneInfo(name) if is_time_zone(name) else UTC_ZONE


def in_zone(value: datetime, zone: str | None = None) -> datetime:
    """A moment in a zone (the reader's by default; UTC for a name that is no zone). Forms keep dates
    to sane years, but a moment near the ends of the calendar already stored (year 1, year 9999) has
    no local time in a zone that would push it past them: it stays in UTC, so its page still shows."""
    tz = _zone(zone)
    try:
        return value.astimezone(tz)
    except OverflowError:
        return value.astimezone(UTC_ZONE)


# The locale's standard lengths of a date and time, whose patterns are looked up once per language.
STANDARD_FORMATS = ("full", "long", "medium", "short")
# Patterns that show a zone's name need the date for the zone's variant: left to Babel's own path.
_ZONE_FIELDS = frozenset("zZvVOxX")


@cache
def _datetime_patterns(language: str, format: str):
    """For a standard length: how the date and time are joined, the time's pattern and the date's,
    as ``babel.dates.format_datetime`` finds them each time it is called; None when the time's
    pattern shows a zone."""
    locale = _locale_of(language)
    time_pattern = babel_dates.parse_pattern(babel_dates.get_time_format(format, locale=locale))
    if any(letter in _ZONE_FIELDS for letter in time_pattern.pattern):
        return None
    joined = babel_dates.get_datetime_format(format, locale=locale).replace("'", "")
    date_pattern = babel_dates.parse_pattern(babel_dates.get_date_format(format, locale=locale))
    return joined, time_pattern, date_pattern


def format_datetime(value: datetime | None, format: str = "medium") -> str:
    if value is None:
        return ""
    local = in_zone(value)
    language = get_language()
    patterns = _datetime_patterns(language, format) if format in STANDARD_FORMATS else None
    if patterns is None:
        return babel_dates.format_datetime(local, format=format, tzinfo=local.tzinfo, locale=babel_locale())
    joined, time_pattern, date_pattern = patterns
    locale = _locale_of(language)
    return joined.replace("{0}", time_pattern.apply(local, locale)).replace(
        "{1}", date_pattern.apply(local.date(), locale)
    )


def format_when(value: datetime | None, zone: str | None = None) -> str:
    """A weekday, date and hour in a zone (the reader's by default): "Tue, 8 Dec 2026, 18:00"."""
    if value is None:
        return ""
    local, locale = in_zone(value, zone), babel_locale()
    return gettext(
        "%(date)s, %(time)s",
        date=babel_dates.format_skeleton("yMMMEd", local, tzinfo=local.tzinfo, locale=locale),
        time=babel_dates.format_skeleton("Hm", local, tzinfo=local.tzinfo, locale=locale),
    )


def format_time_in(value: datetime | None, zone: str | None = None) -> str:
    """The hour and minute in a zone (the reader's by default)."""
    if value is None:
        return ""
    local = in_zone(value, zone)
    return babel_dates.format_skeleton("Hm", local, tzinfo=local.tzinfo, locale=babel_locale())


def format_date(value: datetime | date | None, format: str = "medium") -> str:
    """A calendar date; a moment in time is first moved into the reader's zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = in_zone(value).date()
    return babel_dates.format_date(value, format=format, locale=babel_locale())


def format_country(code: str) -> str:
    """A country's name in the reader's language, from its ISO 3166 code."""
    return babel_locale().territories.get(code.upper(), code)


@cache
def _zone_names(locale_name: str) -> dict[str, str]:
    """Every zone's name in one locale, from CLDR ("China (Shanghai) Time", "中国（上海）时间"). Zones
    CLDR places in no region (UTC, Etc/GMT+5) are left out: they are shown by their own name."""
    locale = Locale.parse(locale_name)
    unknown = locale.territories.get("ZZ", "Unknown Region")
    names = {}
    for zone in time_zones():
        name = babel_dates.get_timezone_location(zone, locale=locale)
        if unknown not in name:
            names[zone] = name
    return names


def format_time_zone(zone: str) -> str:
    """A time zone's name in the reader's language; its IANA name where none is known."""
    if zone == "UTC":
        return gettext("Coordinated Universal Time (UTC)")
    return _zone_names(LANGUAGES[get_language()][0]).get(zone, zone)


def time_zone_choice(zone: str) -> str:
    """How a zone is offered in a list: its IANA name, which sorts and searches the same in every
    language, and its name in the reader's language."""
    name = format_time_zone(zone)
    return zone if name == zone else f"{zone} · {name}"


def format_list(items) -> str:
    """Names joined the reader's way: "A, B and C", "A、B和C"."""
    return babel_lists.format_list([str(item) for item in items], locale=babel_locale())


class LocaleMiddleware:
    """Chooses the language (the user's setting, then the cookie, then Accept-Language) and zone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settle(scope, scope.get("state", {}).get("user"))
        await self.app(scope, receive, send)


def settle(scope: Scope, user) -> str:
    """Chooses the request's language and sets it and the user's zone for what follows; returns it."""
    language = negotiate(
        user_language=getattr(user, "locale", None),
        cookie=HTTPConnection(scope).cookies.get(LANGUAGE_COOKIE),
        accept_language=Headers(scope=scope).get("accept-language", ""),
    )
    set_context(language, getattr(user, "time_zone", "UTC"))
    scope.setdefault("state", {})["language"] = language
    return language

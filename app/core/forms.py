"""What every HTML form shares: an error type carrying messages by field, and small field checks."""

import math
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.core.i18n import _, in_zone


class FormError(Exception):
    """Input that breaks a rule; ``errors`` maps a field name to the message shown beside it.
    ``status_code`` is 422, or 409 when the input is fine but the thing no longer takes it."""

    def __init__(self, errors: dict[str, str], status_code: int = 422) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status_code = status_code


def form_text(form, name: str) -> str:
    """A text field of a submitted form: empty when it is missing or a file was sent in its place."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def clean_text(
    value: str | None, *, field: str, errors: dict[str, str], max_length: int, required: bool = True
) -> str:
    """Stripped text, or an error under ``field`` when it is missing or too long."""
    text = (value or "").strip()
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > max_length:
        errors[field] = _(
            "Use at most %(max)s characters (you wrote %(count)s).", max=max_length, count=len(text)
        )
    return text


# The full-width forms of ASCII (U+FF01 to U+FF5E) and the ideographic space, as Chinese and Japanese
# input methods type them, to their ASCII characters: what NFKC does to them, and nothing else (NFKC
# would also make "²" a 2 and "①" a 1, which no one types as a number).
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def normalized(value: object) -> str:
    """A form value as text, stripped, with full-width characters as ASCII: ``１０`` is 10 and
    ``２０２６－１２－０８`` a date. A value that is not text (a file sent in a field's place) is empty."""
    if not isinstance(value, str):
        return ""
    return value.translate(_FULL_WIDTH).strip()


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def whole_number(value: object) -> int | None:
    """A form value holding only digits (at most nine, so it fits any id column), or None. Full-width
    digits count (see ``normalized``); superscripts and other scripts' digits do not.

    ``str.isdigit`` and ``int`` are not enough: they take "²", Arabic-Indic digits, "1_000" and any
    length."""
    text = normalized(value)
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def whole_numbers(values: list) -> list[int]:
    """The whole numbers among a form's repeated values (checkboxes of ids), in order; others dropped."""
    return [number for number in map(whole_number, values) if number is not None]


def number_between(value: object, low: int, high: int) -> int | None:
    """A whole number (``whole_number``) from ``low`` to ``high``, or None."""
    number = whole_number(value)
    return number if number is not None and low <= number <= high else None


def parse_coordinate(value: str, low: float, high: float) -> float | None:
    """A finite number within [low, high] (a latitude or longitude), or None."""
    try:
        number = float(normalized(value))
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


# The years a date may fall in: any plan people make, and far enough from the ends of the calendar
# that a moment moved into any time zone (or an agenda added to a start) stays a date that Python,
# SQLite and PostgreSQL all hold. Every form that takes a date refuses the others.
FIRST_YEAR, LAST_YEAR = 2000, 2100

LOCAL_DATETIME = "%Y-%m-%dT%H:%M"
# What a ``datetime-local`` field sends (with seconds when a browser adds them), and the same with a
# space, as people type it where a browser shows a plain text field.
_LOCAL_DATETIME_FORMATS = (LOCAL_DATETIME, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _out_of_range(year: int, field: str, errors: dict[str, str]) -> bool:
    if FIRST_YEAR <= year <= LAST_YEAR:
        return False
    errors[field] = _("Give a date from the year %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
    return True


def clean_local_datetime(
    value: object, *, zone: ZoneInfo, field: str, errors: dict[str, str]
) -> datetime | None:
    """A ``datetime-local`` field's value (no zone of its own) read as a time in ``zone``; or None,
    with a message under ``field``, when it is missing, not a date and time, or outside the years a
    date may fall in."""
    text = normalized(value)
    for layout in _LOCAL_DATETIME_FORMATS:
        try:
            naive = datetime.strptime(text, layout)
        except ValueError:
            continue
        if _out_of_range(naive.year, field, errors):
            return None
        return naive.replace(second=0, tzinfo=zone)
    errors[field] = _("Give a date and time.")
    return None


def clean_date(value: object, *, field: str, errors: dict[str, str]) -> date | None:
    """A ``date`` field's value (YYYY-MM-DD); None when it is empty, or with a message under ``field``
    when it is not a date or falls outside the years a date may fall in."""
    text = normalized(value)
    if not text:
        return None
    try:
        day = date.fromisoformat(text) if _ISO_DATE.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None
    return None if _out_of_range(day.year, field, errors) else day


def local_datetime_input(value: datetime, zone: str) -> str:
    """A moment as a ``datetime-local`` field's value in ``zone``."""
    return in_zone(value, zone).strftime(LOCAL_DATETIME)

"""What every HTML form shares: an error type carrying messages by field, and small field checks."""

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from app.i18n import _


class FormError(Exception):
    """Input that breaks a rule; ``errors`` maps a field name to the message shown beside it.
    ``status_code`` is 422, or 409 when the input is fine but the thing no longer takes it."""

    def __init__(self, errors: dict[str, str], status_code: int = 422) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status_code = status_code


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


def parse_coordinate(value: str, low: float, high: float) -> float | None:
    """A finite number within [low, high] (a latitude or longitude), or None."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def whole_number(value: object) -> int | None:
    """A form value holding only ASCII digits (at most nine, so it fits any id column), or None.

    ``str.isdigit`` is not enough: it accepts "²" and other digits ``int`` refuses, and any length."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def whole_numbers(values: list) -> list[int]:
    """The whole numbers among a form's repeated values (checkboxes of ids), in order; others dropped."""
    return [number for number in map(whole_number, values) if number is not None]


LOCAL_DATETIME = "%Y-%m-%dT%H:%M"


def parse_local_datetime(value: str, zone: ZoneInfo) -> datetime | None:
    """A ``datetime-local`` field's value (no zone of its own) read as a time in ``zone``, or None."""
    try:
        naive = datetime.strptime(value.strip(), LOCAL_DATETIME)
    except ValueError:
        return None
    return naive.replace(tzinfo=zone)


def local_datetime_input(value: datetime, zone: str) -> str:
    """A moment as a ``datetime-local`` field's value in ``zone``."""
    return value.astimezone(ZoneInfo(zone)).strftime(LOCAL_DATETIME)

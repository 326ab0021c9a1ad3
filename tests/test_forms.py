"""The one reader of numbers and dates every form uses (app/core/forms.py), and the zone moves that pages
use to show a stored moment (app/core/i18n.py)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core import i18n
from app.core.forms import clean_date, clean_local_datetime, number_between, whole_number

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("typed", "number"),
    [("10", 10), (" 10 ", 10), ("１０", 10), ("\u3000１２\u3000", 12), ("000000007", 7)],
)
def test_whole_numbers_in_ascii_or_full_width_digits(typed, number):
    assert whole_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    ["", "²", "①", "٣", "१२", "十", "1_000", "1e3", "10.0", "-3", "+3", "0x1f", "9" * 10, None, b"1", 3],
)
def test_anything_else_is_no_whole_number(typed):
    assert whole_number(typed) is None


def test_a_number_between_bounds():
    assert number_between("５", 1, 5) == 5
    assert number_between("6", 1, 5) is None
    assert number_between("0", 1, 5) is None


@pytest.mark.parametrize(
    "typed",
    ["2026-12-08T18:00", "2026-12-08T18:00:59", "2026-12-08 18:00", "２０２６－１２－０８Ｔ１８：００"],
)
def test_a_local_date_and_time_in_the_forms_people_send(typed):
    errors: dict[str, str] = {}
    moment = clean_local_datetime(typed, zone=SHANGHAI, field="at", errors=errors)
    assert errors == {}
    assert moment.astimezone(UTC) == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Give a date and time."),
        ("2026-02-30T10:00", "Give a date and time."),
        ("2026-12-08T24:00", "Give a date and time."),
        ("2026-12-08T18:00Z", "Give a date and time."),
        ("tomorrow", "Give a date and time."),
        ("0001-01-01T00:00", "Give a date from the year 2000 to 2100."),
        ("1999-12-31T23:59", "Give a date from the year 2000 to 2100."),
        ("2101-01-01T00:00", "Give a date from the year 2000 to 2100."),
        ("9999-12-31T23:59", "Give a date from the year 2000 to 2100."),
    ],
)
def test_other_dates_and_times_are_refused_on_their_field(typed, message):
    errors: dict[str, str] = {}
    assert clean_local_datetime(typed, zone=SHANGHAI, field="at", errors=errors) is None
    assert errors == {"at": message}


def test_calendar_dates():
    errors: dict[str, str] = {}
    assert clean_date("", field="on", errors=errors) is None
    assert clean_date("２１００－１２－３１", field="on", errors=errors) == date(2100, 12, 31)
    assert errors == {}
    for typed, message in (
        ("2026-1-1", "Enter a date as YYYY-MM-DD."),
        ("20261201", "Enter a date as YYYY-MM-DD."),
        ("0001-01-01", "Give a date from the year 2000 to 2100."),
    ):
        errors = {}
        assert clean_date(typed, field="on", errors=errors) is None
        assert errors == {"on": message}


@pytest.mark.parametrize(
    ("moment", "zone"),
    [
        (datetime(1, 1, 1, 0, 0, tzinfo=UTC), "America/Los_Angeles"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "Asia/Shanghai"),
    ],
)
def test_a_moment_with_no_local_time_in_a_zone_is_shown_in_utc(moment, zone):
    assert i18n.in_zone(moment, zone) == moment
    assert i18n.in_zone(moment, zone).utcoffset().total_seconds() == 0
    i18n.set_context("zh", zone)
    try:
        assert str(moment.year) in i18n.format_when(moment)
        assert i18n.format_datetime(moment) and i18n.format_time_in(moment) and i18n.format_date(moment)
    finally:
        i18n.set_context("en", "UTC")


def test_a_stored_zone_that_is_no_zone_reads_as_utc():
    moment = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert i18n.in_zone(moment, "Mars/Olympus").utcoffset().total_seconds() == 0

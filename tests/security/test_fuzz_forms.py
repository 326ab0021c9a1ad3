"""Every field of every form of the access table (tests/security/access.py), fuzzed: for each unsafe
route, a user who may send its form (with a valid CSRF token) sends Hypothesis-made values through
every field the form's page shows and every field of the table's form: extreme and malformed dates and
time zones, other scripts' and full-width digits, huge and negative numbers, very long text and control
characters, a file where text belongs, missing and repeated fields. No answer may be a server error, and
no page that shows what was sent (the form's page, the object's, the workspace's lists, where the
answer leads) may fail afterwards. Each example runs inside a savepoint of the world, rolled back.

``COCREATE_FUZZ_EXAMPLES`` sets the examples per route (default 4, which keeps the file near a minute
per database); the examples are derandomised, so a failure comes back on every run.
"""

import os
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tests.security import access

# Hypothesis caches the constants of local modules under ./.hypothesis while pytest collects: keep that
# cache out of the repository (as tests/voting/test_tally.py does).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "cocreate-hypothesis")

EXAMPLES = int(os.environ.get("COCREATE_FUZZ_EXAMPLES", "4"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SUCCESS = ("303", "200", "201")
ALLOWED = (*SUCCESS, "422", "409")


def _sender(row: access.Row) -> str | None:
    """A column whose role may send the row's form: one that gets through if any does."""
    for answers in (SUCCESS, ALLOWED):
        for column in access.COLUMNS:
            if row.answers[column] in answers:
                return column
    return None


ROWS = [row for row in access.rows() if row.method == "POST" and _sender(row)]
GET_PATHS = {row.path for row in access.rows() if row.method == "GET" and not row.htmx}
# What a route's path does not say: the API votes on the ballot its page shows.
SHOWN_ON = {
    "/api/v1/ballots/{ballot_id}/vote": ["/w/{slug}/ballots/{ballot_id}"],
    "/api/v1/ballots/{private_ballot_id}/vote": ["/w/{private_slug}/ballots/{private_ballot_id}"],
}


def pages_of(path: str) -> list[str]:
    """The pages of the access table that show what a form at ``path`` changes: the pages along its
    path (the workspace, its lists, the object, the form itself), and their calendars and exports."""
    parts = path.split("/")
    along = ["/"] + ["/".join(parts[:end]) for end in range(2, len(parts) + 1)]
    along += SHOWN_ON.get(path, [])
    pages = []
    for page in along:
        for shown in (page, page + ".ics", page + "/session.ics", page + "/live", page + "/results.csv"):
            if shown in GET_PATHS and shown not in pages:
                pages.append(shown)
    return pages


class _FormFields(HTMLParser):
    """The names of the fields of the forms (and htmx posts) that send to ``action``."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.names = action, False, set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        target = attrs.get("action") or attrs.get("hx-post")
        if tag == "form":
            self.inside = target is not None and urlsplit(target).path == self.action
        elif target is not None and urlsplit(target).path == self.action and attrs.get("name"):
            self.names.add(attrs["name"])
        if self.inside and tag in ("input", "select", "textarea", "button") and attrs.get("name"):
            self.names.add(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


async def form_fields(world, role: str, row: access.Row) -> list[str]:
    """Every field a user can send to the row's route: the table's form's and those its pages show."""
    path = world.url(row.path)
    names = set(access.FORMS.get(f"POST {row.path}", lambda ids: {})(world.ids))
    async with world.client(role) as client:
        for page in pages_of(row.path):
            if page.endswith((".ics", ".csv")):
                continue
            parser = _FormFields(path)
            parser.feed((await client.get(world.url(page))).text)
            names |= parser.names
    # And one the form does not have.
    return [*sorted(names - {"csrf_token"}), "unexpected"]


DATES = st.sampled_from(
    [
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "9999-12-31T22:00",
        "2026-02-30T10:00",
        "2026-02-28T25:61",
        "T25:61",
        "2026-13-01T00:00",
        "0000-00-00T00:00",
        "2026-06-01",
        "0001-01-01",
        "9999-12-31",
        "2026-02-30",
        "1999-12-31T23:59",
        "2101-01-01T00:00",
        "2026-03-29T02:30",
        "２０２６－０６－０１Ｔ１０：００",
        "٢٠٢٦-٠٦-٠١T١٠:٠٠",
        "2026-06-01T10:00:00+99:00",
        "2026-06-01T10:00Z",
        "+12026-06-01T10:00",
        "-2026-06-01T10:00",
        "",
    ]
)
ZONES = st.sampled_from(
    [
        "America/Los_Angeles",
        "Pacific/Kiritimati",
        "Etc/GMT+12",
        "Etc/GMT-14",
        "Mars/Olympus_Mons",
        "UTC+25",
        "../../../etc/passwd",
        "/etc/localtime",
        "localtime",
        "posixrules",
        "Factory",
        "EST5EDT",
        "utc",
        " UTC ",
        "Asia/Shanghai\n",
        "zoneinfo/UTC",
        "",
    ]
)
DIGITS = st.sampled_from(
    ["１０", "١٠", "߁", "۱۰", "१०", "๑๐", "𝟙𝟘", "²", "①", "一十", "1_000", "0x10", "1e3"]
)
NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2**31 - 2, max_value=2**70).map(str),
    st.integers(max_value=0).map(str),
    st.floats().map(str),
    st.sampled_from(["-0", "NaN", "inf", "-inf", "1e309", "9" * 400, "-" + "9" * 40, "0", " 1 "]),
)
CONTROL = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Co"])
TEXTS = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(CONTROL, min_size=1, max_size=20),
    st.sampled_from(["x" * 100_001, "长" * 20_001, "\r\n" * 5_000, " " * 300, "\u200b" * 50]),
)
VALUES = st.one_of(DATES, ZONES, DIGITS, NUMBERS, TEXTS)
FILES = st.tuples(
    st.sampled_from(["a.txt", "../../etc/passwd", "", "图片.png", "x" * 300]),
    st.binary(max_size=64),
    st.sampled_from(["text/plain", "image/png", "application/octet-stream", ""]),
)
TREATMENTS = st.sampled_from(["value", "value", "value", "missing", "repeat", "file"])


@st.composite
def fuzzed(draw, base: dict, names: list[str]) -> tuple[dict, dict]:
    """A form's fields (``data``) and files (``files``): the table's form, with one to three of the
    fields (or all of them, now and then) given a value, left out, repeated or sent as a file, so that
    a bad value also reaches the code behind an otherwise good form."""
    data, files = dict(base), {}
    if not names:
        return data, files
    everything = draw(st.booleans()) and draw(st.booleans())
    targets = names if everything else draw(st.lists(st.sampled_from(names), min_size=1, max_size=3))
    for name in dict.fromkeys(targets):
        treatment = draw(TREATMENTS)
        data.pop(name, None)
        if treatment == "value":
            data[name] = draw(VALUES)
        elif treatment == "repeat":
            data[name] = draw(st.lists(VALUES, min_size=2, max_size=3))
        elif treatment == "file":
            files[name] = draw(FILES)
    if not files and draw(st.booleans()):
        # Multipart without a file of the form's own: a stray one.
        files["stray"] = draw(FILES)
    return data, files


_FIELDS: dict[str, list[str]] = {}


@pytest.mark.parametrize("row", ROWS, ids=[row.key for row in ROWS])
@FUZZ
@given(draws=st.data())
async def test_no_value_in_any_field_gives_a_server_error_or_breaks_a_page(world, row, draws):
    role = access.ROLE_OF_COLUMN[_sender(row)]
    if row.key not in _FIELDS:
        _FIELDS[row.key] = await form_fields(world, role, row)
    base = access.FORMS.get(f"POST {row.path}", lambda ids: {})(world.ids)
    data, files = draws.draw(fuzzed(base, _FIELDS[row.key]), label="form")
    headers = {"HX-Request": "true"} if row.htmx else {}
    async with world.savepoint(), world.client(role) as client:
        response = await client.post(
            world.url(row.path),
            data={"csrf_token": world.csrf(role), **data},
            files=files or None,
            headers=headers,
        )
        assert response.status_code < 500, (row.key, response.status_code)
        shown = [world.url(page) for page in pages_of(row.path)]
        location = response.headers.get("location", "")
        if location.startswith("/") and not location.startswith("//"):
            shown.append(location)
        for page in shown:
            rendered = await client.get(page)
            assert rendered.status_code < 500, (row.key, page, rendered.status_code)

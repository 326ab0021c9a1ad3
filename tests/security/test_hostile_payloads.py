"""Hostile text (tests/security/payloads.py) through every field a user can write, through the app's
own forms; then every page, fragment, stream and export that shows it holds no markup made from it,
runs none of it as a template, and no export hands a spreadsheet a formula.

The module's world (tests/security/world.py) is built with hostile text in every field; then
``written`` puts every payload through every form once more, as many times as the field's length
needs, keeping each answer (a form that comes back, 422, shows the text too)."""

import csv
import html
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import cycle
from urllib.parse import urlencode

import pytest
from icalendar import Calendar
from markdown_it import MarkdownIt

from app.accounts.models import User
from app.cocreation import service as cocreation_service
from app.core.exports import FORMULA_STARTS
from app.voting import storage as voting_storage
from app.workspaces import service as workspace_service
from tests.attachments.files import png
from tests.security import access
from tests.security.markup import live_markup, shown_text, words
from tests.security.payloads import NUL, PAYLOADS, VERY_LONG, everything, packed, texts
from tests.security.world import built_world, form_errors, last_id, local_time

CRAWLERS = ("anonymous", "author", "moderator", "admin")


def hostile_text():
    """Every field of the world gets the next pack of payloads that fits it: Markdown fields (longer
    ones) a payload a paragraph."""
    packs: dict[int, cycle] = {}

    def text(_name: str, max_length: int) -> str:
        if max_length not in packs:
            separator = "\n\n" if max_length > 300 else " "
            packs[max_length] = cycle(packed(max_length, separator=separator))
        return next(packs[max_length])

    return text


@dataclass
class Written:
    """What ``write_everything`` sent and got back, and the pages it made."""

    answers: list = field(default_factory=list)
    pages: set[str] = field(default_factory=set)
    # (who reads, the pages where, a text they must show): the reasons and notes of moderation and
    # administration, each where it is read.
    shown: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)


@pytest.fixture(scope="module")
async def world(engine, tmp_path_factory):
    async with built_world(engine, tmp_path_factory.mktemp("uploads"), text=hostile_text()) as world:
        world.written = await write_everything(world)
        yield world


async def write_everything(world) -> Written:
    written = Written()
    ids = world.ids

    async def send(role: str, url: str, data: dict | None = None, *, ok=(303,), **kwargs):
        response = await world.post(role, url, data, **kwargs)
        written.answers.append((f"{role} POST {world.url(url)}", response))
        assert response.status_code in ok, (url, response.status_code, form_errors(response))
        return response

    async def made(role: str, url: str, data: dict, **kwargs) -> int:
        return last_id((await send(role, url, data, **kwargs)).headers["location"])

    # People named with payloads, members of Porto's workspace, each writing a comment there.
    porto = await workspace_service.get_by_slug(session=world.session, slug=ids["slug"])
    for number, name in enumerate(packed(80)):
        key = f"named-{number}"
        person = await world.person(key, f"Person {number}")
        await send(key, "/profile", {"display_name": name, "locale": "en", "time_zone": "UTC"})
        await workspace_service.add_member(session=world.session, workspace=porto, user=person)
        await send(key, "/w/{slug}/ideas/{idea_id}/comments", {"body": PAYLOADS[number % len(PAYLOADS)].text})
        if number % 5 == 0:
            membership = await workspace_service.membership_of(
                session=world.session, workspace_id=porto.id, user=person
            )
            reason = packed(500)[number // 5 % len(packed(500))]
            await send("moderator", f"/w/{{slug}}/members/{membership.id}/warn", {"reason": reason})
    # Asking to join with a message, and registering (refused: no password) with hostile names.
    for number, message in enumerate(packed(500)):
        key = f"asking-{number}"
        await world.person(key, f"Asking {number}")
        await send(key, "/w/{slug}/join", {"message": message})
    for name in packed(80)[:5]:
        await send("anonymous", "/register", {"email": name, "display_name": name, "password": ""}, ok=(422,))
        await send("anonymous", "/login", {"email": name, "password": name, "next": name}, ok=(422,))

    # Workspaces, topics and ideas (with files named by payloads), statuses with notes.
    city_ids = [str(ids["porto_city_id"])]
    for title in packed(200):
        form = {"title_en": title, "title_zh": title, "summary_en": everything(), "summary_zh": everything()}
        slug = (
            await send(
                "facilitator",
                "/workspaces/new",
                {**form, "visibility": "public", "join_policy": "open", "city_ids": city_ids},
            )
        ).headers["location"]
        written.pages.add(slug)
        seed = {"title": title, "brief": everything(), "phase": "co-design", "workspace_ids": [str(porto.id)]}
        written.pages.add(f"/topics/seeds/{await made('facilitator', '/topics/seed', seed)}")
    files = [p.text[:150] + ".png" for p in PAYLOADS]
    for number, title in enumerate(packed(200)):
        body = packed(20_000, separator="\n\n")[0] if number == 0 else title.replace(" <", "\n\n<")
        form = {"title": title, "body": body, "place_name": title, "latitude": "41.1", "longitude": "-8.6"}
        chosen = [("files", (name, png(1, 1), "image/png")) for name in files[number * 5 : number * 5 + 5]]
        idea = await made("author", "/w/{slug}/ideas/new", form, files=chosen)
        written.pages.add(f"/w/{ids['slug']}/ideas/{idea}")
        if number < 3:
            written.pages.add(f"/w/{ids['slug']}/ideas/{idea}/edit")
    for title in packed(200)[:3]:
        edit = {"title": title, "body": everything(), "place_name": title, "topic_id": ""}
        await send("author", "/w/{slug}/ideas/{idea_id}/edit", edit)
        workspace = {
            "title_en": title,
            "summary_en": everything(),
            "visibility": "public",
            "join_policy": "open",
        }
        await send("facilitator", "/w/{other_slug}/edit", {**workspace, "city_ids": city_ids})
    written.pages.add(f"/w/{ids['other_slug']}")
    statuses = cycle(["under-discussion", "shortlisted", "selected", "in-implementation", "implemented"])
    for note in packed(2000) + packed(200):
        await send("moderator", "/w/{slug}/ideas/{idea_id}/status", {"status": next(statuses), "note": note})

    # Comments and replies, a payload each; an edit; reports, hiding, restoring and reviews.
    comments = []
    for number, payload in enumerate(PAYLOADS):
        response = await send("member", "/w/{slug}/ideas/{idea_id}/comments", {"body": payload.text})
        comments.append(int(response.headers["location"].rsplit("#comment-", 1)[1]))
        if number % 4 == 0:
            reply = {"body": payload.text, "parent_id": str(comments[-1])}
            await send("author", "/w/{slug}/ideas/{idea_id}/comments", reply)
    await send("author", "/w/{slug}/comments/{comment_id}/edit", {"body": everything()})
    for comment, note in zip(comments, packed(500), strict=False):
        await send("author", f"/w/{{slug}}/comments/{comment}/report", {"reason": "other", "note": note})
    for comment, reason in zip(comments[10:], packed(500), strict=False):
        await send("moderator", f"/w/{{slug}}/comments/{comment}/hide", {"reason": reason})
        await send("member", f"/w/{{slug}}/comments/{comment}/review", {"note": reason})
    for comment, reason in zip(comments[10:13], packed(500), strict=False):
        await send("moderator", f"/w/{{slug}}/comments/{comment}/restore", {"reason": reason})
    await send(
        "moderator",
        "/w/{slug}/moderation",
        {"action": "restore", "reason": packed(500)[0], "case": ["1", "2"]},
    )
    for threshold in packed(80)[:3]:
        await send("moderator", "/w/{slug}/moderation/threshold", {"threshold": threshold}, ok=(422,))

    # Bans and their lifting, with hostile reasons.
    for reason in packed(500)[:3]:
        await send(
            "moderator", "/w/{slug}/members/{author_membership_id}/ban", {"length": "1", "reason": reason}
        )
        await send("moderator", "/w/{slug}/members/{author_membership_id}/unban", {"reason": reason})
    await send(
        "moderator",
        "/w/{slug}/members/{banned_membership_id}/ban",
        {"length": "forever", "reason": everything()[:500]},
    )

    # Ideas reported (the note), locked, hidden, asked a review of and restored, each with hostile text:
    # every payload goes through every field, over the seven ideas.
    notes = packed(500)
    slug = ids["slug"]
    queue = tuple(f"/w/{slug}/moderation?state={{}}&page={page}" for page in (1, 2, 3))
    reports, hides = ("/audit?action=report",), ("/audit?action=hide",)
    for number in range(len(notes)):
        note, hide, review, restore, lock = (notes[(number + step) % len(notes)] for step in range(5))
        idea = await made("author", "/w/{slug}/ideas/new", {"title": f"Moderated {number}", "body": "b"})
        page = (f"/w/{slug}/ideas/{idea}",)
        await send("member", f"/w/{{slug}}/ideas/{idea}/report", {"reason": "other", "note": note})
        await send("moderator", f"/w/{{slug}}/ideas/{idea}/lock", {"reason": lock})
        await send("moderator", f"/w/{{slug}}/ideas/{idea}/hide", {"reason": hide})
        await send("author", f"/w/{{slug}}/ideas/{idea}/review", {"note": review})
        written.shown += [("admin", reports, note), ("author", page, lock), ("admin", hides, hide)]
        if number % 2:
            written.shown += [
                ("author", page, hide),
                ("moderator", page, hide),
                ("moderator", page, review),
                ("moderator", tuple(url.format("review") for url in queue), review),
                ("moderator", tuple(url.format("review") for url in queue), hide),
            ]
        else:
            await send("moderator", f"/w/{{slug}}/ideas/{idea}/restore", {"reason": restore})
            written.shown += [
                ("anonymous", page, lock),
                ("author", page, restore),
                ("moderator", tuple(url.format("closed") for url in queue), restore),
            ]
        if number == 0:
            await send("moderator", f"/w/{{slug}}/ideas/{idea}/unlock")
            written.shown.remove(("anonymous", page, lock))
            written.shown.remove(("author", page, lock))
    # A lock reason too long comes back in its form.
    await send("moderator", "/w/{slug}/ideas/{idea_id}/lock", {"reason": notes[0] + "x" * 500}, ok=(422,))
    # Members reported by others, with hostile notes (read in the audit log).
    for number, note in enumerate(notes):
        await send(
            f"named-{number}",
            "/w/{slug}/members/{member_membership_id}/report",
            {"reason": "other", "note": note},
        )
        written.shown.append(("admin", reports, note))
    # An account's role changed, disabled and enabled again, with hostile reasons: its page.
    account = world.users["named-1"].id
    account_page = (f"/admin/users/{account}",)
    for number, reason in enumerate(notes):
        role = "facilitator" if number % 2 == 0 else "citizen"
        await send("admin", f"/admin/users/{account}/role", {"role": role, "reason": reason})
        await send("admin", f"/admin/users/{account}/disable", {"reason": notes[-1 - number]})
        await send("admin", f"/admin/users/{account}/enable", {"reason": notes[number - 2]})
        written.shown += [("admin", account_page, reason), ("admin", account_page, notes[-1 - number])]
    await send("admin", f"/admin/users/{account}/disable", {"reason": notes[3] + "x" * 500}, ok=(422,))
    await send("admin", f"/admin/users/{account}/disable", {"reason": notes[3]})
    written.pages.add(account_page[0])

    # Sessions: every text field, the agenda, minutes and outcomes, and ideas added in the live room.
    now = datetime.now(UTC)
    for number, title in enumerate(packed(200)):
        form = {
            "title": title,
            "description": everything(),
            "phase": "co-implementation",
            "mode": "hybrid",
            "place_name": title,
            "online_url": "https://meet.example.org/" + title[:300],
            "time_zone": "UTC",
            "starts_at": local_time(now + timedelta(days=number + 1)),
            "ends_at": local_time(now + timedelta(days=number + 1, hours=2)),
            "capacity": "3",
            "agenda_title": [title, title[::-1]],
            "agenda_minutes": ["10", "20"],
        }
        session_id = await made("moderator", "/w/{slug}/sessions/new", form)
        if number == 0:
            edit = {**form, "title": title[::-1], "agenda_title": [title[::-1]], "agenda_minutes": ["5"]}
            await send("moderator", f"/w/{{slug}}/sessions/{session_id}/edit", edit)
        await send("moderator", f"/w/{{slug}}/sessions/{session_id}/status", {"status": "scheduled"})
        written.pages.add(f"/w/{ids['slug']}/sessions/{session_id}")
    await send(
        "moderator",
        "/w/{slug}/sessions/{session_id}/minutes",
        {"minutes": everything(), "outcomes": everything(), "idea_ids": [str(ids["idea_id"])]},
    )
    for title in packed(200):
        await send(
            "member",
            "/w/{slug}/sessions/{session_id}/live/ideas",
            {"title": title, "body": title},
            headers={"HX-Request": "true"},
            ok=(204,),
        )

    # Ballots: payloads as questions, descriptions and options; consent blocks with hostile reasons.
    options = [text.replace("\n", " ").replace("\r", " ").strip()[:200] for text in texts()]
    # 25 a ballot (which takes 30): the server splits lines at every line break Unicode has.
    for number in range(0, len(options), 25):
        form = {
            "question": packed(300)[number // 25],
            "description": everything()[:4000],
            "method": "consent",
            "options_text": "\n".join(dict.fromkeys(options[number : number + 25])),
            "closes_at": local_time(now + timedelta(days=3)),
            "results_visibility": "live",
            "eligibility": "members",
            "session_id": str(ids["session_id"]),
        }
        ballot = await made("moderator", "/w/{slug}/ballots/new", form)
        written.pages.add(f"/w/{ids['slug']}/ballots/{ballot}")
        ballot_options = [
            option.id for option in await voting_storage.options_of(session=world.session, ballot_id=ballot)
        ]
        for voter, reason in zip(("member", "author"), packed(1000), strict=False):
            block = {f"consent-{option}": "block" for option in ballot_options}
            await send(voter, f"/w/{{slug}}/ballots/{ballot}/vote", {**block, "reason": reason})

    # Cities from a CSV with payloads for names, by the admin.
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(
        ["network", "name_en", "name_local", "country_code", "region", "role", "latitude", "longitude"]
    )
    for number, name in enumerate(packed(120)):
        writer.writerow(["nscjl", name, name, "CN", name, "member", f"{30 + number / 10}", "114"])
    await send(
        "admin",
        "/admin/cities/import",
        files=[("file", ("cities.csv", rows.getvalue().encode(), "text/csv"))],
        ok=(200,),
    )

    # Fields that take a choice, a number, a date or an id, given hostile text instead: refused, and
    # the form that comes back (or the page a plain form returns to, with its message) shows it as text.
    for role, url, fields, rest in CHOICE_FIELDS:
        for text in packed(80)[:3]:
            await send(role, url, {**rest(ids), **dict.fromkeys(fields(ids), text)}, ok=range(200, 500))
    # A welcome that names the newcomer (the password is hashed once: half a second).
    async with world.client("anonymous") as client:
        account = {
            "email": "newcomer@example.org",
            "display_name": packed(80)[4],
            "password": "a walk by the river",
        }
        registered = await client.post("/register", data={"csrf_token": world.csrf("anonymous"), **account})
        assert registered.status_code == 303
        written.answers.append(("the welcome of a newcomer", await client.get("/")))
    return written


# (who, where, the fields given hostile text, the rest of the form)
CHOICE_FIELDS = [
    (
        "member",
        "/profile",
        lambda ids: ["locale", "time_zone", "organisation_id"],
        lambda ids: {"display_name": "M"},
    ),
    (
        "facilitator",
        "/workspaces/new",
        lambda ids: ["visibility", "join_policy", "city_ids"],
        lambda ids: {"title_en": "T"},
    ),
    (
        "author",
        "/w/{slug}/ideas/new",
        lambda ids: ["tags", "topic_id", "latitude", "longitude"],
        lambda ids: {"title": "T"},
    ),
    ("moderator", "/w/{slug}/ideas/{idea_id}/status", lambda ids: ["status"], lambda ids: {}),
    (
        "moderator",
        "/w/{slug}/sessions/new",
        lambda ids: ["phase", "mode", "time_zone", "starts_at", "ends_at", "capacity", "agenda_minutes"],
        lambda ids: {"title": "T", "agenda_title": "A"},
    ),
    (
        "moderator",
        "/w/{slug}/ballots/new",
        lambda ids: [
            *("method", "max_choices", "dots", "per_option_max", "opens_at", "closes_at"),
            *("results_visibility", "eligibility", "idea_ids"),
        ],
        lambda ids: {"question": "Q", "options_text": "A\nB"},
    ),
    (
        "facilitator",
        "/topics/seed",
        lambda ids: [
            "phase",
            "categories",
            "challenges",
            "opens_on",
            "closes_on",
            "workspace_ids",
            "network",
            "region",
        ],
        lambda ids: {"title": "T"},
    ),
    ("member", "/w/{slug}/comments/{comment_id}/report", lambda ids: ["reason"], lambda ids: {}),
    (
        "moderator",
        "/w/{slug}/members/{author_membership_id}/ban",
        lambda ids: ["length"],
        lambda ids: {"reason": "R"},
    ),
    ("moderator", "/w/{slug}/moderation", lambda ids: ["action", "case"], lambda ids: {"reason": "R"}),
    ("moderator", "/moderation", lambda ids: ["action", "case"], lambda ids: {"reason": "R"}),
    ("moderator", "/w/{slug}/moderation/threshold", lambda ids: ["threshold"], lambda ids: {}),
    (
        "member",
        "/w/{slug}/ballots/{ballot_id}/vote",
        lambda ids: [f"consent-{o}" for o in ids["ballot_options"]],
        lambda ids: {},
    ),
    ("moderator", "/w/{slug}/sessions/{session_id}/status", lambda ids: ["status"], lambda ids: {}),
    ("moderator", "/w/{slug}/sessions/{session_id}/live/agenda", lambda ids: ["item_id"], lambda ids: {}),
    ("moderator", "/w/{slug}/sessions/{session_id}/attendance", lambda ids: ["present"], lambda ids: {}),
    (
        "facilitator",
        "/w/{slug}/members/{pending_membership_id}/decide",
        lambda ids: ["decision"],
        lambda ids: {},
    ),
    ("facilitator", "/w/{slug}/members/{member_membership_id}/role", lambda ids: ["role"], lambda ids: {}),
    ("anonymous", "/language", lambda ids: ["language", "next"], lambda ids: {}),
]


# Text whatever renders it: only a template engine, a spreadsheet, a header or a calendar could
# misread it, which other tests look at.
TEXT_PAYLOADS = {
    "template",
    "format-string",
    "rtl-override",
    "zero-width",
    "homoglyphs",
    "line-separators",
    "csv-formula",
    "csv-plus",
    "csv-minus",
    "csv-at",
    "csv-tab",
    "crlf",
    "ics",
}


def careless_renderings(text: str) -> list[str]:
    """What a careless page could make of the text: pasted in as HTML, into an unquoted attribute,
    unescaped once too often, Markdown rendered without its link check or links made by hand."""
    careless_markdown = MarkdownIt("commonmark", {"html": True})
    careless_markdown.validateLink = lambda url: True
    return [
        f"<div>{text}</div>",
        f"<input value={text}>",
        f"<div>{html.unescape(text)}</div>",
        careless_markdown.render(text),
        re.sub(r"!?\[([^\]]*)\]\(([^)]*)\)", r'<a href="\2">\1</a>', text),
    ]


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p.name for p in PAYLOADS])
def test_the_check_finds_each_payload_that_a_careless_page_would_render(payload):
    found = [live_markup(rendering) for rendering in careless_renderings(payload.text)]
    if payload.name == "template":
        assert live_markup("<p>51337 and loopedlooped</p>")
    elif payload.name == "mutation":
        # Only a browser parses <noscript> so that the image comes alive; the browser test sees it.
        assert not any(found)
    elif payload.name in TEXT_PAYLOADS:
        assert not any(found)
    else:
        assert any(found), payload.name


def test_every_form_takes_hostile_text_and_answers_without_live_markup(world):
    for what, response in world.written.answers:
        assert response.status_code < 500, what
        assert live_markup(response.text) == [], what
        for header in ("location", "content-disposition"):
            assert not re.search(r"[\r\n]", response.headers.get(header, "")), what


def table_pages(world) -> list[tuple[str, dict]]:
    """Every page of the access table (its htmx fragments too)."""
    return [
        (world.url(row.path), {"HX-Request": "true"} if row.htmx else {})
        for row in access.rows()
        if row.method == "GET"
        and not row.path.endswith(("/events", "{asset}", ".csv", ".ics", "openapi.json"))
    ]


def written_pages(world) -> list[tuple[str, dict]]:
    """The pages of what was written, further pages of the lists, and fragments htmx swaps in."""
    slug, idea = world.ids["slug"], world.ids["idea_id"]
    fragment = {"HX-Request": "true"}
    return [(page, {}) for page in sorted(world.written.pages)] + [
        ("/workspaces?page=2", {}),
        ("/workspaces", fragment),
        (f"/w/{slug}?page=2", {}),
        (f"/w/{slug}", fragment),
        (f"/w/{slug}/ideas/{idea}?comments=2", {}),
        (f"/w/{slug}/ideas/{idea}/comments?page=3", fragment),
        (f"/w/{slug}/ballots/{world.ids['ballot_id']}?fragment=1", fragment),
        (f"/w/{slug}/moderation?state=hidden", {}),
        ("/notifications?page=2", {}),
    ]


def echoing_pages(world) -> list[tuple[str, dict]]:
    """Pages that show what was searched for or filtered by: each payload as a search, and packs of
    them in every other query."""
    slug = world.ids["slug"]
    pages = [(f"/search?{urlencode({'q': text})}", {}) for text in texts()]
    for query in packed(400):
        pages += [
            (f"/w/{slug}/search?{urlencode({'q': query})}", {"HX-Request": "true"}),
            (f"/workspaces?{urlencode({'q': query})}", {}),
            (f"/w/{slug}?{urlencode(dict.fromkeys(('topic', 'tag', 'status', 'sort'), query))}", {}),
            (f"/w/{slug}/moderation?{urlencode(dict.fromkeys(('q', 'state', 'reason'), query))}", {}),
            (f"/audit?{urlencode(dict.fromkeys(('workspace', 'action'), query))}", {}),
            (f"/login?{urlencode({'next': query})}", {}),
        ]
    return pages


async def crawl(world, role: str, pages, shown: list | None = None) -> dict[str, list[str]]:
    """What each page holds of live markup; ``shown`` gets each page's text."""
    problems = {}
    async with world.client(role) as client:
        for url, headers in pages:
            response = await client.get(url, headers=headers)
            assert response.status_code < 500, url
            if shown is not None:
                shown.append(shown_text(response.text))
            found = live_markup(response.text)
            if found:
                problems[url] = found
    return problems


@pytest.mark.parametrize("role", CRAWLERS)
async def test_no_page_of_the_access_table_shows_hostile_text_as_markup(world, role):
    assert await crawl(world, role, table_pages(world)) == {}


async def test_no_page_of_what_was_written_shows_it_as_markup_and_every_payload_shows_as_text(world):
    shown = []
    assert await crawl(world, "moderator", written_pages(world), shown=shown) == {}
    everything_shown = " ".join(shown)
    assert [p.name for p in PAYLOADS if words(p.text) not in everything_shown] == []


async def test_reasons_and_notes_of_moderation_and_administration_show_as_text_where_they_are_read(world):
    """Idea reports, hiding, reviews, restoring and locking, member reports, and an admin's reasons
    for changing, disabling and enabling an account: on the idea page (its author's, a moderator's,
    anyone's for a lock), the moderation queue, the audit log and the account's page."""
    read: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for role, urls, text in world.written.shown:
        read.setdefault((role, urls), []).append(text)
    for (role, urls), expected in read.items():
        shown = []
        assert await crawl(world, role, [(url, {}) for url in urls], shown=shown) == {}
        missing = [text for text in expected if words(text) not in " ".join(shown)]
        assert missing == [], (role, urls)


async def test_searches_and_filters_echo_hostile_text_as_text(world):
    assert await crawl(world, "admin", echoing_pages(world)) == {}


async def test_the_live_room_streams_hostile_ideas_as_text(world):
    status, body = await world.stream(
        "member",
        "/w/{slug}/sessions/{session_id}/live/events?last_event_id=0",
        until=lambda body: body.count("event: idea") >= len(packed(200)),
    )
    assert status == 200 and body.count("event: idea") >= len(packed(200))
    for message in body.split("\n\n"):
        html = "\n".join(
            line.removeprefix("data: ") for line in message.splitlines() if line.startswith("data:")
        )
        assert live_markup(html) == [], message


async def test_exports_hand_spreadsheets_no_formula(world):
    exports = [
        ("admin", "/audit.csv"),
        ("moderator", "/w/{slug}/ballots/{closed_ballot_id}/papers.csv"),
        ("moderator", "/w/{slug}/ballots/{closed_ballot_id}/results.csv"),
    ]
    exports += [("moderator", page + "/results.csv") for page in world.written.pages if "/ballots/" in page]
    for role, url in exports:
        response = await world.get(role, url)
        assert response.status_code == 200, url
        for row in csv.reader(io.StringIO(response.text.lstrip("\ufeff"))):
            for cell in row:
                runs = cell.startswith(FORMULA_STARTS) and not re.fullmatch(r"-?\d+(\.\d+)?", cell)
                assert not runs, (url, cell)


ICAL_PROPERTIES = {"UID", "DTSTAMP", "LAST-MODIFIED", "DTSTART", "DTEND", "SUMMARY", "URL"}
ICAL_PROPERTIES |= {"DESCRIPTION", "LOCATION", "STATUS"}


async def test_calendars_keep_hostile_text_inside_their_fields(world):
    porto = await workspace_service.get_by_slug(session=world.session, slug=world.ids["slug"])
    titles = {
        cs.title
        for cs in await cocreation_service.calendar_sessions(session=world.session, workspace_id=porto.id)
    }
    for url in ("/w/{slug}/sessions.ics", "/w/{slug}/sessions/{session_id}/session.ics"):
        events = Calendar.from_ical((await world.get("moderator", url)).content).walk("VEVENT")
        assert events and all(set(event) <= ICAL_PROPERTIES for event in events), url
        # Line breaks are kept as line breaks (a calendar writes them all as \n).
        assert {str(event["summary"]) for event in events} <= {t.replace("\r\n", "\n") for t in titles}, url


async def test_a_name_loses_its_direction_marks_and_a_name_no_one_sees_is_refused(world, baseline):
    profile = {"locale": "en", "time_zone": "UTC"}
    async with world.savepoint():
        spoof = "Ana\u202egnp.exe\u2066 and \u2067more\u2069"
        assert (await world.post("member", "/profile", {**profile, "display_name": spoof})).status_code == 303
        member = await world.session.get(User, world.users["member"].id)
        assert member.display_name == "Anagnp.exe and more"
    async with world.savepoint():
        invisible = await world.post("member", "/profile", {**profile, "display_name": "\u200b\u200d\ufeff"})
        assert invisible.status_code == 422 and "Give a name that others can see." in invisible.text
        assert await world.fingerprint() == baseline


# A form of each domain. A moderator's act on a comment is sent as htmx sends it: the plain form comes
# back to the comment with the message, htmx gets the status.
FORMS = [
    ("member", "/w/{slug}/ideas/new", {"title": "t", "body": "b", "place_name": "p"}),
    ("member", "/w/{slug}/ideas/{idea_id}/comments", {"body": "b"}),
    ("member", "/profile", {"display_name": "n", "locale": "en", "time_zone": "UTC"}),
    ("facilitator", "/workspaces/new", {"title_en": "t", "summary_en": "s", "visibility": "public"}),
    ("moderator", "/w/{slug}/sessions/new", {"title": "t", "description": "d", "place_name": "p"}),
    ("moderator", "/w/{slug}/ballots/new", {"question": "q", "description": "d", "options_text": "a\nb"}),
    ("moderator", "/w/{slug}/members/{author_membership_id}/warn", {"reason": "r"}),
    ("moderator", "/w/{slug}/comments/{comment_id}/hide", {"reason": "r"}),
    ("facilitator", "/topics/seed", {"title": "t", "brief": "b", "phase": "co-design"}),
    ("member", "/w/{slug}/sessions/{session_id}/live/ideas", {"title": "t", "body": "b"}),
]
CHOICES = {"locale", "time_zone", "visibility", "phase"}  # not free text
FORM_IDS = [url for _role, url, _form in FORMS]


async def send_form(world, role: str, url: str, form: dict):
    headers = {"HX-Request": "true"} if url.endswith("/hide") else {}
    return await world.post(role, url, form, headers=headers)


@pytest.mark.parametrize(("role", "url", "form"), FORMS, ids=FORM_IDS)
async def test_a_nul_character_is_refused_with_a_message_and_nothing_is_stored(
    world, baseline, role, url, form
):
    async with world.savepoint():
        for name in form:
            response = await send_form(world, role, url, {**form, name: form[name] + NUL})
            assert response.status_code == 422, (name, response.status_code)
            assert "NUL character" in response.text
        assert await world.fingerprint() == baseline


@pytest.mark.parametrize(
    "url", ["/search?q=a%00", "/w/{slug}?tag=%00", "/w/x%00y", "/w/{slug}/ideas/{idea_id}?x%00=1"]
)
async def test_a_nul_character_in_an_address_is_refused_with_a_message(world, url):
    response = await world.get("member", url)
    assert response.status_code == 422 and "NUL character" in response.text


@pytest.mark.parametrize(("role", "url", "form"), FORMS, ids=FORM_IDS)
async def test_text_longer_than_a_field_takes_is_refused_with_its_limit(world, baseline, role, url, form):
    async with world.savepoint():
        for name in set(form) - CHOICES:
            too_long = VERY_LONG + ("\nb" if name == "options_text" else "")
            response = await send_form(world, role, url, {**form, name: too_long})
            assert response.status_code == 422, (name, response.status_code)
            assert "at most" in response.text, name
        assert await world.fingerprint() == baseline

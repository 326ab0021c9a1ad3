"""The live room in real browsers: a facilitator runs a session while two citizens, one reading in
English and one in Chinese, add ideas and vote, until the session closes; every screen follows
without a reload. And a citizen whose connection drops gets what happened meanwhile when it comes
back, still without a reload.

The citizens' pages are found by their structure where the Chinese page would need its own wording;
the ideas and the agenda are the test's own (unique) text in both languages."""

import contextlib
import re
import socket
import threading
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.e2e.test_workspaces import DEMO_PASSWORD, FACILITATOR, header, unique_name

pytestmark = pytest.mark.e2e

PORTO = "/w/porto-campanha-green-corridor"
SESSION_ZONE = "Europe/Lisbon"
AGENDA = [("Welcome and walk-through", "10"), ("Ideas for the riverbank", "30"), ("Vote", "15")]

# The demo users (see app/demo/seed.py): Ana is a member of Porto's workspace, Wei of Shenzhen's.
ANA = ("ana@example.org", "Ana Silva")
WEI = ("wei@example.org", "李伟")
MODERATOR = (FACILITATOR, "Ingrid (IKED)")

# Every live page notes the events it opened and lost, from before its own scripts run.
SSE_PROBE = """
window.__sse = {open: 0, error: 0};
document.addEventListener("htmx:sseOpen", () => window.__sse.open++);
document.addEventListener("htmx:sseError", () => window.__sse.error++);
"""


def logged_in(new_context, person: tuple[str, str], **options):
    """A page of a fresh context logged in as a demo user, in the language of their profile."""
    email, name = person
    context = new_context(**options)
    context.add_init_script(SSE_PROBE)
    page = context.new_page()
    page.goto("/login")
    form = page.get_by_role("main").locator("form[action='/login']")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(header(page).get_by_role("link", name=name, exact=True)).to_be_visible()
    return page


def join_porto(page) -> None:
    """Joins Porto's open workspace (by the form, whatever the page's language) unless a member."""
    page.goto(PORTO)
    join = page.get_by_role("main").locator(f"form[action='{PORTO}/join']")
    if join.count():
        join.locator("button[type=submit]").click()
        expect(join).to_have_count(0)


def local_time(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(SESSION_ZONE)).strftime("%Y-%m-%dT%H:%M")


def start_live_session(page, title: str) -> str:
    """Schedules a session with the agenda through the form, publishes it and starts its live room;
    returns the room's path, where the page now is."""
    page.goto(f"{PORTO}/sessions/new")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Place", exact=True).fill("Campanhã station, hall B")
    now = datetime.now(ZoneInfo(SESSION_ZONE))
    page.get_by_label("Starts").fill(local_time(now - timedelta(minutes=5)))
    page.get_by_label("Ends").fill(local_time(now + timedelta(hours=2)))
    page.get_by_label("Time zone of the session").select_option(SESSION_ZONE)
    for row, (item, minutes) in zip(page.locator("li.agenda-row").all(), AGENDA, strict=False):
        row.locator("input[name=agenda_title]").fill(item)
        row.locator("input[name=agenda_minutes]").fill(minutes)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("status")).to_contain_text("The session is saved as a draft.")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("The session is published")
    page.get_by_role("button", name="Start the live room").click()
    expect(page.get_by_role("status")).to_contain_text("The session is live.")
    expect(page).to_have_url(re.compile(r"/sessions/\d+/live$"))
    expect(current_item(page)).to_contain_text(AGENDA[0][0])
    return urlsplit(page.url).path


def current_item(page):
    return page.locator("#room-agenda li[aria-current=step]")


def board_column(page, heading: str):
    column = page.locator(".board-column").filter(has=page.get_by_role("heading", name=heading, exact=True))
    return column.locator(".board-list")


def mark_as_not_reloaded(page) -> None:
    """A reload, or a boosted navigation replacing the page's body, would lose these markers."""
    page.evaluate("() => { window.__noReload = 1; document.getElementById('room').__noReload = 1; }")


def assert_not_reloaded(page, room: str) -> None:
    assert page.evaluate("() => window.__noReload === 1 && document.getElementById('room').__noReload === 1")
    assert page.url.endswith(room)


def test_a_moderator_sees_the_citizens_ideas_and_votes_arrive_without_reloading(new_context):
    session_title = unique_name("Riverbank walk")
    item_two = AGENDA[1][0]
    idea_of_ana = unique_name("Stepping stones across the stream")
    idea_of_wei = unique_name("雨水花园 by the school")

    moderator = logged_in(new_context, MODERATOR)
    room = start_live_session(moderator, session_title)
    session_path = room.removesuffix("/live")
    mark_as_not_reloaded(moderator)

    ana = logged_in(new_context, ANA)
    wei = logged_in(new_context, WEI)
    join_porto(wei)
    ana.goto(session_path)
    ana.get_by_role("main").get_by_role("button", name="Register for this session").click()
    expect(ana.get_by_role("status")).to_contain_text("You are registered.")
    ana.get_by_role("link", name="Enter the live room").click()
    wei.goto(session_path)
    wei.locator(f"form[action='{session_path}/register'] button[type=submit]").click()
    expect(wei.locator(f"form[action='{session_path}/cancel']")).to_be_visible()  # has a place
    wei.locator(f"main a[href='{room}']").click()
    for citizen in (ana, wei):
        expect(citizen).to_have_url(re.compile(re.escape(room) + "$"))
        expect(current_item(citizen)).to_contain_text(AGENDA[0][0])
        mark_as_not_reloaded(citizen)

    moderator.locator(".agenda-controls").get_by_role("button", name=f"2. {item_two}", exact=True).click()
    for page in (moderator, ana, wei):
        expect(current_item(page)).to_have_count(1)
        expect(current_item(page)).to_contain_text(item_two)

    ana.get_by_label("Your idea, in a few words").fill(idea_of_ana)
    ana.get_by_role("button", name="Add to the board").click()
    quick_idea = wei.locator("form.quick-idea")
    quick_idea.locator("input[name=title]").fill(idea_of_wei)
    quick_idea.locator("button[type=submit]").click()
    for page in (moderator, ana, wei):
        for idea in (idea_of_ana, idea_of_wei):
            expect(board_column(page, item_two).get_by_role("link", name=idea, exact=True)).to_be_visible()
            expect(page.locator(".board-idea", has_text=idea)).to_have_count(1)
    expect(ana.get_by_label("Your idea, in a few words")).to_have_value("")  # the form is reset
    for page in (moderator, ana, wei):
        assert_not_reloaded(page, room)

    # The moderator makes the ballot in another tab. It arrives whole in every open room: each reader
    # gets their own form (eligibility, their CSRF token) and the live results, without a reload.
    question = unique_name("Which idea do we try first?")
    ballot_tab = moderator.context.new_page()
    ballot_tab.goto(session_path)
    ballot_tab.get_by_role("link", name="New ballot").click()
    ballot_tab.get_by_label("Question").fill(question)
    ballot_tab.get_by_label("Single choice").check()
    ballot_tab.get_by_label(idea_of_ana).check()
    ballot_tab.get_by_label(idea_of_wei).check()
    ballot_tab.get_by_label("Live, while the ballot is open").check()
    ballot_tab.get_by_label("People with a place in the session").check()
    ballot_tab.get_by_role("button", name="Create the ballot").click()
    expect(ballot_tab.get_by_role("status")).to_contain_text("The ballot is ready.")
    ballot_id = re.search(r"/ballots/(\d+)$", ballot_tab.url).group(1)
    ballot_tab.close()
    for page in (moderator, ana, wei):
        expect(page.locator("#room-ballots").get_by_role("link", name=question)).to_be_visible()
        expect(page.locator(f"#ballot-{ballot_id}")).to_be_visible()
        assert_not_reloaded(page, room)
    results = moderator.locator(f"[sse-swap='tally-{ballot_id}']")
    expect(results).to_contain_text("0 ballots counted")

    def votes_for(idea: str):
        return results.locator(".result-bars li").filter(has_text=idea).locator(".result-value")

    ana_ballot = ana.locator(f"#ballot-{ballot_id}")
    ana_ballot.get_by_label(idea_of_ana).check()
    ana_ballot.get_by_role("button", name="Vote").click()
    expect(ana_ballot.get_by_role("status")).to_contain_text("Your vote has been recorded.")
    expect(results).to_contain_text("1 ballot counted")
    expect(votes_for(idea_of_ana)).to_have_text("1 vote")
    expect(votes_for(idea_of_wei)).to_have_text("0 votes")

    wei_ballot = wei.locator(f"#ballot-{ballot_id}")
    wei_ballot.get_by_label(idea_of_wei).check()
    wei_ballot.locator("form.vote-form button[type=submit]").click()
    expect(wei_ballot.get_by_role("status")).to_be_visible()  # "your vote has been recorded", in Chinese
    expect(results).to_contain_text("2 ballots counted")
    expect(votes_for(idea_of_ana)).to_have_text("1 vote")
    expect(votes_for(idea_of_wei)).to_have_text("1 vote")
    expect(ana.locator(f"[sse-swap='tally-{ballot_id}']")).to_contain_text("2 ballots counted")

    closing_tab = moderator.context.new_page()
    closing_tab.goto(session_path)
    closing_tab.once("dialog", lambda dialog: dialog.accept())  # "End this session? ..."
    closing_tab.get_by_role("button", name="End the session").click()
    expect(closing_tab.get_by_role("status")).to_contain_text("The session is closed.")
    closing_tab.close()
    expect(moderator.locator("#room-status")).to_have_text("This session has ended.")
    for page in (moderator, ana, wei):
        expect(page.locator("#room-status .badge-muted")).to_be_visible()
        assert_not_reloaded(page, room)


class Relay:
    """A TCP relay in front of the app server: the test can drop every connection through it, and
    refuse new ones until it restores them, as a train entering a tunnel would."""

    def __init__(self, base_url: str) -> None:
        target = urlsplit(base_url)
        self._target = (target.hostname, target.port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._refusing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                refused = self._refusing
                if not refused:
                    upstream = socket.create_connection(self._target)
                    self._connections.update((client, upstream))
            if refused:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        self._close(source, sink)

    def _close(self, *connections: socket.socket) -> None:
        for connection in connections:
            with self._lock:
                self._connections.discard(connection)
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def drop(self) -> None:
        with self._lock:
            self._refusing = True
            connections = list(self._connections)
        self._close(*connections)

    def restore(self) -> None:
        self._refusing = False

    def close(self) -> None:
        self._listener.close()
        self.drop()


@pytest.fixture
def relay(server_url):
    relay = Relay(server_url)
    yield relay
    relay.close()


def test_a_citizen_whose_connection_dropped_gets_what_happened_meanwhile_without_reloading(
    new_context, relay
):
    before, meanwhile = unique_name("Benches in the shade"), unique_name("A pond for the frogs")
    moderator = logged_in(new_context, MODERATOR)
    room = start_live_session(moderator, unique_name("Evening on the corridor"))
    ana = logged_in(new_context, ANA, base_url=relay.url)
    ana.goto(room)
    mark_as_not_reloaded(ana)

    def add_idea(title: str) -> None:
        moderator.get_by_label("Your idea, in a few words").fill(title)
        moderator.get_by_role("button", name="Add to the board").click()

    add_idea(before)
    expect(ana.locator(".board-idea", has_text=before)).to_have_count(1)
    seen = ana.evaluate("() => document.getElementById('room').dataset.lastEventId")
    reconnections = []
    ana.on("request", lambda request: "/live/events" in request.url and reconnections.append(request))

    relay.drop()
    ana.wait_for_function("() => window.__sse.error >= 1")
    add_idea(meanwhile)
    moderator.locator(".agenda-controls").get_by_role("button", name=f"3. {AGENDA[2][0]}").click()
    expect(current_item(moderator)).to_contain_text(AGENDA[2][0])
    expect(moderator.locator(".board-idea", has_text=meanwhile)).to_have_count(1)
    expect(current_item(ana)).to_contain_text(AGENDA[0][0])
    expect(ana.locator(".board-idea", has_text=meanwhile)).to_have_count(0)

    relay.restore()
    expect(current_item(ana)).to_contain_text(AGENDA[2][0])
    expect(ana.locator(".board-idea", has_text=meanwhile)).to_have_count(1)
    expect(ana.locator(".board-idea", has_text=before)).to_have_count(1)  # not replayed twice
    assert any(  # resumed after the last event it had, whether by the browser's header or the page's URL
        request.all_headers().get("last-event-id") == seen or f"last_event_id={seen}" in request.url
        for request in reconnections
    ), [(request.url, request.all_headers()) for request in reconnections]
    assert_not_reloaded(ana, room)

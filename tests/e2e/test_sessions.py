"""Session pages in a real browser: the agenda form grows in place, and the live room tells its people
when a ballot opens and whether the page follows by itself."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.e2e.test_live_room import (
    ANA,
    MODERATOR,
    PORTO,
    SESSION_ZONE,
    assert_not_reloaded,
    join_porto,
    local_time,
    logged_in,
    mark_as_not_reloaded,
    start_live_session,
)
from tests.e2e.test_workspaces import unique_name

pytestmark = pytest.mark.e2e


def fill_session(page, title: str) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Place", exact=True).fill("Campanhã station, hall B")
    now = datetime.now(ZoneInfo(SESSION_ZONE))
    page.get_by_label("Starts").fill(local_time(now + timedelta(days=2)))
    page.get_by_label("Ends").fill(local_time(now + timedelta(days=2, hours=2)))
    page.get_by_label("Time zone of the session").select_option(SESSION_ZONE)


def test_agenda_rows_are_added_in_place_without_losing_what_was_typed(new_context):
    page = logged_in(new_context, MODERATOR)
    page.goto(f"{PORTO}/sessions/new")
    title = unique_name("Agenda of five")
    fill_session(page, title)
    rows = page.locator("#agenda-rows > li")
    expect(rows).to_have_count(3)
    items = [f"Item {n} {title}" for n in range(1, 6)]
    for row, item in zip(rows.all(), items, strict=False):
        row.locator("input[name=agenda_title]").fill(item)
    # A reload, or a boosted form replacing the body, would lose this marker.
    page.evaluate("() => { document.getElementById('agenda-rows').__noReload = 1; }")
    add = page.get_by_role("button", name="Add a row")
    add.click()
    expect(rows).to_have_count(4)
    # The cursor is in the new row, labelled with its number, and the rest is as typed.
    expect(page.get_by_label("Item 4", exact=True)).to_be_focused()
    page.keyboard.type(items[3])
    add.click()
    expect(rows).to_have_count(5)
    page.get_by_label("Item 5", exact=True).fill(items[4])
    assert page.evaluate("() => document.getElementById('agenda-rows').__noReload === 1")
    expect(page.get_by_label("Title")).to_have_value(title)
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    agenda = page.get_by_role("main").locator("ol.agenda li")
    expect(agenda).to_have_count(5)
    for line, item in zip(agenda.all(), items, strict=True):
        expect(line).to_contain_text(item)


def test_without_javascript_add_a_row_sends_the_form_back_with_one_more_row(new_context):
    page = logged_in(new_context, MODERATOR, java_script_enabled=False)
    page.goto(f"{PORTO}/sessions/new")
    title = unique_name("Agenda without script")
    fill_session(page, title)
    page.locator("#agenda-rows input[name=agenda_title]").first.fill("Welcome")
    page.get_by_role("button", name="Add a row").click()
    expect(page.locator("#agenda-rows > li")).to_have_count(4)
    expect(page.get_by_label("Title")).to_have_value(title)
    expect(page.locator("#agenda-rows input[name=agenda_title]").first).to_have_value("Welcome")
    expect(page).to_have_url(re.compile(r"/sessions/new$"))


def open_ballot_in(moderator, session_path: str, question: str) -> str:
    """The moderator makes a ballot of the session in another tab; returns its id."""
    tab = moderator.context.new_page()
    tab.goto(session_path)
    tab.get_by_role("link", name="New ballot").click()
    tab.get_by_label("Question").fill(question)
    tab.get_by_label("Single choice").check()
    tab.get_by_label("Other options, one per line").fill("Rain garden\nGreen roof")
    tab.get_by_label("Live, while the ballot is open").check()
    tab.get_by_label("Members of the workspace").check()
    tab.get_by_role("button", name="Create the ballot").click()
    expect(tab.get_by_role("status")).to_contain_text("The ballot is ready.")
    ballot_id = re.search(r"/ballots/(\d+)$", tab.url).group(1)
    tab.close()
    return ballot_id


def test_a_ballot_opened_in_the_live_room_is_announced_and_comes_first_on_a_phone(new_context):
    moderator = logged_in(new_context, MODERATOR)
    room = start_live_session(moderator, unique_name("Room with a ballot"))
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    ana = logged_in(new_context, ANA, **phone)
    join_porto(ana)
    ana.goto(room)
    expect(ana.get_by_text("This page updates automatically.")).to_be_visible()
    expect(ana.get_by_text("Reload the page to see what is new.")).to_be_hidden()
    mark_as_not_reloaded(ana)
    board = ana.get_by_role("heading", name="Ideas in this session")
    ballots = ana.get_by_role("heading", name="Ballots", exact=True)
    assert ballots.bounding_box()["y"] > board.bounding_box()["y"]  # no open ballot: the board first
    ana.mouse.wheel(0, 600)  # somewhere down the board

    question = unique_name("Which one do we plant first?")
    ballot_id = open_ballot_in(moderator, room.removesuffix("/live"), question)

    notice = ana.locator("#room-notices[aria-live=polite]")
    expect(notice).to_contain_text(question)
    expect(notice).to_be_in_viewport()
    # On the phone the open ballot now comes before the board.
    assert ballots.bounding_box()["y"] < board.bounding_box()["y"]
    notice.get_by_role("link", name="Go to the ballot").click()
    ballot = ana.locator(f"#room-ballot-{ballot_id}")
    expect(ballot).to_be_in_viewport()
    expect(ballot).to_be_focused()
    expect(ballot.get_by_role("button", name="Vote")).to_be_in_viewport()
    notice.get_by_role("button", name="Dismiss").click()
    expect(ana.get_by_text("A ballot has opened")).to_have_count(0)
    assert_not_reloaded(ana, f"{room}#room-ballot-{ballot_id}")


def test_without_javascript_the_live_room_does_not_claim_to_update_itself(new_context):
    """The reload hint is inside <noscript>, which Chromium does not render when Playwright turns scripts
    off (its parser still runs as if they were on); tests/cocreation/test_live_room.py checks it."""
    moderator = logged_in(new_context, MODERATOR)
    room = start_live_session(moderator, unique_name("Room without script"))
    reader = new_context(java_script_enabled=False).new_page()
    reader.goto(room)
    expect(reader.get_by_role("heading", level=1)).to_be_visible()
    expect(reader.get_by_text("This page updates automatically.")).to_be_hidden()

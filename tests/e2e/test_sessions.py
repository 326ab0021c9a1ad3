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

from tests.e2e.test_live_room import MODERATOR, PORTO, SESSION_ZONE, local_time, logged_in
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

"""Moderation in real browsers: three members report a comment and it hides; a facilitator restores it
from the moderation queue with a reason; its author sees the reason, and the audit log shows it all."""

import re
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.e2e.test_workspaces import (
    DEMO_PASSWORD,
    FACILITATOR,
    header,
    log_in,
    register,
    unique_email,
    unique_name,
)

pytestmark = pytest.mark.e2e

PORTO = "/w/porto-campanha-green-corridor"


def member_page(new_context, name: str):
    """A new citizen, registered through the form, who joins Porto's open workspace."""
    page = new_context().new_page()
    register(page, email=unique_email(), display_name=name)
    page.goto(PORTO)
    page.get_by_role("main").get_by_role("button", name="Join this workspace").click()
    expect(page.get_by_role("main").get_by_text("You are a member.")).to_be_visible()
    return page


def comment_block(page, text: str):
    return page.locator("li.comment").filter(has_text=text).first


def test_three_reports_hide_a_comment_a_moderator_restores_it_with_a_reason_the_author_sees(new_context):
    words = unique_name("Cheap watches, visit my shop")
    author_name = unique_name("Otto Author")
    author = member_page(new_context, author_name)
    author.goto(PORTO)
    links = (
        author.get_by_role("main")
        .locator(f"a[href^='{PORTO}/ideas/']")
        .evaluate_all("links => links.map(link => link.getAttribute('href'))")
    )
    paths = [urlsplit(href).path for href in links]
    idea_url = next(path for path in paths if re.fullmatch(r".*/ideas/\d+", path))
    author.goto(idea_url)
    author.get_by_label("Your comment").fill(words)
    author.get_by_role("button", name="Post comment").click()
    expect(comment_block(author, words)).to_be_visible()

    reporters = [member_page(new_context, unique_name(f"Reporter {n}")) for n in range(3)]
    for page in reporters:
        page.goto(idea_url)
        block = comment_block(page, words)
        block.get_by_text("Report", exact=True).click()
        block.get_by_label("Spam or advertising").check()
        block.get_by_role("button", name="Send report").click()
        expect(page.get_by_text("Thank you. The moderators of this workspace will look at")).to_be_visible()
    # The third report hid it: the third reporter's own screen already says so, and a fresh load too.
    expect(reporters[2].get_by_text("This comment was hidden.")).to_be_visible()
    reporters[0].goto(idea_url)
    expect(reporters[0].get_by_text(words)).to_have_count(0)
    expect(reporters[0].get_by_text("This comment was hidden.")).to_be_visible()

    moderator = new_context().new_page()
    log_in(moderator, FACILITATOR, DEMO_PASSWORD)
    moderator.goto(f"{PORTO}/moderation")
    item = moderator.locator("li.queue-item").filter(has_text=words)
    expect(item).to_contain_text("3 reports")
    expect(item).to_contain_text("Spam or advertising × 3")
    item.get_by_role("checkbox").check()
    moderator.get_by_label("With the selected items").select_option("restore")
    moderator.get_by_label("Reason (the authors see it; needed to hide or restore)").fill(
        "A local shop we invited to the workshop; not spam."
    )
    moderator.get_by_role("button", name="Apply").click()
    expect(moderator.get_by_role("status")).to_contain_text("1 item changed.")

    author.goto("/notifications")
    expect(author.get_by_role("main")).to_contain_text("was hidden")
    expect(author.get_by_role("main")).to_contain_text("is shown again")
    author.goto(idea_url)
    mine = comment_block(author, words)
    expect(mine).to_contain_text("Shown again by the moderators:")
    expect(mine).to_contain_text("A local shop we invited to the workshop; not spam.")

    header(moderator).get_by_role("link", name="Moderation").click()
    moderator.get_by_role("main").get_by_role("link", name="Audit log").click()
    rows = moderator.locator("table.audit-table tbody tr")
    expect(rows.nth(0)).to_contain_text("Restored")
    expect(rows.nth(0)).to_contain_text("A local shop we invited to the workshop; not spam.")
    expect(rows.nth(1)).to_contain_text("Hidden by reports")
    for n in range(2, 5):
        expect(rows.nth(n)).to_contain_text("Reported")
        expect(rows.nth(n)).to_contain_text("Spam or advertising")

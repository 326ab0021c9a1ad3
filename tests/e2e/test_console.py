"""No errors in the browser's console, and no Content Security Policy violation, across a citizen's first
hour: a form sent with errors, an idea posted, two comments (the second once failed an htmx
out-of-band swap aimed at the "No comments yet" line the first had removed), a reply, a support and a
vote; and a moderator locking and unlocking an idea with a map (htmx copied the map's inline style
onto the new page as it settled, which the CSP refused).

Chromium's own line for an answer of 4xx ("Failed to load resource: ... 422") is not counted: a form
with errors is meant to come back as 422; htmx's error log for one is."""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.e2e.test_focus import PORTO, log_in
from tests.e2e.test_ideas import TEXT, join_porto
from tests.e2e.test_workspaces import DEMO_PASSWORD, register, unique_email, unique_name

pytestmark = pytest.mark.e2e


FAILED_4XX = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d ")
# Chromium writes CSP violations to the console too; this also catches those it might not.
REPORT_CSP = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});"""


def watched(new_context, server_url, problems: list[str]):
    context = new_context()
    context.add_init_script(REPORT_CSP)
    # The map tiles come from outside, which this machine may not reach: only the app's own errors count.
    context.route(lambda url: not url.startswith(server_url), lambda route: route.abort())
    page = context.new_page()

    def on_console(message):
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if where and not where.startswith(server_url) and "CSP violation" not in message.text:
            return
        if FAILED_4XX.match(message.text):
            return
        problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: uncaught {error}"))
    return page


def test_no_console_error_or_csp_violation_on_a_first_hour(new_context, server_url):
    problems: list[str] = []
    page = watched(new_context, server_url, problems)
    page.goto("/register")
    page.locator("input[name=email]").fill("not an address")
    page.locator("main button[type=submit]").click()
    expect(page.locator("main .form-error")).to_be_visible()
    register(page, email=unique_email(), display_name=unique_name("Console"))
    join_porto(page, TEXT["en"])

    page.goto(f"{PORTO}/ideas/new")
    page.get_by_role("main").get_by_role("button", name="Post idea").click()
    expect(page.locator("main .form-error")).to_be_visible()
    title = unique_name("Rain garden by the school")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your idea", exact=True).fill("Collect the **rain** from the roofs.")
    page.get_by_role("main").get_by_role("button", name="Post idea").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()

    for words in ("A first comment, it removes the empty line.", "A second comment."):
        page.get_by_label("Your comment", exact=True).fill(words)
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("#comment-list").get_by_text(words)).to_be_visible()
    page.locator("#comment-list details.reply > summary").first.click()
    page.get_by_label("Your reply", exact=True).first.fill("A reply.")
    page.get_by_role("button", name="Post reply").first.click()
    expect(page.get_by_text("A reply.")).to_be_visible()
    page.get_by_role("button", name="Support", exact=True).click()
    expect(page.locator(".support-count")).to_have_text("1 support")

    voter = watched(new_context, server_url, problems)
    log_in(voter, "ana@example.org", DEMO_PASSWORD)
    voter.goto(f"{PORTO}/ballots/1")
    if voter.locator("form.vote-form").count():
        voter.locator("form.vote-form input[name=option]").first.check()
        with voter.expect_response(lambda response: response.url.endswith("/vote")):
            voter.locator("form.vote-form button[type=submit]").click()
    voter.wait_for_load_state("networkidle")

    moderator = watched(new_context, server_url, problems)
    moderator.goto("/login")
    moderator.locator("input[name=email]").fill("facilitator@example.org")
    moderator.locator("input[name=password]").fill(DEMO_PASSWORD)
    moderator.locator("main button[type=submit]").click()
    expect(moderator.locator("header a.user-link")).to_be_visible()
    moderator.goto(f"{PORTO}/ideas/1")
    expect(moderator.locator("#idea-map .leaflet-marker-icon")).to_be_attached()
    lock = moderator.locator(f"form[action='{PORTO}/ideas/1/lock']")
    lock.locator("xpath=ancestor::details").locator("summary").click()
    lock.locator("textarea[name=reason]").fill("Decided by the council.")
    lock.locator("button[type=submit]").click()
    unlock = moderator.locator(f"form[action='{PORTO}/ideas/1/unlock'] button[type=submit]")
    unlock.click()
    expect(moderator.locator(f"form[action='{PORTO}/ideas/1/lock']")).to_be_attached()
    moderator.wait_for_load_state("networkidle")
    page.wait_for_load_state("networkidle")
    assert not problems, "Console errors or CSP violations:\n" + "\n".join(problems)

"""Focus stays where the person was after an htmx swap: supporting, posting a comment, replying and
voting each replace the control that was pressed, and the focus goes to its replacement (or, for a
reply, to the "Reply" toggle of the form that closed), never back to <body>, from where the next Tab
jumped to the footer."""

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.e2e.test_ideas import TEXT, join_porto
from tests.e2e.test_workspaces import DEMO_PASSWORD, register, unique_email, unique_name

pytestmark = pytest.mark.e2e


def log_in(page, email: str, password: str) -> None:
    """Through the form, in whatever language the account reads (another test may have changed it)."""
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main button[type=submit]").click()
    expect(page.locator("header a.user-link")).to_be_visible()


PORTO = "/w/porto-campanha-green-corridor"
ANA = "ana@example.org"
FOCUSED = "() => { const e = document.activeElement; return e ? (e.id || e.tagName) : null; }"


def focused(page) -> str | None:
    return page.evaluate(FOCUSED)


def within(page, selector: str) -> bool:
    return page.evaluate(f"() => !!document.activeElement && !!document.activeElement.closest({selector!r})")


def test_focus_returns_to_the_swapped_control_after_support_comment_reply_and_vote(new_context):
    page = new_context().new_page()
    register(page, email=unique_email(), display_name=unique_name("Focus"))
    join_porto(page, TEXT["en"])
    page.goto(f"{PORTO}/ideas/1")

    support = page.locator(".support-button")
    before = support.inner_text().strip()
    support.click()
    expect(page.locator(".support-button")).not_to_have_text(before)
    assert focused(page) == "support-button-1"
    assert within(page, "#support-1")

    page.get_by_label("Your comment", exact=True).fill("Focus stays with me. 焦点还在。")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comment-list").get_by_text("Focus stays with me.")).to_be_visible()
    assert focused(page) == "new-comment-submit"
    assert within(page, "#new-comment")

    comment = page.locator("#comment-list > li").filter(has_text="Focus stays with me.")
    comment.locator("details.reply > summary").first.click()
    comment.get_by_label("Your reply", exact=True).first.fill("And after a reply too.")
    comment.get_by_role("button", name="Post reply").first.click()
    expect(page.get_by_text("And after a reply too.")).to_be_visible()
    # The focus moves once htmx has settled, a moment after the reply shows.
    page.wait_for_function("document.activeElement.matches('details.reply > summary')", timeout=5_000)
    page.keyboard.press("Tab")
    assert not within(page, "footer")

    voter = new_context().new_page()
    log_in(voter, ANA, DEMO_PASSWORD)
    voter.goto(f"{PORTO}/ballots/1")
    voter.locator("form.vote-form input[name=option]").first.check()
    with voter.expect_response(lambda response: response.url.endswith("/vote")):
        voter.locator("form.vote-form button[type=submit]").click()
    expect(voter.locator("form.vote-form .hint")).to_be_visible()  # "You have voted", in its language
    assert focused(voter) == "ballot-1-vote"
    voter.keyboard.press("Tab")
    assert not within(voter, "footer")


# For the focused element: its outline's colour and width, and the first opaque background behind it.
FOCUS_RING = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  let node = e.parentElement, background = "rgb(255, 255, 255)";
  while (node) {
    const color = getComputedStyle(node).backgroundColor;
    if (color && color !== "transparent" && !color.startsWith("rgba(0, 0, 0, 0")) {
      background = color;
      break;
    }
    node = node.parentElement;
  }
  return {name: e.id || e.textContent.trim().slice(0, 30) || e.tagName, outline: style.outlineColor,
          width: parseFloat(style.outlineWidth), styleName: style.outlineStyle, background};
}"""


def luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_focus_rings_contrast_at_least_3_to_1_with_what_is_around_them(page):
    """Tabbing through the login page (skip link, header, form, footer): every focused control shows an
    outline of at least 2 px whose colour has at least 3:1 against the background behind it."""
    page.goto("/login")
    seen = []
    for _ in range(14):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        seen.append(ring)
        assert ring["styleName"] != "none" and ring["width"] >= 2, ring
        assert contrast(ring["outline"], ring["background"]) >= 3, ring
    assert len({ring["name"] for ring in seen}) > 8

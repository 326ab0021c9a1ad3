"""Full-page screenshots of the main pages, in English and Chinese, on a phone and on a desktop.

Usage (from the repository root)::

    .venv/bin/python tools/screenshots.py [--out DIR]

The app is served by uvicorn on a free local port with a fresh temporary SQLite database, migrated and
loaded with the demo data through the ``cocreate`` command (``tests.e2e.server.running_app``, as for the
end-to-end tests), and driven by Debian's Chromium (``/usr/bin/chromium``, or ``COCREATE_CHROMIUM``)
through Playwright. Requests that leave the local server (the map tiles) are refused, so the map shows
its markers on a grey background.

Before the shots a new user asks, through the pages, to join the demo workspace that needs approval, so
the facilitator has a notification and a request to decide on.

Files are written to DIR (default ``screenshots/``, ignored by git) as ``<language>-<viewport>-<page>.png``,
for example ``zh-phone-network.png``; their list is printed at the end. Pages that scroll sideways are
reported on the way.
"""

import argparse
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS, chromium_path  # noqa: E402
from tests.e2e.server import AppServerError, running_app  # noqa: E402

TIMEOUT_MS = 15_000
PASSWORD = "green-corridor-2026"  # noqa: S105 (the demo users' password, public)
ADMIN = "admin@example.org"
FACILITATOR = "facilitator@example.org"
WEI = "wei@example.org"
ANA = "ana@example.org"
# The demo user whose profile (and view of the open workspace) is shown in each language.
USERS = {"en": ANA, "zh": WEI}
# The demo workspaces: open to all, members only (李伟 is a member), and joining needs approval.
PORTO = "/w/porto-campanha-green-corridor"
SHENZHEN = "/w/shenzhen-sponge-city-pilot"
RIVERS = "/w/rivers-as-green-corridors-europe-and-guangdong"
LANGUAGES = {"en": ("en-GB", "Europe/Lisbon", "en"), "zh": ("zh-CN", "Asia/Shanghai", "zh-Hans")}
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}


def open_context(browser: Browser, base_url: str, language: str, viewport: str) -> BrowserContext:
    locale, zone, _ = LANGUAGES[language]
    context = browser.new_context(base_url=base_url, locale=locale, timezone_id=zone, **VIEWPORTS[viewport])
    context.set_default_timeout(TIMEOUT_MS)
    context.add_cookies([{"name": "cocreate_lang", "value": language, "url": base_url}])
    # Only the local server answers: the map tiles (and anything else from outside) fail at once.
    context.route(
        lambda url: not url.startswith(base_url) and not url.startswith("data:"),
        lambda route: route.abort(),
    )
    return context


def settle(page: Page) -> None:
    """Waits for the network to be idle, the fonts to be ready and the map to show its markers."""
    # A live room keeps its event stream open, so the network is never idle there.
    page.wait_for_load_state("load" if page.locator("[sse-connect]").count() else "networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    if page.locator("#network-map").count():
        page.locator("#network-map .leaflet-marker-icon").first.wait_for(state="visible")
        page.wait_for_load_state("networkidle")


def log_in(page: Page, email: str, language: str) -> None:
    """Logs in through the form, then switches the account to ``language`` if it speaks another."""
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator("header a.user-link").wait_for(state="visible")
    settle(page)
    html_lang = LANGUAGES[language][2]
    if page.locator("html").get_attribute("lang") != html_lang:
        page.locator(f".language-switch button[value={language}]").click()
        page.locator(f"html[lang='{html_lang}']").wait_for(state="attached")
        settle(page)


def fill_register_badly(page: Page) -> None:
    page.locator("input[name=email]").fill("bad")
    page.locator("input[name=display_name]").fill("")
    page.locator("input[name=password]").fill("short")
    page.locator("main button[type=submit]").click()
    page.locator("main .form-error").wait_for(state="visible")


def name_no_one_sees(page: Page) -> None:
    page.locator("input[name=display_name]").fill("\u200b\u200d")
    page.locator("main form[action='/profile'] button[type=submit]").click()
    page.locator("main .form-error").wait_for(state="visible")


def submit_empty(page: Page) -> None:
    page.locator("main button[type=submit]").click()
    page.locator("main .form-error").wait_for(state="visible")


def seed_in_an_unknown_region(page: Page) -> None:
    """A region no city of the chosen network is in: refused on its field, the rest kept."""
    page.locator("input[name=title]").fill("Rain gardens")
    page.locator("select[name=network]").select_option("nscjl")
    page.locator("input[name=region]").fill("Atlantis")
    page.locator("main form button[type=submit]").click()
    page.locator("#f-region-error").wait_for(state="visible")


def delete_with_a_wrong_password(page: Page) -> None:
    """Ticks "also remove" and gives a wrong password: the form comes back, nothing is deleted."""
    form = page.locator("main form[action='/profile/delete']")
    form.locator("input[name=remove_contributions]").check()
    form.locator("input[name=password]").fill("not-the-password")
    form.locator("button[type=submit]").click()
    page.locator("main .form-error").wait_for(state="visible")


def ask_to_join(browser: Browser, base_url: str) -> None:
    """A new user registers in Chinese and asks to join the workspace that needs approval, with a word for
    its moderators: the facilitator then has a notification and a request waiting."""
    context = open_context(browser, base_url, "zh", "desktop")
    try:
        page = context.new_page()
        page.goto("/register")
        page.locator("input[name=email]").fill(f"shots-{uuid.uuid4().hex[:8]}@example.org")
        page.locator("input[name=display_name]").fill("陈小林")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("main button[type=submit]").click()
        page.locator("header a.user-link").wait_for(state="visible")
        page.goto(RIVERS)
        page.locator("textarea[name=message]").fill(
            "我在广州研究珠江沿岸的生态廊道，想和欧洲的城市交流经验。I can also help with translation."
        )
        page.locator(f"main form[action='{RIVERS}/join'] button[type=submit]").click()
        page.locator("main aside form[action$='/leave']").wait_for(state="visible")
    finally:
        context.close()


def vote_first_option(page: Page) -> None:
    page.locator("form.vote-form input[name=option]").first.check()
    page.locator("form.vote-form button[type=submit]").click()
    page.locator(".results").wait_for(state="visible")


def open_report(page: Page) -> None:
    """Opens the report form of the first comment the reader may report."""
    page.locator("details.report summary").first.click()
    page.locator("details.report[open] form").first.wait_for(state="visible")


def hide_selected(page: Page) -> None:
    """Hides every waiting item of the queue with a reason (the author then sees it). Decided items (an idea
    restored by an earlier run) stay as they are; when none waits, nothing is sent."""
    boxes = page.locator("li.queue-item.waiting input[type=checkbox]")
    if not boxes.count():
        return
    for n in range(boxes.count()):
        boxes.nth(n).check()
    page.locator("#bulk-action").select_option("hide")
    page.locator("#bulk-reason").fill(
        "Phone numbers of people who did not post them stay private. 请勿公开他人电话。"
    )
    page.locator(".bulk-bar button[type=submit]").click()
    page.locator(".flash").first.wait_for(state="visible")


def open_idea_report(page: Page) -> None:
    page.locator(".idea-tools details.report summary").first.click()
    page.locator(".idea-tools details.report[open] form").first.wait_for(state="visible")


def open_idea_tools(page: Page) -> None:
    """Opens every moderator's form beside an idea: hide, and lock."""
    summaries = page.locator(".idea-tools details.report summary")
    for n in range(summaries.count()):
        summaries.nth(n).click()


def _submit_idea_form(page: Page, action: str, reason: str | None) -> None:
    form = page.locator(f"form[action$='/{action}']")
    if reason is not None:
        form.locator("xpath=ancestor::details").locator("summary").click()
        form.locator("textarea[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    page.locator(".flash").first.wait_for(state="visible")


def lock_idea(page: Page) -> None:
    _submit_idea_form(page, "lock", "The city council decided on this corridor. 市议会已就此作出决定。")


def unlock_idea(page: Page) -> None:
    _submit_idea_form(page, "unlock", None)


def hide_idea(page: Page) -> None:
    _submit_idea_form(page, "hide", "A phone number of someone else. 含有他人电话号码。")


def restore_idea(page: Page) -> None:
    form = page.locator("form[action$='/restore']")
    form.locator("textarea[name=reason]").fill("The number is removed. 号码已删除。")
    form.locator("button[type=submit]").click()
    page.locator(".flash").first.wait_for(state="visible")


def open_sanctions(page: Page) -> None:
    page.locator("details.report summary").first.click()
    page.locator("details.report[open] form").first.wait_for(state="visible")


def open_first_account(page: Page) -> None:
    page.locator("table.account-table tbody a").first.click()
    page.locator("dl.facts").wait_for(state="visible")


def disable_empty(page: Page) -> None:
    """Opens the account and sends the disable form without a reason."""
    open_first_account(page)
    page.locator("form[action$='/disable'] button[type=submit]").click()
    page.locator("#disable-reason-error").wait_for(state="visible")


def disable_account(page: Page) -> None:
    """Opens the account and disables it with a reason (the first run does; later runs find it disabled)."""
    open_first_account(page)
    form = page.locator("form[action$='/disable']")
    if form.count():
        form.locator("textarea[name=reason]").fill(
            "Sent the same advert to every workspace. 在所有工作区发广告。"
        )
        form.locator("button[type=submit]").click()
        page.locator(".flash").first.wait_for(state="visible")


def go_live(page: Page) -> None:
    """Starts the workshop's live room (the first run does; later runs find it live already)."""
    start = page.locator("form[action$='/status']:has(input[value=live]) button")
    if start.count():
        start.click()
        page.wait_for_url("**/live")
    page.goto(f"{PORTO}/sessions/2/live")
    page.locator("#room").wait_for(state="visible")


# (name, path, what to do on the page before the shot)
Action = Callable[[Page], None] | None
ANONYMOUS_PAGES: list[tuple[str, str, Action]] = [
    ("home", "/", None),
    ("network", "/network", None),
    ("register", "/register", None),
    ("register-errors", "/register", fill_register_badly),
    ("login", "/login", None),
    ("404", "/nope", None),
    ("workspaces", "/workspaces", None),
    ("workspace-approval", RIVERS, None),
    ("workspace-members-only-404", SHENZHEN, None),
    ("privacy", "/privacy", None),
    ("nul-refused", "/search?q=a%00b", None),
]


OWN_WORKSPACE = {"en": PORTO, "zh": SHENZHEN}

# (who logs in, name, path, what to do on the page before the shot), per language
LOGGED_IN_PAGES: dict[str, list[tuple[str, str, str, Action]]] = {
    language: [
        (email, "profile", "/profile", None),
        (email, "account-delete", "/profile/delete", None),
        (email, "account-delete-wrong-password", "/profile/delete", delete_with_a_wrong_password),
        (email, "profile-name-invisible", "/profile", name_no_one_sees),
        (email, "workspaces-logged-in", "/workspaces", None),
        (email, "workspace", PORTO, None),
        (WEI, "workspace-members-only", SHENZHEN, None),
        (FACILITATOR, "workspace-moderator", RIVERS, None),
        (FACILITATOR, "members", f"{PORTO}/members", None),
        (FACILITATOR, "members-requests", f"{RIVERS}/members", None),
        (FACILITATOR, "notifications", "/notifications", None),
        (email, "idea", f"{PORTO}/ideas/1", None),
        (WEI, "idea-chinese", f"{SHENZHEN}/ideas/3", None),
        # Each demo user posts where they are a member: Ana in Porto, Wei in Shenzhen.
        (email, "idea-new", f"{OWN_WORKSPACE[language]}/ideas/new", None),
        (email, "ideas-map", f"{PORTO}/map", None),
        (email, "idea-new-errors", f"{OWN_WORKSPACE[language]}/ideas/new", submit_empty),
        (FACILITATOR, "topic-seed", "/topics/seed", None),
        (FACILITATOR, "topic-seed-region-error", "/topics/seed", seed_in_an_unknown_region),
        (FACILITATOR, "topic-overview", "/topics/seeds/1", None),
        (email, "search", "/search?q=%E7%BB%BF%E8%89%B2%E8%B5%B0%E5%BB%8A", None),
        (FACILITATOR, "workspace-new", "/workspaces/new", None),
        (FACILITATOR, "workspace-new-errors", "/workspaces/new", submit_empty),
        (ADMIN, "admin-import", "/admin/cities/import", None),
        (email, "sessions", f"{OWN_WORKSPACE[language]}/sessions", None),
        (email, "sessions-past", f"{PORTO}/sessions?past=1", None),
        (
            email,
            "session-registered",
            f"{OWN_WORKSPACE[language]}/sessions/{2 if language == 'en' else 3}",
            None,
        ),
        (email, "session-minutes-read", f"{PORTO}/sessions/1", None),
        (FACILITATOR, "session-new", f"{PORTO}/sessions/new", None),
        (FACILITATOR, "session-new-errors", f"{PORTO}/sessions/new", submit_empty),
        (FACILITATOR, "session-moderator", f"{PORTO}/sessions/2", None),
        (FACILITATOR, "session-attendance", f"{PORTO}/sessions/2/attendance", None),
        (FACILITATOR, "session-minutes", f"{PORTO}/sessions/1/minutes", None),
        (FACILITATOR, "ballot-new", f"{PORTO}/ballots/new", None),
        (FACILITATOR, "ballot-new-errors", f"{PORTO}/ballots/new", submit_empty),
        (FACILITATOR, "ballots", f"{PORTO}/ballots", None),
        (ANA, "ballot-vote", f"{PORTO}/ballots/1", None),
        (ANA, "ballot-results", f"{PORTO}/ballots/1", vote_first_option),
        (ANA, "ballot-papers-not-yet", f"{PORTO}/ballots/1/papers.csv", None),
        (FACILITATOR, "live-room", f"{PORTO}/sessions/2", go_live),
        (ANA, "comment-report", f"{PORTO}/ideas/1", open_report),
        (FACILITATOR, "moderation-queue", f"{PORTO}/moderation", None),
        (FACILITATOR, "moderation-every-workspace", "/moderation?state=all", None),
        (FACILITATOR, "moderation-queue-decided", f"{PORTO}/moderation?state=all", hide_selected),
        (ANA, "comment-hidden-author", f"{PORTO}/ideas/1", None),
        (FACILITATOR, "audit-log", "/audit", None),
        (FACILITATOR, "members-warn-ban", f"{PORTO}/members", open_sanctions),
        (ANA, "idea-report", f"{PORTO}/ideas/2", open_idea_report),
        (FACILITATOR, "idea-moderator-tools", f"{PORTO}/ideas/1", open_idea_tools),
        # Each change is undone by the next page, so every language and viewport starts the same.
        (FACILITATOR, "idea-locked", f"{PORTO}/ideas/1", lock_idea),
        (FACILITATOR, "idea-unlocked", f"{PORTO}/ideas/1", unlock_idea),
        (FACILITATOR, "idea-hidden", f"{PORTO}/ideas/2", hide_idea),
        (FACILITATOR, "idea-restored", f"{PORTO}/ideas/2", restore_idea),
        (ANA, "member-report", f"{PORTO}/members", open_sanctions),
        (ADMIN, "admin-users", "/admin/users", None),
        (ADMIN, "admin-user", f"/admin/users?q={email}", open_first_account),
        (ADMIN, "admin-user-errors", f"/admin/users?q={ANA}", disable_empty),
        # The person who asked to join at the start (one account per run of this script).
        (ADMIN, "admin-user-disabled", "/admin/users?q=shots-", disable_account),
    ]
    for language, email in USERS.items()
}


def shoot(page: Page, out: Path, name: str) -> Path:
    settle(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 0:
        print(f"  note: {name} scrolls sideways by {overflow} px", file=sys.stderr)
    path = out / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path


def take_all(browser: Browser, base_url: str, out: Path, only: list[str] = ()) -> list[Path]:
    written = []

    def wanted(name: str) -> bool:
        return not only or any(word in name for word in only)

    ask_to_join(browser, base_url)
    for language in LANGUAGES:
        for viewport in VIEWPORTS:
            prefix = f"{language}-{viewport}"
            context = open_context(browser, base_url, language, viewport)
            try:
                page = context.new_page()
                for name, path, action in ANONYMOUS_PAGES:
                    if not wanted(name):
                        continue
                    page.goto(path)
                    if action:
                        settle(page)
                        action(page)
                    written.append(shoot(page, out, f"{prefix}-{name}"))
            finally:
                context.close()
            for email, name, path, action in LOGGED_IN_PAGES[language]:
                if not wanted(name):
                    continue
                context = open_context(browser, base_url, language, viewport)
                try:
                    page = context.new_page()
                    log_in(page, email, language)
                    page.goto(path)
                    if action:
                        settle(page)
                        action(page)
                    written.append(shoot(page, out, f"{prefix}-{name}"))
                finally:
                    context.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "screenshots", help="default: screenshots/")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="WORD",
        help="only the pages whose name holds WORD (repeatable)",
    )
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        print(f"No Chromium at {CHROMIUM} (set COCREATE_CHROMIUM to its path).", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with running_app() as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
            try:
                written = take_all(browser, base_url, args.out, only=args.only)
            finally:
                browser.close()
    except AppServerError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Wrote {len(written)} screenshots:")
    for file in written:
        print(f"  {file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

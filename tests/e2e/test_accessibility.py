"""axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) on every page ``tools/screenshots.py`` visits, in English
and Chinese, on a phone and on a desktop: any serious or critical finding fails, and all of them are
listed.

Per language and viewport, one context for the visitor and one for each demo user (logged in once,
through the form), and the pages run in the screenshot tool's order, with its actions (a form sent with
errors, a report opened, an idea hidden then restored). axe (vendored in ``tests/e2e/vendor``, never
served by the app) is injected once per page through the DevTools protocol, which the page's CSP does
not govern.
"""

from pathlib import Path

import pytest

from tests.e2e.conftest import expect  # noqa: F401 (sets the default timeout of expect)

pytestmark = pytest.mark.e2e

AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    // Experimental in axe, and WCAG 2.5.3 (A): a control's visible words are part of its name.
    rules: {"label-content-name-mismatch": {enabled: true}},
    resultTypes: ["violations"],
  });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def axe_findings(page, name: str) -> list[str]:
    """The serious and critical axe findings on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    found = []
    for violation in page.evaluate(RUN_AXE, AXE_TAGS):
        if violation["impact"] in FAILING_IMPACTS:
            targets = ", ".join(violation["targets"][:5])
            more = len(violation["targets"]) - 5
            found.append(
                f"{name}: {violation['id']} ({violation['impact']}, {len(violation['targets'])}×) "
                f"{violation['help']} — {targets}{f' and {more} more' if more > 0 else ''}"
            )
    return found


# The demo data's accounts read English, but 李伟, who reads Chinese.
DEMO_LANGUAGES = {"wei@example.org": "zh"}
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def restore_language(page, language: str) -> None:
    html_lang = HTML_LANG[language]
    page.goto("/profile")
    if page.locator("html").get_attribute("lang") != html_lang:
        page.locator(f".language-switch button[value={language}]").click()
        page.locator(f"html[lang='{html_lang}']").wait_for(state="attached")


@pytest.fixture(scope="module")
def screenshot_tool(browser, server_url):
    """The screenshot tool's pages and actions, after its newcomer asked to join (as the tool does)."""
    from tools import screenshots

    screenshots.ask_to_join(browser, server_url)
    return screenshots


def settle(page) -> None:
    """The page has loaded, its fonts are ready and its map shows its markers (quicker than waiting for
    the network to be idle)."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    for map_id in ("#network-map", "#idea-map", "#place-picker"):
        if page.locator(f"{map_id}:not([hidden])").count():
            page.locator(f"{map_id} .leaflet-marker-icon, {map_id} .leaflet-tile-pane").first.wait_for(
                state="attached"
            )


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_serious_or_critical_axe_finding_on_any_page(
    browser, server_url, screenshot_tool, language, viewport
):
    tool = screenshot_tool
    locale, zone, _ = tool.LANGUAGES[language]
    contexts = []

    def new_page():
        context = browser.new_context(
            base_url=server_url, locale=locale, timezone_id=zone, **VIEWPORTS[viewport]
        )
        contexts.append(context)
        context.set_default_timeout(tool.TIMEOUT_MS)
        context.add_cookies([{"name": "cocreate_lang", "value": language, "url": server_url}])
        # Only the local server answers (no map tiles from outside).
        context.route(
            lambda url: not url.startswith(server_url) and not url.startswith("data:"),
            lambda route: route.abort(),
        )
        return context.new_page()

    def check(page, name, path, action):
        page.goto(path)
        settle(page)
        if action:
            action(page)
            settle(page)
        findings.extend(axe_findings(page, name))

    findings: list[str] = []
    visited = 0
    pages = {}
    try:
        visitor = new_page()
        for name, path, action in tool.ANONYMOUS_PAGES:
            check(visitor, name, path, action)
            visited += 1
        for email, name, path, action in tool.LOGGED_IN_PAGES[language]:
            if email not in pages:
                pages[email] = new_page()
                tool.log_in(pages[email], email, language)
            check(pages[email], name, path, action)
            visited += 1
    finally:
        # The other browser tests share this server: each demo account goes back to its language.
        for email, page in pages.items():
            restore_language(page, DEMO_LANGUAGES.get(email, "en"))
        for context in contexts:
            context.close()
    assert visited == len(tool.ANONYMOUS_PAGES) + len(tool.LOGGED_IN_PAGES[language])
    assert not findings, (
        f"{len(findings)} serious or critical axe findings ({language}, {viewport}):\n" + "\n".join(findings)
    )

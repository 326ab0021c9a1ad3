"""What a first visit costs and what it waits on, measured in Chromium: a page without a map stays
under 100 KB sent over the wire, Leaflet comes only with a map, and a CDN that never answers holds
no page."""

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.server import AppServerError, running_app

pytestmark = pytest.mark.e2e

WEIGHT_BUDGET = 100 * 1024
PORTO = "/w/porto-campanha-green-corridor"


def first_visit(page, path: str) -> tuple[int, list[str]]:
    """Bytes received for the page and everything it loads (as sent: compressed), and the URLs."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    received: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on(
        "Network.requestWillBeSent",
        lambda event: urls.__setitem__(event["requestId"], event["request"]["url"]),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda event: received.__setitem__(event["requestId"], event["encodedDataLength"]),
    )
    page.goto(path)
    page.wait_for_load_state("networkidle")
    return sum(received.values()), [urls[request] for request in received if request in urls]


@pytest.mark.parametrize("path", ["/", PORTO, "/workspaces"])
def test_a_first_visit_to_a_page_without_a_map_weighs_under_100_kb(page, path):
    weight, urls = first_visit(page, path)
    assert weight < WEIGHT_BUDGET, f"{path} weighs {weight} bytes: {urls}"
    assert not [url for url in urls if "leaflet" in url], urls


def test_a_map_page_fetches_leaflet_and_speaks_the_readers_language(new_context, server_url):
    context = new_context(locale="zh-CN")
    context.add_cookies([{"name": "cocreate_lang", "value": "zh", "url": server_url}])
    page = context.new_page()
    page.goto("/network")
    expect(page.locator("#network-map .leaflet-marker-icon").first).to_be_visible()
    expect(page.locator("#network-map .leaflet-control-zoom-in")).to_have_attribute("title", "放大")
    prefix = page.locator("#network-map .leaflet-control-attribution").inner_html()
    assert "<svg" not in prefix and "Leaflet" in prefix
    # Reached by a boosted link from a page without a map, the map is drawn too.
    page.goto("/")
    page.locator("a[href='/network']").first.click()
    expect(page.locator("#network-map .leaflet-marker-icon").first).to_be_visible()


def test_a_cdn_that_never_answers_holds_no_page_and_the_local_copies_take_over(browser):
    try:
        with running_app(extra_env={"COCREATE_ASSETS": "cdn"}) as base_url:
            context = browser.new_context(base_url=base_url)
            hanging = []
            # The CDN accepts the connection and never answers.
            context.route("https://cdn.jsdelivr.net/**", lambda route: hanging.append(route))
            page = context.new_page()
            started = time.monotonic()
            # Before, the page waited on the CDN for as long as it hung. The bounds leave room for a
            # busy machine: the loader waits 1.5 s for the CDN, then fetches the local copy.
            page.goto("/", wait_until="domcontentloaded")
            assert time.monotonic() - started < 5
            page.wait_for_function(
                "() => window.htmx && document.documentElement.dataset.htmxFrom === 'local'", timeout=8000
            )
            assert time.monotonic() - started < 8
            assert hanging, "the page asked the CDN first"
            # htmx runs: a boosted link swaps the page in place.
            page.get_by_role("link", name="The network of cities").first.click()
            expect(page).to_have_url(f"{base_url}/network")
            context.close()
    except AppServerError as error:
        pytest.fail(str(error), pytrace=False)

"""Page weight of a first visit, as Chromium receives it: every byte sent over the wire for the page
and what it loads (compressed sizes, from the DevTools protocol's ``encodedDataLength``), with the
cache off, and whether Leaflet came along.

The app is started with ``tests.e2e.server.running_app`` (migrated, demo data, local assets) and
driven by Debian's Chromium through Playwright, as in the browser tests. Requests leaving the local
server (map tiles) are refused, so they weigh nothing.

Usage (from the repository root)::

    .venv/bin/python -m bench.weight            # the pages below, anonymous
    .venv/bin/python -m bench.weight --json var/weight.json
"""

import argparse
import json
import sys

from playwright.sync_api import sync_playwright

from tests.e2e.chromium import CHROMIUM_ARGS, chromium_path
from tests.e2e.server import running_app

PAGES = [
    "/",
    "/workspaces",
    "/w/porto-campanha-green-corridor",
    "/w/porto-campanha-green-corridor/ideas/1",
    "/network",
    "/w/porto-campanha-green-corridor/map",
    "/login",
]


def weigh(browser, base_url: str, path: str) -> dict:
    context = browser.new_context(base_url=base_url)
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(base_url) else route.abort()
    )
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(path)
    page.wait_for_load_state("networkidle")
    context.close()
    loaded = [urls.get(request, "") for request in sizes]
    return {
        "path": path,
        "bytes": sum(sizes.values()),
        "requests": len(sizes),
        "leaflet": any("leaflet" in url for url in loaded),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    with running_app() as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        results = [weigh(browser, base_url, path) for path in PAGES]
        browser.close()
    print(f"{'page':48} {'KB':>7} {'requests':>9} leaflet")
    for row in results:
        leaflet = "yes" if row["leaflet"] else "no"
        print(f"{row['path']:48} {row['bytes'] / 1024:7.1f} {row['requests']:9} {leaflet}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(results, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

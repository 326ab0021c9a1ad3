"""End-to-end fixtures: the real app served by uvicorn in a subprocess, and a headless Chromium.

The server (``tests.e2e.server.running_app``) gets its own temporary SQLite database, or the empty
database at ``COCREATE_E2E_DATABASE_URL``, migrated and loaded with the demo data through the
``cocreate`` command, exactly as an operator would. Chromium is Debian's (``/usr/bin/chromium``, or
``COCREATE_CHROMIUM``), driven by Playwright's sync API; without it the tests are skipped, except in
CI (``CI=true``) where a missing browser is a failure.
"""

import os

import pytest

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS, chromium_path
from tests.e2e.server import AppServerError, running_app

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # reported by the browser fixture (skip locally, fail in CI)
    expect = sync_playwright = None
    PLAYWRIGHT_IMPORT_ERROR: ImportError | None = error
else:
    PLAYWRIGHT_IMPORT_ERROR = None
    expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def server_url():
    """The base URL of a freshly migrated and seeded app served by uvicorn on a free local port.

    COCREATE_E2E_DATABASE_URL points the server at an empty database of another kind (CI uses
    PostgreSQL); by default it gets a fresh SQLite file."""
    try:
        # Every browser of every test comes from this one address, so registering is limited per hour
        # by the number of tests, not by the (production) default of 10.
        with running_app(
            os.environ.get("COCREATE_E2E_DATABASE_URL"),
            extra_env={"COCREATE_RATE_LIMITS": "register=0/500/3600"},
        ) as base_url:
            yield base_url
    except AppServerError as error:
        pytest.fail(str(error), pytrace=False)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"End-to-end tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API holds an event loop on this thread while it is open, which
    the asyncio tests must not find running."""
    if PLAYWRIGHT_IMPORT_ERROR is not None:
        _unavailable(f"the playwright package cannot be imported ({PLAYWRIGHT_IMPORT_ERROR})")
    path = chromium_path()
    if path is None:
        _unavailable(f"no Chromium at {CHROMIUM} (set COCREATE_CHROMIUM to its path)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, server_url):
    """Opens fresh browser contexts (no cookies, English) on the app; closes them after the test."""
    contexts = []

    def make(**options):
        options = {"base_url": server_url, "locale": "en-GB", "timezone_id": "Europe/Lisbon", **options}
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()

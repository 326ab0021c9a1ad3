"""End-to-end fixtures: the real app served by uvicorn in a subprocess, and a headless Chromium.

The server gets its own temporary SQLite database, migrated and loaded with the demo data through the
``cocreate`` command, exactly as an operator would. Chromium is Debian's (``/usr/bin/chromium``, or
``COCREATE_CHROMIUM``), driven by Playwright's sync API; without it the tests are skipped, except in
CI (``CI=true``) where a missing browser is a failure.
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS, chromium_path

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError as error:  # reported by the browser fixture (skip locally, fail in CI)
    expect = sync_playwright = None
    PLAYWRIGHT_IMPORT_ERROR: ImportError | None = error
else:
    PLAYWRIGHT_IMPORT_ERROR = None
    expect.set_options(timeout=10_000)

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_cli(args: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"`cocreate {' '.join(args)}` failed with exit code {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SHUTDOWN_TIMEOUT)


@pytest.fixture(scope="session")
def server_url():
    """The base URL of a freshly migrated and seeded app served by uvicorn on a free local port."""
    with tempfile.TemporaryDirectory(prefix="cocreate-e2e-") as tmp:
        env = {
            **os.environ,
            # COCREATE_E2E_DATABASE_URL points the server at an empty database of another kind
            # (CI uses PostgreSQL); by default it gets a fresh SQLite file.
            "COCREATE_DATABASE_URL": os.environ.get("COCREATE_E2E_DATABASE_URL")
            or f"sqlite+aiosqlite:///{tmp}/e2e.db",
            "COCREATE_ASSETS": "local",
            "COCREATE_ENV": "development",
            "COCREATE_DATA_DIR": tmp,
            "PYTHONUNBUFFERED": "1",
        }
        _run_cli(["migrate"], env)
        _run_cli(["seed-demo"], env)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "app.main:create_app",
                    "--factory",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                deadline = time.monotonic() + STARTUP_TIMEOUT
                while True:
                    if process.poll() is not None:
                        problem = f"exited with code {process.returncode}"
                        break
                    with contextlib.suppress(httpx.HTTPError):
                        if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                            problem = None
                            break
                    if time.monotonic() > deadline:
                        problem = f"did not answer /healthz with 200 within {STARTUP_TIMEOUT:.0f} s"
                        break
                    time.sleep(0.2)
                if problem:
                    _stop(process)
                    stderr = log_path.read_text(errors="replace")
                    pytest.fail(f"The app server {problem}. Its stderr:\n{stderr}", pytrace=False)
                yield base_url
            finally:
                _stop(process)


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

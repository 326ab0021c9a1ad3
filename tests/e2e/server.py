"""The real app served by uvicorn in a subprocess, for the end-to-end tests and ``tools/screenshots.py``.

``running_app()`` gives the server a temporary folder and a database (the URL it is given, or by default
a fresh SQLite file in that folder), migrates it and loads the demo data through the ``cocreate``
command, exactly as an operator would, then serves the app on a free local port until the ``with``
block ends. When the server cannot be started it raises ``AppServerError`` (a ``RuntimeError``) with the
command's output or the server's stderr.
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI_TIMEOUT = 120.0
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0


class AppServerError(RuntimeError):
    """The app server could not be prepared or started; the message says why, with its output."""


@contextlib.contextmanager
def running_app(database_url: str | None = None, *, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """The base URL of a freshly migrated and seeded app, served until the block ends.

    ``database_url`` must point at an empty database (by default a fresh SQLite file is used);
    ``extra_env`` is added to the server's environment last, so it can override the settings made here.
    """
    with tempfile.TemporaryDirectory(prefix="cocreate-app-") as tmp:
        env = {
            **os.environ,
            "COCREATE_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{tmp}/app.db",
            "COCREATE_ASSETS": "local",
            "COCREATE_ENV": "development",
            "COCREATE_DATA_DIR": tmp,
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        _run_cli(["migrate"], env)
        _run_cli(["seed-demo"], env)

        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "server.log"
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
        if env.get("COCREATE_ACCESS_LOG", "").lower() in ("0", "false", "no", "off"):
            command.append("--no-access-log")  # as `cocreate serve` in production
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                _wait_until_healthy(process, base_url, log_path)
                yield base_url
            finally:
                _stop(process)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_cli(args: list[str], env: dict[str, str]) -> None:
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    what = f"`cocreate {' '.join(args)}`"
    try:
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise AppServerError(f"{what} did not finish within {CLI_TIMEOUT:.0f} s") from error
    if result.returncode != 0:
        raise AppServerError(
            f"{what} failed with exit code {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )


def _wait_until_healthy(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while process.poll() is None:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            problem = f"did not answer /healthz with 200 within {STARTUP_TIMEOUT:.0f} s"
            break
        time.sleep(0.2)
    else:
        problem = f"exited with code {process.returncode}"
    _stop(process)
    stderr = log_path.read_text(errors="replace")
    raise AppServerError(f"The app server {problem}. Its stderr:\n{stderr}")


def _stop(process: subprocess.Popen) -> None:
    """Terminates the server, and kills it when it has not stopped within SHUTDOWN_TIMEOUT."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SHUTDOWN_TIMEOUT)

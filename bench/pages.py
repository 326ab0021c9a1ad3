"""Page latency of the real app: one client, sequential requests, a real uvicorn server over loopback.

The app is started with ``tests.e2e.server.running_app`` (migrated, demo data loaded, served by uvicorn
on a free port of 127.0.0.1). One demo user logs in through the real login form; then each page is
requested ``--warmup`` times unmeasured and ``--requests`` times measured, one request after another
by one ``httpx.Client`` that keeps its connection and cookies:

- ``GET /``, ``GET /network`` and ``GET /login`` by an anonymous client,
- ``GET /profile`` by the logged-in client,
- ``POST /language`` by the logged-in client, switching between Chinese and English (a state-changing
  round trip: CSRF check, a write to the user row, a 303 answer that is not followed).

For each page it prints the median, p95, p99 and max latency in milliseconds (nearest-rank
percentiles) and the requests per second of the measured run, with the machine and the database.

Usage (from the repository root)::

    .venv/bin/python -m bench.pages                     # a fresh SQLite file in a temporary folder
    .venv/bin/python -m bench.pages --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/cocreate_bench
    .venv/bin/python -m bench.pages --requests 300 --warmup 30 --json var/bench-sqlite.json

With ``--database-url`` the PostgreSQL database named in the URL is DROPPED (if it exists) and created
empty at the start; only a server on this machine (127.0.0.1 or localhost) is accepted.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from tests.e2e.server import running_app

DEMO_EMAIL = "ana@example.org"
DEMO_PASSWORD = "green-corridor-2026"  # noqa: S105 (the seeded demo user's published password)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
RESERVED_DATABASES = frozenset({"postgres", "template0", "template1"})
REQUEST_TIMEOUT = 10.0
CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)">')


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


@dataclass
class PageResult:
    page: str
    client: str
    requests: int
    median_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    requests_per_second: float


def percentile(sorted_values: list[float], percent: float) -> float:
    """Nearest-rank percentile of an ascending list: the smallest value with ``percent`` % at or below."""
    rank = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    if match is None:
        raise BenchError("no hidden csrf_token input in the page")
    return match.group(1)


def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise BenchError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}, "
            f"expected {status}: {response.text[:300]}"
        )
    return response


def log_in(client: httpx.Client) -> str:
    """Logs the demo user in through the login form; returns the logged-in session's CSRF token."""
    form_page = expect(client.get("/login"), 200)
    answer = client.post(
        "/login",
        data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf_token": csrf_token(form_page.text)},
    )
    expect(answer, 303)
    if not any(cookie.name == "cocreate_session" for cookie in client.cookies.jar):
        raise BenchError("the login answered 303 but set no session cookie")
    return csrf_token(expect(client.get("/profile"), 200).text)


def measure(name: str, client_kind: str, send, requests: int, warmup: int) -> PageResult:
    """Calls ``send(i)`` (one request, checked) ``warmup`` times, then ``requests`` times timed."""
    for i in range(warmup):
        send(i)
    timings: list[float] = []
    started = time.perf_counter()
    for i in range(warmup, warmup + requests):
        before = time.perf_counter()
        send(i)
        timings.append((time.perf_counter() - before) * 1000)
    elapsed = time.perf_counter() - started
    timings.sort()
    return PageResult(
        page=name,
        client=client_kind,
        requests=requests,
        median_ms=round(statistics.median(timings), 2),
        p95_ms=round(percentile(timings, 95), 2),
        p99_ms=round(percentile(timings, 99), 2),
        max_ms=round(timings[-1], 2),
        requests_per_second=round(requests / elapsed, 1),
    )


def run_pages(base_url: str, requests: int, warmup: int) -> list[PageResult]:
    limits = {"base_url": base_url, "timeout": REQUEST_TIMEOUT, "follow_redirects": False}
    with httpx.Client(**limits) as anonymous, httpx.Client(**limits) as member:
        token = log_in(member)

        def get(client: httpx.Client, path: str):
            return lambda _i: expect(client.get(path), 200).content

        def switch_language(i: int) -> bytes:
            data = {"language": "zh" if i % 2 == 0 else "en", "csrf_token": token}
            return expect(member.post("/language", data=data), 303).content

        pages = [
            ("GET /", "anonymous", get(anonymous, "/")),
            ("GET /network", "anonymous", get(anonymous, "/network")),
            ("GET /profile", "logged-in", get(member, "/profile")),
            ("GET /login", "anonymous", get(anonymous, "/login")),
            ("POST /language", "logged-in", switch_language),
        ]
        results = []
        for name, client_kind, send in pages:
            print(f"  measuring {name} ...", file=sys.stderr, flush=True)
            results.append(measure(name, client_kind, send, requests, warmup))
        # An even number of switches leaves the user in English; make sure of it either way.
        expect(member.post("/language", data={"language": "en", "csrf_token": token}), 303)
        return results


async def admin_connection(url: str) -> tuple[asyncpg.Connection, str]:
    """A connection to the maintenance database of the server at ``url``, and the name of ``url``'s
    database, which a benchmark may drop: only on this machine, and never a reserved name."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise BenchError(f"--database-url must be a PostgreSQL URL, not {parsed.drivername}")
    if (parsed.host or "localhost") not in LOCAL_HOSTS:
        raise BenchError(f"refusing to drop a database on {parsed.host}: only 127.0.0.1 or localhost")
    name = parsed.database
    if not name or name in RESERVED_DATABASES or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise BenchError(f"refusing to drop and create the database {name!r}")
    connection = await asyncpg.connect(
        host=parsed.host or "localhost",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database="postgres",
    )
    return connection, name


async def _recreate_postgres(url: str) -> str:
    connection, name = await admin_connection(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return f"PostgreSQL {version.split()[0]}"


def prepare_database(url: str | None) -> str:
    """Recreates the PostgreSQL database at ``url`` empty; returns a description of the database."""
    if url is None:
        return f"SQLite {sqlite3.sqlite_version} (temporary file)"
    return asyncio.run(_recreate_postgres(url)) + f" (database {make_url(url).database})"


def machine() -> dict[str, object]:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cpus,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
    }


def format_table(results: list[PageResult]) -> str:
    header = f"{'page':<16} {'client':<10} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8} {'req/s':>8}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.page:<16} {r.client:<10} {r.median_ms:>8.2f} {r.p95_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.max_ms:>8.2f} {r.requests_per_second:>8.1f}"
        )
    return "\n".join(lines)


def positive(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 100_000:
        raise argparse.ArgumentTypeError("must be between 1 and 100000")
    return number


def not_negative(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 100_000:
        raise argparse.ArgumentTypeError("must be between 0 and 100000")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="an EMPTY PostgreSQL database on this machine, dropped and created at the start "
        "(default: a fresh SQLite file)",
    )
    parser.add_argument("--requests", type=positive, default=300, help="measured requests per page")
    parser.add_argument("--warmup", type=not_negative, default=30, help="unmeasured requests per page first")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    try:
        database = prepare_database(args.database_url)
        print(f"starting the app on {database} ...", file=sys.stderr, flush=True)
        with running_app(args.database_url) as base_url:
            results = run_pages(base_url, args.requests, args.warmup)
    except (BenchError, RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as error:
        print(f"bench.pages: {error}", file=sys.stderr)
        return 1

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "database": database,
        "requests_per_page": args.requests,
        "warmup_per_page": args.warmup,
        "pages": [asdict(r) for r in results],
    }
    info = report["machine"]
    print(
        f"\n{report['date']}  {info['nproc']} CPUs  Python {info['python']}  {info['platform']}\n"
        f"database: {database}\n"
        f"{args.requests} requests per page after {args.warmup} warm-up, one client, sequential; ms\n"
    )
    print(format_table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

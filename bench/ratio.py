"""The app's busiest pages against the stack's limit, side by side, at network scale.

Two servers on the same database, each one uvicorn worker on a free port of 127.0.0.1: the real app
(``tests.e2e.server.running_app``, in production mode with local assets: ``COCREATE_ENV=production``,
a random secret key) and ``bench/limit.py``, the same rows by one indexed query and one small template
each. The database is loaded with ``cocreate seed --scale network`` first if it is not yet (that takes
a minute or two and is done once: the data is kept for the next run).

A scale user who is a member of the busiest public workspace signs in to the app through its login
form; the app's pages are fetched with that session's cookie, the limit's with ``reader=<their id>``.
The pages:

- ``workspace``: ``GET /w/<busiest>``, the header and the newest 20 ideas,
- ``idea 175``: the busiest workspace's idea with the number of comments closest to 200 (175),
- ``idea max``: the idea with the most comments in the network (its first 20 threads are shown),
- ``search zh`` and ``search en``: ``GET /search?q=绿色走廊`` and ``?q=rain garden`` across the network,
- ``workspaces``: ``GET /workspaces``, the first page.

Before measuring, each page is fetched from both servers and the ids of the ideas, comments or
workspaces listed are compared: the two must show the same rows.

Then ``--rounds`` rounds; in each, every page is loaded for ``--duration`` seconds on the app and on
the limit in turn (the order alternates from round to round) by ``--connections`` keep-alive
connections, each sending one request after another (``bench.wire``, a lean HTTP/1.1 client in this
process, uvloop when available). Requests per second are the sum over the rounds of the answers
(all checked 200) over the sum of the seconds. For every load the CPU of the client process and of the
server under load is noted, as a share of one core: a server near 100 % is the bottleneck; a client
near 100 % would mean the number measures the client. Last, one connection sends ``--sequential``
requests one after another to each server for each page: p50 and p99 latency (nearest rank).

With ``--profile DIR`` the app is also profiled under the same load, on the workspace and idea pages, with
``py-spy record --format raw`` (root, or ptrace allowed) into ``DIR/<database>-<page>.txt``; read
them with ``python -m bench.flame``.

Usage (from the repository root)::

    .venv/bin/python -m bench.ratio --database-url sqlite+aiosqlite:///var/bench_scale.db
    .venv/bin/python -m bench.ratio \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench_scale_pg \\
        --duration 3 --rounds 3 --json var/ratio-pg.json --profile var/profiles

A PostgreSQL database named in the URL is created when it does not exist (only on 127.0.0.1 or
localhost), and never dropped.
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import asyncpg
import httpx
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import create_engine
from app.demo import scale
from bench import wire
from bench.pages import (
    REQUEST_TIMEOUT,
    BenchError,
    admin_connection,
    csrf_token,
    expect,
    machine,
    percentile,
    positive,
)
from bench.scale import _targets as busiest_targets
from tests.e2e.server import REPO_ROOT, _free_port, _stop, _wait_until_healthy, running_app

SEARCHES = {"search zh": "绿色走廊", "search en": "rain garden"}
# What each page lists, as the two servers write it in their HTML: the rows to compare.
LISTED = {
    "workspace": r'href="/w/[^"/]+/ideas/(\d+)"',
    "idea": r'id="comment-(\d+)',
    "search": r'href="/w/[^"/]+/ideas/(\d+)"',
    "workspaces": r'<h2><a href="/w/([^"/]+)">',
}


@dataclass
class Page:
    name: str
    path: str
    kind: str  # a key of LISTED


@dataclass
class Load:
    """One load of one page on one server: answers, seconds and CPU (shares of one core)."""

    requests: int
    seconds: float
    client_cpu: float
    server_cpu: float


@dataclass
class PageResult:
    page: str
    path: str
    same_rows: str
    app: list[Load] = field(default_factory=list)
    limit: list[Load] = field(default_factory=list)
    app_sequential_ms: dict[str, float] = field(default_factory=dict)
    limit_sequential_ms: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def rate(loads: list[Load]) -> float:
        return sum(load.requests for load in loads) / sum(load.seconds for load in loads)

    def summary(self) -> dict:
        app, limit = self.rate(self.app), self.rate(self.limit)
        return {
            "page": self.page,
            "app_rps": round(app, 1),
            "limit_rps": round(limit, 1),
            "ratio": round(app / limit, 3),
            "app_rps_rounds": [round(load.requests / load.seconds, 1) for load in self.app],
            "limit_rps_rounds": [round(load.requests / load.seconds, 1) for load in self.limit],
            "app_server_cpu": round(max(load.server_cpu for load in self.app), 2),
            "limit_server_cpu": round(max(load.server_cpu for load in self.limit), 2),
            "client_cpu_max": round(max(load.client_cpu for load in self.app + self.limit), 2),
            "app_p50_ms": self.app_sequential_ms.get("p50"),
            "app_p99_ms": self.app_sequential_ms.get("p99"),
            "limit_p50_ms": self.limit_sequential_ms.get("p50"),
            "limit_p99_ms": self.limit_sequential_ms.get("p99"),
            "same_rows": self.same_rows,
        }


# Loading the network scale, once per database.


def _cli(args: list[str], database_url: str) -> str:
    env = {**os.environ, "COCREATE_DATABASE_URL": database_url, "COCREATE_ENV": "development"}
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    result = subprocess.run(  # noqa: S603 (this interpreter and the app's command line)
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"`cocreate {' '.join(args)}` failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


async def _create_postgres_if_missing(url: str) -> None:
    connection, name = await admin_connection(url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def ensure_network_scale(database_url: str) -> str:
    """Migrates the database and loads the demo and the network-scale data unless they are there;
    says what it did."""
    if database_url.startswith("postgresql"):
        asyncio.run(_create_postgres_if_missing(database_url))
    _cli(["migrate"], database_url)
    _cli(["seed-demo"], database_url)
    started = time.monotonic()
    if "already loaded" in _cli(["seed", "--scale", "network"], database_url):
        return "network scale already loaded"
    return f"network scale loaded in {time.monotonic() - started:.0f} s"


async def _targets(database_url: str) -> dict:
    """``bench.scale``'s targets (the busiest public workspace, its idea with about 200 comments, a
    scale member of it), the member's id, and the public idea with the most comments."""
    targets = await busiest_targets(database_url)
    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    try:
        async with engine.connect() as connection:
            targets["user_id"] = (
                await connection.execute(
                    text('SELECT id FROM "user" WHERE email = :e'), {"e": targets["email"]}
                )
            ).scalar_one()
            most = (
                await connection.execute(
                    text(
                        "SELECT i.id, i.comment_count, w.slug FROM idea i "
                        "JOIN workspace w ON w.id = i.workspace_id "
                        "WHERE w.visibility = 'public' AND i.hidden_at IS NULL "
                        "ORDER BY i.comment_count DESC, i.id LIMIT 1"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    targets |= {"most_idea": most.id, "most_comments": most.comment_count, "most_slug": most.slug}
    return targets


def pages_of(targets: dict) -> list[Page]:
    slug = targets["slug"]
    return [
        Page("workspace", f"/w/{slug}", "workspace"),
        Page(f"idea {targets['comments']}", f"/w/{slug}/ideas/{targets['idea']}", "idea"),
        Page(
            f"idea {targets['most_comments']}",
            f"/w/{targets['most_slug']}/ideas/{targets['most_idea']}",
            "idea",
        ),
        *(Page(name, f"/search?q={quote(query)}", "search") for name, query in SEARCHES.items()),
        Page("workspaces", "/workspaces", "workspaces"),
    ]


# The two servers.


def production_env() -> dict[str, str]:
    """The app in production mode, with the vendored assets (no CDN) and a throwaway secret key."""
    return {
        "COCREATE_ENV": "production",
        "COCREATE_SECRET_KEY": secrets.token_urlsafe(48),
        "COCREATE_BASE_URL": "http://127.0.0.1",
        "COCREATE_ASSETS": "local",
    }


@contextlib.contextmanager
def running_limit(database_url: str) -> Iterator[tuple[str, int]]:
    """``bench.limit`` served by uvicorn, one worker, as ``running_app`` serves the app: its base
    URL and process id, until the block ends."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "COCREATE_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "uvicorn", "bench.limit:create_app", "--factory"]
    with tempfile.TemporaryDirectory(prefix="cocreate-limit-") as tmp:
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (this interpreter and uvicorn)
                [*command, "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                _wait_until_healthy(process, base_url, log_path)
                yield base_url, process.pid
            finally:
                _stop(process)


def app_pid() -> int:
    """The uvicorn process ``running_app`` started from this process."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/stat", encoding="latin-1") as stat:
                parent = stat.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
            if parent == me and b"app.main:create_app" in command:
                return int(entry)
    raise BenchError("the app's uvicorn process was not found among this process's children")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat", encoding="latin-1") as stat:
        after_name = stat.read().rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")


def sign_in(base_url: str, email: str) -> str:
    """Signs ``email`` in through the app's login form; the ``Cookie`` header of the signed-in
    session. Cookies are carried by hand: in production they are ``Secure``, which httpx keeps off
    plain http."""
    cookies: dict[str, str] = {}

    def keep(response: httpx.Response) -> httpx.Response:
        for line in response.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def header() -> dict[str, str]:
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items() if value)}

    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        form = keep(expect(client.get("/login"), 200))
        data = {"email": email, "password": scale.SCALE_PASSWORD, "csrf_token": csrf_token(form.text)}
        keep(expect(client.post("/login", data=data, headers=header()), 303))
        signed_in = expect(client.get("/profile", headers=header()), 200)
        if email not in signed_in.text:
            raise BenchError(f"the profile page after signing {email} in does not show that address")
    return header()["Cookie"]


# The load.


def get_request(base_url: str, path: str, cookie: str | None) -> bytes:
    host = base_url.split("//", 1)[1]
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: text/html"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Target:
    """One server as the load sees it: its base URL, its process, and how it asks for a page."""

    def __init__(self, base_url: str, pid: int, cookie: str | None = None, reader: int | None = None):
        self.base_url, self.pid, self.cookie, self.reader = base_url, pid, cookie, reader

    def request(self, path: str) -> bytes:
        if self.reader is not None:
            path += ("&" if "?" in path else "?") + f"reader={self.reader}"
        return get_request(self.base_url, path, self.cookie)


async def _fetch(target: Target, path: str) -> str:
    connection = wire.Connection(target.base_url)
    try:
        answer = await connection.send(target.request(path))
    finally:
        await connection.close()
    if answer.status != 200:
        raise BenchError(f"{target.base_url}{path} answered {answer.status}: {answer.text[:300]!r}")
    return answer.text


async def compare_rows(page: Page, app: Target, limit: Target) -> str:
    """ "same" when both servers list the same ids in the same order, else what differs."""
    pattern = re.compile(LISTED[page.kind])
    # An id may be written more than once (a comment's element and its content's): its first place.
    app_ids = list(dict.fromkeys(pattern.findall(await _fetch(app, page.path))))
    limit_ids = list(dict.fromkeys(pattern.findall(await _fetch(limit, page.path))))
    if not app_ids:
        raise BenchError(f"the app's {page.path} lists nothing")
    if app_ids == limit_ids:
        return f"same ({len(app_ids)})"
    if sorted(app_ids) == sorted(limit_ids):  # the app nests replies under their parents
        return f"same ({len(app_ids)}, other order)"
    apart = len(set(app_ids) ^ set(limit_ids))
    return f"differ: app {len(app_ids)}, limit {len(limit_ids)}, {apart} not in both"


async def load(target: Target, path: str, seconds: float, connections: int) -> Load:
    """``connections`` connections each sending one request after another for ``seconds``."""
    request = target.request(path)
    pool = [wire.Connection(target.base_url) for _ in range(connections)]
    done = 0
    deadline = 0.0

    async def client(connection: wire.Connection) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            answer = await connection.send(request)
            if answer.status != 200:
                raise BenchError(f"{target.base_url}{path} answered {answer.status} under load")
            done += 1

    try:
        for connection in pool:  # each connection open and used once, outside the timed span
            await connection.send(request)
        client_before, server_before = time.process_time(), cpu_seconds(target.pid)
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(client(connection) for connection in pool))
        elapsed = time.perf_counter() - started
        client_cpu = (time.process_time() - client_before) / elapsed
        server_cpu = (cpu_seconds(target.pid) - server_before) / elapsed
    finally:
        await asyncio.gather(*(connection.close() for connection in pool))
    return Load(done, elapsed, client_cpu, server_cpu)


async def sequential(target: Target, path: str, requests: int) -> dict[str, float]:
    connection = wire.Connection(target.base_url)
    request = target.request(path)
    timings = []
    try:
        for _ in range(requests):
            before = time.perf_counter()
            answer = await connection.send(request)
            timings.append((time.perf_counter() - before) * 1000)
            if answer.status != 200:
                raise BenchError(f"{target.base_url}{path} answered {answer.status}")
    finally:
        await connection.close()
    timings.sort()
    return {"p50": round(percentile(timings, 50), 2), "p99": round(percentile(timings, 99), 2)}


async def measure(
    args: argparse.Namespace, pages: list[Page], app: Target, limit: Target
) -> list[PageResult]:
    results = []
    for page in pages:
        same = await compare_rows(page, app, limit)
        print(f"  {page.name}: {page.path}: rows {same}", file=sys.stderr, flush=True)
        results.append(PageResult(page.name, page.path, same))
    print("  warming up ...", file=sys.stderr, flush=True)
    for page in pages:
        for target in (app, limit):
            await load(target, page.path, args.warmup, args.connections)
    for round_number in range(args.rounds):
        print(f"  round {round_number + 1} of {args.rounds} ...", file=sys.stderr, flush=True)
        order = (("app", app), ("limit", limit))
        if round_number % 2:
            order = order[::-1]
        for page, result in zip(pages, results, strict=True):
            for name, target in order:
                getattr(result, name).append(await load(target, page.path, args.duration, args.connections))
    print("  one client, sequential ...", file=sys.stderr, flush=True)
    for page, result in zip(pages, results, strict=True):
        result.app_sequential_ms = await sequential(app, page.path, args.sequential)
        result.limit_sequential_ms = await sequential(limit, page.path, args.sequential)
    return results


async def profile(args: argparse.Namespace, pages: list[Page], app: Target, database: str) -> list[str]:
    """The app under the same load, one page at a time (the workspace and idea pages), profiled by
    py-spy; the files written."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    args.profile.mkdir(parents=True, exist_ok=True)
    written = []
    for page in (page for page in pages if page.kind in ("workspace", "idea")):
        output = args.profile / f"{database}-{page.name.replace(' ', '-')}.txt"
        print(f"  profiling {page.name} for {args.profile_seconds} s ...", file=sys.stderr, flush=True)
        command = [py_spy, "record", "--pid", str(app.pid), "--format", "raw", "--rate", "250"]
        command += ["--duration", str(args.profile_seconds), "--output", str(output)]
        recorder = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        await asyncio.sleep(1)  # py-spy attaches
        await load(app, page.path, args.profile_seconds, args.connections)
        _out, errors = await recorder.communicate()
        if recorder.returncode != 0:
            raise BenchError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
        written.append(str(output))
    return written


def run_loop(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def format_table(rows: list[dict]) -> str:
    header = (
        f"{'page':<12} {'app req/s':>9} {'limit req/s':>11} {'ratio':>6} {'app CPU':>7} {'limit CPU':>9} "
        f"{'client CPU':>10} {'app p50':>7} {'app p99':>7} {'lim p50':>7} {'lim p99':>7}  rows"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['page']:<12} {r['app_rps']:>9.1f} {r['limit_rps']:>11.1f} {r['ratio']:>6.3f} "
            f"{r['app_server_cpu']:>7.0%} {r['limit_server_cpu']:>9.0%} {r['client_cpu_max']:>10.0%} "
            f"{r['app_p50_ms']:>7.2f} {r['app_p99_ms']:>7.2f} "
            f"{r['limit_p50_ms']:>7.2f} {r['limit_p99_ms']:>7.2f}"
            f"  {r['same_rows']}"
        )
    return "\n".join(lines)


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from the PATH)
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ratio", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="a SQLite file or a PostgreSQL database on this machine; the network scale is loaded "
        "into it unless it is there already",
    )
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of each load")
    parser.add_argument("--rounds", type=positive, default=3, help="rounds of app and limit in turn")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per page and server")
    parser.add_argument("--connections", type=positive, default=8, help="concurrent connections")
    parser.add_argument("--sequential", type=positive, default=200, help="requests for p50 and p99")
    parser.add_argument(
        "--development", action="store_true", help="serve the app with COCREATE_ENV=development"
    )
    parser.add_argument("--only", nargs="*", help="measure only these pages (their names)")
    parser.add_argument("--profile", type=Path, help="profile the app with py-spy into this folder")
    parser.add_argument("--profile-seconds", type=positive, default=10)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    url = args.database_url
    database = "postgresql" if url.startswith("postgresql") else "sqlite"

    try:
        print(f"preparing {url} ...", file=sys.stderr, flush=True)
        loaded = ensure_network_scale(url)
        print(f"  {loaded}", file=sys.stderr, flush=True)
        targets = asyncio.run(_targets(url))
        pages = [page for page in pages_of(targets) if not args.only or page.name in args.only]
        env = {} if args.development else production_env()
        with running_app(url, extra_env=env) as app_url, running_limit(url) as (limit_url, limit_pid):
            app = Target(app_url, app_pid(), cookie=sign_in(app_url, targets["email"]))
            limit = Target(limit_url, limit_pid, reader=targets["user_id"])
            results = run_loop(measure(args, pages, app, limit))
            profiles = run_loop(profile(args, pages, app, database)) if args.profile else []
    except (BenchError, RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as error:
        print(f"bench.ratio: {error}", file=sys.stderr)
        return 1

    rows = [result.summary() for result in results]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "database": database,
        "app_env": "development" if args.development else "production",
        "data": loaded,
        "targets": targets,
        "settings": {
            key: getattr(args, key) for key in ("duration", "rounds", "warmup", "connections", "sequential")
        },
        "pages": rows,
        "loads": [asdict(result) for result in results],
        "profiles": profiles,
    }
    info = report["machine"]
    print(
        f"\n{report['date']}  commit {report['commit']}  {info['nproc']} CPUs  Python {info['python']}  "
        f"{info['platform']}\n{database}, {loaded}; app in {report['app_env']} mode; busiest workspace "
        f"{targets['slug']}; {args.connections} connections, {args.rounds} rounds of {args.duration:g} s "
        f"per page and server; p50/p99 in ms over {args.sequential} sequential requests; CPU as a share "
        "of one core (the highest round)\n"
    )
    print(format_table(rows))
    for path in profiles:
        print(f"profile: {path}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

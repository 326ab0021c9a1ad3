"""Votes per second through the real app: many members casting and changing votes on one open ballot.

The app is served by uvicorn with ``--workers`` processes (``bench.crowd.serving``: migrated, demo
data loaded, a free port of 127.0.0.1). Before anything is timed, ``--clients`` new members join the
demo workspace ``porto-campanha-green-corridor`` (user rows bulk-inserted with one shared password
hash, memberships and the ballot made by the app's services) and the facilitator opens an approval
ballot on it (5 options, up to 2 choices). Each client signs in as its own member through the real
login form (with httpx), then sends its votes over its own keep-alive connection with ``bench.wire``,
a lean HTTP/1.1 client: httpx's own CPU per request would be taken from the server under test.

Then the clients vote through the JSON API, the way in for a room that votes at once (kiosks, scripts, a
hall's clickers): ``POST /api/v1/ballots/<id>/vote`` with the ``X-CSRF-Token`` header and 1 or 2 options
drawn at random; the app stores the paper and answers 201 or 200 with ``first`` (the lean route of
``app.voting.api``: two statements per vote). ``--htmx`` votes as the ballot page's form does with htmx
instead: ``POST /w/<slug>/ballots/<id>/vote`` with ``HX-Request`` (the form's ``csrf_token`` field is
sent too), answered 200 with the ballot re-rendered (turnout, the voter's marks, the results when they
are visible); ``--plain-form`` sends the form as a browser without JavaScript does: the answer is a 303
to the ballot page, not followed. Each client sends one vote after another, so ``--clients`` votes are in
flight at once; ``--warmup`` votes go first, unmeasured, then ``--votes`` are timed. A first vote of a
member inserts the paper, every later one replaces it.

With ``--session-ballot`` the ballot belongs to a live co-creation session of the workspace, as a
host makes it there: only registered people vote (all the clients register), the results are shown
live, and every vote publishes a ``tally`` event on the session's live channel (on PostgreSQL that
takes the channel's transaction lock, so votes on the ballot commit one after another).

At the end the database must hold exactly one paper per member who voted, each with the options of
that member's last accepted vote. It prints votes per second over the timed run, the latency of a
vote (nearest-rank p50, p95, p99 and max, in ms), errors, and how busy the machine's CPUs were (the
client, the server and the database share them).

Usage (from the repository root)::

    .venv/bin/python -m bench.votes --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/cocreate_bench_votes
    .venv/bin/python -m bench.votes --database-url ... --clients 100 --votes 5000 --workers 2 --session-ballot

The PostgreSQL database named in the URL is DROPPED (if it exists) and created empty at the start, and
dropped again at the end; only a server on 127.0.0.1 or localhost is accepted. The target is set for
PostgreSQL, the database for several app processes: SQLite serves one writer at a time, and this load
on it ends in "database is locked" errors (logins, then votes).

It exits with 1 when fewer than 500 votes per second were counted, a vote failed, or a paper is wrong.
"""

import argparse
import asyncio
import random
import sys
import time
from dataclasses import dataclass, field

import asyncpg
import httpx
from sqlmodel import select

from app.core.config import Settings
from app.core.db import create_engine, create_session_factory
from app.voting.models import ResultsVisibility, Vote
from bench import crowd, wire
from bench.pages import BenchError, machine, not_negative, percentile, positive, prepare_database

TARGET_VOTES_PER_SECOND = 500
SEED = 20261
REQUEST_TIMEOUT = 60.0
LOGINS_AT_ONCE = 8  # each login verifies an argon2 hash; more at once only queue in the server


@dataclass
class Voter:
    email: str
    user_id: int
    client: httpx.AsyncClient  # signs in through the login form
    wire: wire.Connection  # sends the votes
    csrf: str = ""
    cookie: str = ""  # the Cookie header the login left
    last_choice: list[int] | None = None


@dataclass
class Tally:
    """What the clients saw: latencies of accepted votes, and the failures."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def draw_choice(rng: random.Random, option_ids: list[int]) -> list[int]:
    return sorted(rng.sample(option_ids, rng.randint(1, crowd.MAX_CHOICES)))


def way_of(args) -> str:
    return "htmx" if args.htmx else "form" if args.plain_form else "api"


async def vote(voter: Voter, setup: crowd.Crowd, choice: list[int], way: str) -> None:
    """One vote as the page (``htmx`` or a plain ``form``) or the JSON ``api`` sends it; raises
    BenchError unless the app accepted it (a refused vote is answered 422 or 403, an expired login 204
    or 303 to the login page)."""
    headers = {"Cookie": voter.cookie}
    if way != "form":
        headers |= (
            {"HX-Request": "true", "X-CSRF-Token": voter.csrf}
            if way == "htmx"
            else {"X-CSRF-Token": voter.csrf}
        )
    path = f"/api/v1/ballots/{setup.ballot_id}/vote" if way == "api" else setup.vote_path
    fields = [("csrf_token", voter.csrf)] + [("option", str(i)) for i in choice]
    async with asyncio.timeout(REQUEST_TIMEOUT):
        answer = await voter.wire.send(wire.form_post(path, voter.wire.host, fields, headers))
    if way == "api":
        accepted = answer.status in (200, 201) and b'"first"' in answer.body
    elif way == "form":
        accepted = answer.status == 303 and answer.headers.get("location", "").endswith(
            f"/ballots/{setup.ballot_id}"
        )
    else:
        accepted = answer.status == 200 and f'id="ballot-{setup.ballot_id}"'.encode() in answer.body
    if not accepted:
        raise BenchError(f"vote of {voter.email} answered {answer.status}: {answer.text[:200]!r}")
    voter.last_choice = choice


async def run_votes(
    voters: list[Voter], setup: crowd.Crowd, count: int, rng: random.Random, way: str, tally: Tally
) -> float:
    """``count`` votes spread over the voters, each voter one after another; returns the seconds."""
    remaining = count

    async def client_loop(voter: Voter) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            choice = draw_choice(rng, setup.option_ids)
            before = time.perf_counter()
            try:
                await vote(voter, setup, choice, way)
            except (BenchError, OSError, TimeoutError) as error:
                tally.errors.append(str(error) or repr(error))
                continue
            tally.latencies_ms.append((time.perf_counter() - before) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(voter) for voter in voters))
    return time.perf_counter() - started


async def check_papers(database_url: str, ballot_id: int, voters: list[Voter]) -> list[str]:
    """Problems with what the database holds: one paper per member who voted, with their last choice."""
    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    try:
        async with create_session_factory(engine)() as session:
            papers = list((await session.exec(select(Vote).where(Vote.ballot_id == ballot_id))).all())
    finally:
        await engine.dispose()
    expected = {voter.user_id: voter.last_choice for voter in voters if voter.last_choice is not None}
    stored: dict[int | None, list] = {}
    problems = []
    for paper in papers:
        if paper.voter_id in stored:
            problems.append(f"member {paper.voter_id} has more than one paper")
        stored[paper.voter_id] = paper.choices.get("options")
    if len(papers) != len(expected):
        problems.append(f"{len(papers)} papers for {len(expected)} members who voted")
    wrong = [user_id for user_id, choice in expected.items() if stored.get(user_id) != choice]
    if wrong:
        problems.append(f"{len(wrong)} papers differ from their member's last vote (e.g. member {wrong[0]})")
    return problems


async def bench(args: argparse.Namespace, base_url: str, database_url: str) -> dict:
    print(f"  adding {args.clients} members and the ballot ...", file=sys.stderr, flush=True)
    setup = await crowd.prepare(
        database_url,
        members=args.clients,
        session_ballot=args.session_ballot,
        attendees=args.clients,
        visibility=ResultsVisibility.LIVE if args.session_ballot else ResultsVisibility.AFTER_CLOSE,
    )
    voters = [
        Voter(
            email=email,
            user_id=user_id,
            client=httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, follow_redirects=False),
            wire=wire.Connection(base_url),
        )
        for email, user_id in zip(setup.emails, setup.user_ids, strict=True)
    ]
    try:
        print(f"  signing {len(voters)} members in through the login form ...", file=sys.stderr, flush=True)
        gate = asyncio.Semaphore(LOGINS_AT_ONCE)

        async def sign_in(voter: Voter) -> None:
            async with gate:
                voter.csrf = await crowd.log_in(voter.client, voter.email)
                voter.cookie = "; ".join(f"{name}={value}" for name, value in voter.client.cookies.items())
                await voter.client.aclose()

        await asyncio.gather(*(sign_in(voter) for voter in voters))
        rng = random.Random(SEED)
        if args.warmup:
            print(f"  {args.warmup} warm-up votes ...", file=sys.stderr, flush=True)
            warmup = Tally()
            await run_votes(voters, setup, args.warmup, rng, way_of(args), warmup)
            if warmup.errors:
                raise BenchError(f"{len(warmup.errors)} warm-up votes failed, first: {warmup.errors[0]}")
        print(f"  {args.votes} timed votes ...", file=sys.stderr, flush=True)
        tally = Tally()
        with crowd.CpuMeter() as cpu:
            seconds = await run_votes(voters, setup, args.votes, rng, way_of(args), tally)
    finally:
        await asyncio.gather(*(voter.client.aclose() for voter in voters))
        await asyncio.gather(*(voter.wire.close() for voter in voters))
    problems = await check_papers(database_url, setup.ballot_id, voters)
    latencies = sorted(tally.latencies_ms)
    return {
        "ballot": "session" if args.session_ballot else "workspace",
        "accepted": len(latencies),
        "seconds": seconds,
        "votes_per_second": len(latencies) / seconds,
        "p50": percentile(latencies, 50) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
        "max": latencies[-1] if latencies else float("nan"),
        "errors": tally.errors,
        "papers": problems,
        "cpu": cpu.summary(),
        "cpu_per_vote": cpu.per_event_ms(max(1, len(latencies))),
    }


def report(args: argparse.Namespace, database: str, result: dict) -> None:
    info = machine()
    request = {
        "form": "plain form POST, 303 not followed",
        "htmx": "htmx POST, 200 with the ballot",
        "api": "JSON API POST, 201/200 with {first}",
    }[way_of(args)]
    print(
        f"\n{info['nproc']} CPUs  Python {info['python']}  {info['platform']}\n"
        f"database: {database}; {args.workers} server worker(s)\n"
        f"{result['ballot']} ballot, approval; {args.clients} clients, each one vote at a time; "
        f"{request}; {args.warmup} warm-up votes, then {args.votes} timed\n"
    )
    header = (
        f"{'votes':>6} {'seconds':>8} {'votes/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
        f"{'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{result['accepted']:>6} {result['seconds']:>8.2f} {result['votes_per_second']:>8.1f} "
        f"{result['p50']:>7.1f} {result['p95']:>7.1f} {result['p99']:>7.1f} {result['max']:>7.1f} "
        f"{len(result['errors']):>7}"
    )
    print(f"\nlatency in ms; over the timed run {result['cpu']}")
    print(f"per accepted vote: {result['cpu_per_vote']}")
    print(
        "papers: "
        + ("; ".join(result["papers"]) if result["papers"] else "one per voter, each the last vote")
    )
    for error in result["errors"][:5]:
        print(f"error: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.votes", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="a PostgreSQL database on this machine, dropped and created at the start and dropped at the end",
    )
    parser.add_argument("--clients", type=positive, default=100, help="members voting at once")
    parser.add_argument("--votes", type=positive, default=5000, help="timed votes in all")
    parser.add_argument("--warmup", type=not_negative, default=200, help="unmeasured votes first")
    parser.add_argument("--workers", type=positive, default=2, help="uvicorn worker processes")
    parser.add_argument("--session-ballot", action="store_true", help="a ballot of a live session")
    ways = parser.add_mutually_exclusive_group()
    ways.add_argument("--htmx", action="store_true", help="vote as the ballot page does with htmx")
    ways.add_argument("--plain-form", action="store_true", help="vote without htmx (303 answers)")
    args = parser.parse_args(argv)

    try:
        database = prepare_database(args.database_url)
        try:
            print(f"starting the app on {database} ...", file=sys.stderr, flush=True)
            with crowd.serving(args.database_url, args.workers) as (base_url, database_url):
                result = asyncio.run(bench(args, base_url, database_url))
        finally:
            crowd.drop_postgres(args.database_url)
    except (BenchError, RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as error:
        print(f"bench.votes: {error}", file=sys.stderr)
        return 1

    report(args, database, result)
    missed = []
    if result["votes_per_second"] < TARGET_VOTES_PER_SECOND:
        missed.append(f"{result['votes_per_second']:.0f} votes/s, the target is {TARGET_VOTES_PER_SECOND}")
    if result["errors"]:
        missed.append(f"{len(result['errors'])} votes failed")
    if result["papers"]:
        missed.append("the papers stored are not the votes cast")
    for problem in missed:
        print(f"bench.votes: {problem}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""From a vote to everyone in the live room: how long until 500 connected browsers have the new tally.

The app is served by uvicorn (``bench.crowd.serving``: migrated, demo data loaded, a free port of
127.0.0.1): one process on SQLite, where the hub hands events over in-process, and ``--workers``
processes on PostgreSQL, where every process hears the events through LISTEN/NOTIFY. Before anything
is timed, ``--clients`` new members join the demo workspace ``porto-campanha-green-corridor``; the
facilitator runs a live co-creation session there with an approval ballot whose results are shown
live, and only people with a place in the session may vote (what the host's form proposes for a
session ballot). The first ``--voters`` members register.

Every member opens the room's event stream as the room page does: ``GET
/w/<slug>/sessions/<id>/live/events?last_event_id=<the id the page was rendered with>`` with their own
signed-in session cookie (made by ``start_session``, the service the login form ends in, so 500
argon2 checks do not run first). The streams are read by ``--watcher-processes`` separate processes
with plain asyncio connections (an HTTP/1.1 request, then the chunked SSE body parsed by hand): much
less work per event than an HTTP client library, so the client adds little to what is measured. The
voters sign in through the real login form and vote as the page's htmx form does (``bench.votes``).

One unmeasured vote first shows that every stream is subscribed; then ``--votes`` votes are cast one
after another, ``--rate`` a second, each by the next voter with 1 or 2 options drawn at random. Each
vote publishes one ``tally`` event; the events are matched to the votes by their ids in the
``live_event`` table (votes are sequential, so their events come in the same order). For every pair
of a vote and a client it takes the time from sending the vote request until that client has read the
whole ``tally-<ballot id>`` event (one monotonic clock for all processes), and prints the p50, p95,
p99 and max of those delays in ms (nearest rank), the time until the last client had each vote,
and the vote request's own latency.

Usage (from the repository root)::

    .venv/bin/python -m bench.live                    # SQLite, one server process
    .venv/bin/python -m bench.live --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/cocreate_bench_live
    .venv/bin/python -m bench.live --clients 500 --votes 50 --rate 5 --watcher-processes 1

With ``--database-url`` the PostgreSQL database named in the URL is DROPPED (if it exists) and created
empty at the start, and dropped again at the end; only a server on 127.0.0.1 or localhost is accepted.
It exits with 1 when a client could not connect, missed a vote's event, or the p99 is 500 ms or more.
"""

import argparse
import asyncio
import multiprocessing
import random
import re
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from urllib.parse import urlsplit

import asyncpg
import httpx
import uvloop
from sqlmodel import col, select

from app.cocreation import service as session_service
from app.core import live
from app.core.config import Settings
from app.core.db import create_engine, create_session_factory
from app.voting.models import ResultsVisibility
from bench import crowd, votes
from bench.pages import BenchError, expect, machine, percentile, positive, prepare_database

TARGET_P99_MS = 500.0
SEED = 20262
CONNECT_TIMEOUT = 60.0  # longer than the server's wait for a database connection (30 s)
DELIVERY_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
LAST_EVENT_ID = re.compile(r'data-last-event-id="([0-9]+)"')

# A stream's state in the shared array: still connecting, streaming, or why it stopped (else the
# HTTP status it was answered with).
CONNECTING, STREAMING, CONNECTION_FAILED, STREAM_ENDED, NO_ANSWER = 0, 200, 1, 2, 3


class EventStream(asyncio.Protocol):
    """One browser's event stream: sends the GET, reads the chunked SSE body, and notes the monotonic
    time at which each ``tally-<ballot>`` event was complete."""

    def __init__(self, request: bytes, event_name: bytes, index: int, states, counts) -> None:
        self.request = request
        self.event_name = event_name
        self.index = index
        self.states = states
        self.counts = counts
        self.received: list[tuple[int, float]] = []
        self.answered = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._body = bytearray()
        self._headers_read = False
        self._chunk_left = -1  # -1: a chunk size line comes next
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, _exc: Exception | None) -> None:
        if self.states[self.index] in (CONNECTING, STREAMING):
            self.states[self.index] = STREAM_ENDED
        self._answer()

    def _answer(self) -> None:
        if not self.answered.done():
            self.answered.set_result(None)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self._buffer += data
        if not self._headers_read:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1").lower()
            del self._buffer[: end + 4]
            status = int(head.split(None, 2)[1])
            self._headers_read = True
            self.states[self.index] = status
            self._answer()
            if status != STREAMING or "transfer-encoding: chunked" not in head:
                self.transport.close()
                return
        self._read_chunks(now)

    def _read_chunks(self, now: float) -> None:
        buffer = self._buffer
        while True:
            if self._chunk_left < 0:
                line_end = buffer.find(b"\r\n")
                if line_end < 0:
                    return
                self._chunk_left = int(bytes(buffer[:line_end]).split(b";")[0], 16)
                del buffer[: line_end + 2]
                if self._chunk_left == 0:
                    self.transport.close()
                    return
            if len(buffer) < self._chunk_left + 2:
                return
            self._body += buffer[: self._chunk_left]
            del buffer[: self._chunk_left + 2]
            self._chunk_left = -1
            self._read_events(now)

    def _read_events(self, now: float) -> None:
        while (end := self._body.find(b"\n\n")) >= 0:
            message = bytes(self._body[:end])
            del self._body[: end + 2]
            event_id, name = None, None
            for line in message.split(b"\n"):
                if line.startswith(b"id: "):
                    event_id = int(line[4:])
                elif line.startswith(b"event: "):
                    name = line[7:]
            if name == self.event_name and event_id is not None:
                self.received.append((event_id, now))
                self.counts[self.index] += 1


def watch(
    address: str, path: str, cookies: list[str], event_name: str, states, counts, stop, results
) -> None:
    """A watcher process: a stream per cookie until ``stop`` is set, then the times to ``results``."""
    uvloop.run(_watch(address, path, cookies, event_name, states, counts, stop, results))


async def _watch(address, path, cookies, event_name, states, counts, stop, results: Connection) -> None:
    host, port = address.rsplit(":", 1)
    loop = asyncio.get_running_loop()
    streams: list[EventStream] = []

    async def open_stream(index: int, cookie: str) -> None:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n"
            f"Cache-Control: no-cache\r\nCookie: {crowd.SESSION_COOKIE}={cookie}\r\n\r\n"
        ).encode()
        stream = EventStream(request, event_name.encode(), index, states, counts)
        streams.append(stream)
        try:
            await loop.create_connection(lambda: stream, host, int(port))
        except OSError:
            states[index] = CONNECTION_FAILED
            return
        try:
            await asyncio.wait_for(stream.answered, CONNECT_TIMEOUT)
        except TimeoutError:
            states[index] = NO_ANSWER

    await asyncio.gather(*(open_stream(i, cookie) for i, cookie in enumerate(cookies)))
    await asyncio.to_thread(stop.wait)
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
    results.send([stream.received for stream in sorted(streams, key=lambda s: s.index)])
    results.close()


@dataclass
class Watchers:
    """The watcher processes and what they share with this one."""

    processes: list
    states: list
    counts: list
    stop: object
    pipes: list[Connection]

    def state_counts(self) -> dict[int, int]:
        summary: dict[int, int] = {}
        for shared in self.states:
            for state in shared[:]:
                summary[state] = summary.get(state, 0) + 1
        return summary

    def fewest_received(self) -> int:
        return min(min(shared[:]) for shared in self.counts)

    def collect(self) -> list[list[tuple[int, float]]]:
        self.stop.set()
        received = []
        for pipe in self.pipes:
            received.extend(pipe.recv())
        for process in self.processes:
            process.join(10)
        return received

    def end(self) -> None:
        self.stop.set()
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()


def start_watchers(base_url: str, path: str, cookies: list[str], event_name: str, processes: int) -> Watchers:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    address = urlsplit(base_url).netloc
    share = -(-len(cookies) // processes)
    watchers = Watchers(processes=[], states=[], counts=[], stop=stop, pipes=[])
    for start in range(0, len(cookies), share):
        part = cookies[start : start + share]
        states = context.Array("i", len(part), lock=False)
        counts = context.Array("i", len(part), lock=False)
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(
            target=watch,
            args=(address, path, part, event_name, states, counts, stop, sending),
            daemon=True,
        )
        process.start()
        sending.close()
        watchers.processes.append(process)
        watchers.states.append(states)
        watchers.counts.append(counts)
        watchers.pipes.append(receiving)
    return watchers


async def wait_for(condition, seconds: float) -> bool:
    """Whether ``condition()`` became true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def tally_event_ids(database_url: str, session_id: int, after_id: int) -> list[int]:
    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.exec(
                select(live.LiveEvent.id)
                .where(
                    live.LiveEvent.channel == session_service.channel(session_id),
                    live.LiveEvent.kind == "tally",
                    col(live.LiveEvent.id) > after_id,
                )
                .order_by(col(live.LiveEvent.id))
            )
            return list(rows.all())
    finally:
        await engine.dispose()


async def bench(args: argparse.Namespace, base_url: str, database_url: str) -> dict:
    print(
        f"  adding {args.clients} members, the live session and its ballot ...", file=sys.stderr, flush=True
    )
    setup = await crowd.prepare(
        database_url,
        members=args.clients,
        session_ballot=True,
        attendees=args.voters,
        visibility=ResultsVisibility.LIVE,
    )
    cookies = await crowd.auth_cookies(database_url, setup.user_ids)
    clients = [
        httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, limits=votes.CLIENT_LIMITS)
        for _ in range(args.voters)
    ]
    voters = [
        votes.Voter(email=email, user_id=user_id, client=client)
        for email, user_id, client in zip(setup.emails, setup.user_ids, clients, strict=False)
    ]
    watchers = None
    try:
        for voter in voters:
            voter.csrf = await crowd.log_in(voter.client, voter.email)
        room = expect(await voters[0].client.get(f"/w/{setup.slug}/sessions/{setup.session_id}/live"), 200)
        found = LAST_EVENT_ID.search(room.text)
        if found is None:
            raise BenchError("the live room page gives no last event id")
        start_id = int(found.group(1))
        path = f"{setup.events_path}?last_event_id={start_id}"
        print(
            f"  connecting {args.clients} event streams from {args.watcher_processes} process(es) ...",
            file=sys.stderr,
            flush=True,
        )
        connect_started = time.monotonic()
        watchers = start_watchers(base_url, path, cookies, f"tally-{setup.ballot_id}", args.watcher_processes)
        await wait_for(lambda: CONNECTING not in watchers.state_counts(), CONNECT_TIMEOUT + 30)
        connect_seconds = time.monotonic() - connect_started
        states = watchers.state_counts()
        if states.get(STREAMING, 0) != args.clients:
            return {"connect_seconds": connect_seconds, "states": states}

        rng = random.Random(SEED)
        print("  one warm-up vote ...", file=sys.stderr, flush=True)
        await votes.vote(voters[0], setup, votes.draw_choice(rng, setup.option_ids), plain_form=False)
        if not await wait_for(lambda: watchers.fewest_received() >= 1, DELIVERY_TIMEOUT):
            raise BenchError(
                f"the warm-up vote's tally did not reach every client in {DELIVERY_TIMEOUT:.0f} s"
            )

        print(f"  {args.votes} votes, {args.rate:g} a second ...", file=sys.stderr, flush=True)
        sent_at: list[float] = []
        request_ms: list[float] = []
        with crowd.CpuMeter() as cpu:
            first = time.monotonic()
            for number in range(args.votes):
                await asyncio.sleep(max(0.0, first + number / args.rate - time.monotonic()))
                voter = voters[(number + 1) % len(voters)]
                sent_at.append(time.monotonic())
                await votes.vote(voter, setup, votes.draw_choice(rng, setup.option_ids), plain_form=False)
                request_ms.append((time.monotonic() - sent_at[-1]) * 1000)
            await wait_for(lambda: watchers.fewest_received() >= 1 + args.votes, DELIVERY_TIMEOUT)
        received = watchers.collect()
    finally:
        if watchers is not None:
            watchers.end()
        for client in clients:
            await client.aclose()

    event_ids = await tally_event_ids(database_url, setup.session_id, start_id)
    if len(event_ids) != 1 + args.votes:
        raise BenchError(f"{len(event_ids)} tally events stored for {1 + args.votes} votes")
    return {
        "connect_seconds": connect_seconds,
        "states": states,
        **delays(event_ids[1:], sent_at, received),
        "request_ms": sorted(request_ms),
        "cpu": cpu.summary(),
    }


def delays(event_ids: list[int], sent_at: list[float], received: list[list[tuple[int, float]]]) -> dict:
    """The delay of every (vote, client) pair, and per vote the delay until its last client."""
    vote_of = {event_id: number for number, event_id in enumerate(event_ids)}
    pairs: list[float] = []
    last: list[float] = [0.0] * len(event_ids)
    missed = 0
    for stream in received:
        seen = {event_id: at for event_id, at in stream if event_id in vote_of}
        missed += len(event_ids) - len(seen)
        for event_id, at in seen.items():
            number = vote_of[event_id]
            delay = (at - sent_at[number]) * 1000
            pairs.append(delay)
            last[number] = max(last[number], delay)
    return {"pairs": sorted(pairs), "until_last": sorted(last), "missed": missed}


def summary_row(name: str, values: list[float]) -> str:
    return (
        f"{name:<26} {len(values):>7} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
        f"{percentile(values, 99):>8.1f} {values[-1]:>8.1f}"
    )


def report(args: argparse.Namespace, database: str, workers: int, result: dict) -> None:
    info = machine()
    print(
        f"\n{info['nproc']} CPUs  Python {info['python']}  {info['platform']}\n"
        f"database: {database}; {workers} server process(es)\n"
        f"{args.clients} signed-in members in the live room, read by {args.watcher_processes} process(es); "
        f"{args.votes} votes by {args.voters} voters, {args.rate:g} a second\n"
        f"streams answered in {result['connect_seconds']:.1f} s: "
        + ", ".join(f"{_state_name(state)} {count}" for state, count in sorted(result["states"].items()))
    )
    if "pairs" not in result:
        return
    header = f"{'from sending the vote':<26} {'count':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
    print("\n" + header + "\n" + "-" * len(header))
    print(summary_row("to each client's tally", result["pairs"]))
    print(summary_row("to the last client's", result["until_last"]))
    print(summary_row("to the vote's answer", result["request_ms"]))
    print(f"\nms; {result['missed']} (vote, client) pairs missed; over the votes {result['cpu']}")


def _state_name(state: int) -> str:
    names = {
        STREAMING: "streaming",
        CONNECTING: "still connecting",
        CONNECTION_FAILED: "could not connect",
        STREAM_ENDED: "stream closed",
        NO_ANSWER: f"no answer in {CONNECT_TIMEOUT:.0f} s",
    }
    return names.get(state, f"HTTP {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database on this machine, dropped and created at the start and dropped at "
        "the end (default: a fresh SQLite file, one server process)",
    )
    parser.add_argument("--clients", type=positive, default=500, help="members with the room open")
    parser.add_argument("--votes", type=positive, default=50, help="measured votes")
    parser.add_argument("--rate", type=float, default=5.0, help="votes a second")
    parser.add_argument("--voters", type=positive, default=10, help="members who vote, taking turns")
    parser.add_argument("--workers", type=positive, help="server processes (PostgreSQL only; default 2)")
    parser.add_argument("--watcher-processes", type=positive, default=1, help="processes reading the streams")
    args = parser.parse_args(argv)
    if args.database_url is None and (args.workers or 1) > 1:
        parser.error("on SQLite the live hub is in-process: one server process only")
    if not 0 < args.rate <= 100 or args.voters > args.clients:
        parser.error("--rate must be in (0, 100] and --voters at most --clients")
    workers = args.workers or (2 if args.database_url else 1)

    try:
        database = prepare_database(args.database_url)
        try:
            print(f"starting the app on {database} ...", file=sys.stderr, flush=True)
            with crowd.serving(args.database_url, workers) as (base_url, database_url):
                result = asyncio.run(bench(args, base_url, database_url))
        finally:
            if args.database_url:
                crowd.drop_postgres(args.database_url)
    except (BenchError, RuntimeError, OSError, httpx.HTTPError, asyncpg.PostgresError) as error:
        print(f"bench.live: {error}", file=sys.stderr)
        return 1

    report(args, database, workers, result)
    problems = []
    if result["states"].get(STREAMING, 0) != args.clients:
        problems.append(
            f"{args.clients - result['states'].get(STREAMING, 0)} clients could not follow the room"
        )
    elif result["missed"]:
        problems.append(f"{result['missed']} (vote, client) pairs never got their tally")
    elif percentile(result["pairs"], 99) >= TARGET_P99_MS:
        problems.append(
            f"p99 {percentile(result['pairs'], 99):.0f} ms, the target is under {TARGET_P99_MS:.0f}"
        )
    for problem in problems:
        print(f"bench.live: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

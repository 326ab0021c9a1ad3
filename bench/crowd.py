"""A crowd of members for the vote and live-room benchmarks, and the app served with several workers.

``prepare`` adds members to the demo workspace ``porto-campanha-green-corridor`` of a freshly seeded
database, through the app's services (memberships, a live co-creation session, registrations, a
ballot) except for the user rows themselves: these are bulk-inserted with one shared argon2 hash, as
``cocreate seed --scale`` does, since hashing a password per user would take longer than the
benchmark. Each member can then sign in through the real login form with ``PASSWORD``.
"""

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import col, select

import app.models  # noqa: F401 (every table, so foreign keys between domains resolve)
from app.accounts import service as account_service
from app.accounts.models import User
from app.cocreation import service as session_service
from app.cocreation.models import Mode, Phase, SessionStatus
from app.core.config import Settings
from app.core.db import create_engine, create_session_factory, unit_of_work, utcnow
from app.core.forms import local_datetime_input
from app.core.security import hash_password
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting.models import Eligibility, Method, ResultsVisibility
from app.workspaces import service as workspace_service
from bench.pages import BenchError, admin_connection, csrf_token, expect
from tests.e2e.server import running_app

WORKSPACE_SLUG = "porto-campanha-green-corridor"
HOST_EMAIL = "facilitator@example.org"
EMAIL_DOMAIN = "bench.example.org"
PASSWORD = "bench-crowd-2026"  # noqa: S105 (test data)
OPTIONS = ("Rain garden", "Green roofs", "Community garden", "Pocket park", "Shaded walking path")
MAX_CHOICES = 2
BENCH_RATE_LIMITS = "vote=1000000/1000000/60,register=0/100000/3600"
SESSION_COOKIE = "cocreate_session"  # the development cookie name (running_app serves in development)


@dataclass
class Crowd:
    """What ``prepare`` made: the ballot's address and options, and the members in order."""

    slug: str
    ballot_id: int
    option_ids: list[int]
    session_id: int | None
    emails: list[str] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)

    @property
    def vote_path(self) -> str:
        return f"/w/{self.slug}/ballots/{self.ballot_id}/vote"

    @property
    def events_path(self) -> str:
        return f"/w/{self.slug}/sessions/{self.session_id}/live/events"


async def prepare(
    database_url: str,
    *,
    members: int,
    session_ballot: bool,
    attendees: int = 0,
    visibility: ResultsVisibility = ResultsVisibility.AFTER_CLOSE,
) -> Crowd:
    """``members`` new active members of the Porto workspace and an open approval ballot on it.

    With ``session_ballot`` the ballot belongs to a new live session of that workspace and only people
    with a place in the session may vote (the default a host gets for a session ballot): the first
    ``attendees`` members register. Otherwise any member may vote on a ballot of the workspace.
    """
    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    factory = create_session_factory(engine)
    try:
        async with unit_of_work(factory) as session:
            workspace = await workspace_service.get_by_slug(session=session, slug=WORKSPACE_SLUG)
            host = await account_service.get_by_email(session=session, email=HOST_EMAIL)
            if workspace is None or host is None:
                raise BenchError("the demo workspace or its facilitator is missing: run `cocreate seed-demo`")
            shared_hash = hash_password(PASSWORD)
            emails = [f"member{n:06d}@{EMAIL_DOMAIN}" for n in range(1, members + 1)]
            await session.exec(
                sa.insert(User),
                params=[
                    {
                        "email": email,
                        "display_name": f"Bench member {n}",
                        "password_hash": shared_hash,
                        "created_at": utcnow(),
                        "updated_at": utcnow(),
                    }
                    for n, email in enumerate(emails, start=1)
                ],
            )
            await session.flush()
            found = await session.exec(
                select(User).where(col(User.email).like(f"%@{EMAIL_DOMAIN}")).order_by(col(User.email))
            )
            users = list(found.all())
            for user in users:
                await workspace_service.add_member(session=session, workspace=workspace, user=user)
            cs = None
            if session_ballot:
                cs = await _live_session(session, workspace, host)
                for user in users[:attendees]:
                    await session_service.register(session=session, cs=cs, user=user)
            closes_at = (utcnow() + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
            ballot = await voting_service.create(
                session=session,
                workspace=workspace,
                cs=cs,
                author=host,
                data=voting_rules.BallotInput(
                    question="Which two should the corridor start with?",
                    method=Method.APPROVAL,
                    options_text="\n".join(OPTIONS),
                    max_choices=str(MAX_CHOICES),
                    closes_at=closes_at,  # read in UTC: no request sets another time zone here
                    results_visibility=visibility,
                    eligibility=Eligibility.ATTENDEES if session_ballot else Eligibility.MEMBERS,
                ),
            )
            options = await voting_storage.options_of(session=session, ballot_id=ballot.id)
            return Crowd(
                slug=workspace.slug,
                ballot_id=ballot.id,
                option_ids=[option.id for option in options],
                session_id=cs.id if cs else None,
                emails=[user.email for user in users],
                user_ids=[user.id for user in users],
            )
    finally:
        await engine.dispose()


async def _live_session(session, workspace, host):
    zone = "Europe/Lisbon"
    now = utcnow()
    cs = await session_service.create(
        session=session,
        workspace=workspace,
        author=host,
        data=session_service.SessionInput(
            title="Choosing the first corridor projects",
            phase=Phase.CO_DESIGN,
            mode=Mode.IN_PERSON,
            place_name="Campanhã community centre",
            time_zone=zone,
            starts_at=local_datetime_input(now - timedelta(minutes=10), zone),
            ends_at=local_datetime_input(now + timedelta(hours=3), zone),
            agenda=[session_service.AgendaInput(title="Vote", minutes="30")],
        ),
    )
    for status in (SessionStatus.SCHEDULED, SessionStatus.LIVE):
        await session_service.set_status(session=session, cs=cs, status=status, by=host)
    return cs


async def auth_cookies(database_url: str, user_ids: list[int]) -> list[str]:
    """A login session per user, made by the service the login form ends in (``start_session``),
    without checking a password: the session cookie values, in the order of ``user_ids``."""
    settings = Settings(database_url=database_url, _env_file=None)
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            tokens = []
            for user_id in user_ids:
                user = await session.get(User, user_id)
                token, _auth = await account_service.start_session(
                    session=session, user=user, settings=settings, address="127.0.0.1", user_agent="bench"
                )
                tokens.append(token)
            return tokens
    finally:
        await engine.dispose()


async def log_in(client: httpx.AsyncClient, email: str) -> str:
    """Signs a member in through the login form; returns the signed-in session's CSRF token."""
    form_page = expect(await client.get("/login"), 200)
    answer = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(form_page.text)}
    )
    expect(answer, 303)
    if SESSION_COOKIE not in client.cookies:
        raise BenchError(f"the login of {email} answered 303 but set no session cookie")
    return csrf_token(expect(await client.get("/profile"), 200).text)


@contextlib.contextmanager
def serving(database_url: str | None, workers: int) -> Iterator[tuple[str, str]]:
    """``running_app`` (migrated, demo data, uvicorn on a free port) with ``workers`` processes: the
    base URL and the database URL, by default a fresh SQLite file in a temporary folder."""
    with contextlib.ExitStack() as stack:
        if database_url is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="cocreate-bench-"))
            database_url = f"sqlite+aiosqlite:///{folder}/bench.db"
        # All the crowd comes from 127.0.0.1 and votes far faster than people do: limits high enough
        # never to refuse it, so the limiter still does its counting on every vote.
        # As in production: no line in the log per request.
        env = {
            "WEB_CONCURRENCY": str(workers),
            "COCREATE_RATE_LIMITS": BENCH_RATE_LIMITS,
            "COCREATE_ACCESS_LOG": "false",
        }
        base_url = stack.enter_context(running_app(database_url, extra_env=env))
        yield base_url, database_url


def drop_postgres(url: str) -> None:
    """Drops the benchmark's PostgreSQL database (``bench.pages.prepare_database`` made it)."""

    async def drop() -> None:
        connection, name = await admin_connection(url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


class CpuMeter:
    """How busy the machine's CPUs were over a span, and who was busy, as shares of all CPU time: the
    app server (the uvicorn processes this one started), the benchmark's client (this process and its
    other children), PostgreSQL, the kernel's interrupt handling (loopback TCP is mostly that), and
    other processes (anything else running on the machine)."""

    def __enter__(self) -> "CpuMeter":
        self._before = _cpu_snapshot()
        return self

    def __exit__(self, *_exc) -> None:
        (total_before, busy_before, irq_before, by_pid_before) = self._before
        total, busy, irq, by_pid = _cpu_snapshot()
        total -= total_before
        self.cpu_ms = total * 1000 / os.sysconf("SC_CLK_TCK")  # of all CPUs together
        self.busy = (busy - busy_before) / total
        self.interrupts = (irq - irq_before) / total
        spent = dict.fromkeys(("server", "client", "database"), 0)
        for pid, (kind, ticks) in by_pid.items():
            if kind in spent:
                spent[kind] += ticks - by_pid_before.get(pid, (kind, 0))[1]
        self.server, self.client, self.database = (spent[kind] / total for kind in spent)
        self.other = max(0.0, self.busy - self.server - self.client - self.database - self.interrupts)

    def per_event_ms(self, events: int) -> str:
        """CPU time per event (a vote, say) of the app server and of the database."""
        server, database = (share * self.cpu_ms / events for share in (self.server, self.database))
        return f"{server:.1f} ms of app server CPU and {database:.1f} ms of PostgreSQL CPU"

    def summary(self) -> str:
        return (
            f"CPUs busy {self.busy:.0%}: app server {self.server:.0%}, benchmark client {self.client:.0%}, "
            f"PostgreSQL {self.database:.0%}, interrupts {self.interrupts:.0%}, other processes "
            f"{self.other:.0%}"
        )


def _cpu_snapshot() -> tuple[int, int, int, dict[int, tuple[str, int]]]:
    """Total, busy and interrupt ticks of the machine, and each process's ticks with what it is part of."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    total = sum(fields[:8])  # guest time is already counted in user time
    busy = total - fields[3] - fields[4]  # less idle and iowait
    processes: dict[int, tuple[int, bytes, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="latin-1") as stat:
                line = stat.read()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read()
        except OSError:
            continue  # gone meanwhile
        after_name = line[line.rindex(")") + 2 :].split()
        processes[int(entry)] = (int(after_name[1]), command, int(after_name[11]) + int(after_name[12]))
    root = os.getpid()
    by_pid = {}
    for pid, (_parent, command, ticks) in processes.items():
        program = command.split(b"\0", 1)[0]
        kind = "database" if program.startswith(b"postgres") or program.endswith(b"/postgres") else "other"
        current, server = pid, False
        while current in processes:
            server = server or b"uvicorn" in processes[current][1]
            if current == root:
                kind = "server" if server else "client"
                break
            current = processes[current][0]
        by_pid[pid] = (kind, ticks)
    return total, busy, fields[5] + fields[6], by_pid

"""A world of people and things for the security suite, built once per test module through the app's
own forms, in one transaction that each test works inside (a savepoint it rolls back).

The people are the roles of the access table (tests/security/access.py): a citizen who is in no
workspace, a member of Porto's workspace, the author of its idea and comments, a moderator of Porto, a
moderator of Hefei's workspace only, a facilitator and an admin; and a few more who only make the world:
someone asking to join Porto, a banned member, a member of Shenzhen's members-only workspace, and two
accounts for the admin's forms (one disabled).

``World.ids`` names every object a route's path can hold (``{slug}``, ``{idea_id}``, ...), for the
access table and the other tests to fill paths in with.
"""

import functools
import itertools
import re
from collections.abc import Callable
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.attachments import service as attachment_service
from app.cocreation import service as cocreation_service
from app.core import live
from app.core.config import Settings
from app.core.forms import LOCAL_DATETIME
from app.core.security import csrf_token_for
from app.demo.seed import DEMO_NETWORK_CSV
from app.main import create_app
from app.moderation.models import ModerationCase, TargetKind
from app.network import service as network_service
from app.notifications.models import Notification
from app.topics import service as topic_service
from app.voting import storage as voting_storage
from app.workspaces import service as workspace_service
from app.workspaces.models import Membership
from tests.attachments.files import png
from tests.conftest import PASSWORD, client_for, http_scope, make_settings

ROLES = ("anonymous", "citizen", "member", "author", "moderator", "other_moderator", "facilitator", "admin")
# Only the app's own limits are off: the rate limit tests have their own app.
NO_RATE_LIMITS = "post=0/0/60,comment=0/0/60,report=0/0/60,vote=0/0/60,register=0/0/60"
ANON_ID = "security-suite-anonymous-visitor"
# Tables that change on any request (the idle clock of a login is only written once a minute, but
# a test may run across one) or that count acts whether or not they are allowed.
VOLATILE = {"auth_session": {"last_seen_at"}, "rate_limit_hit": None}


_numbers = itertools.count(1)


@functools.cache
def _password_hash() -> str:
    """PASSWORD, hashed with argon2's lightest settings: the app's checks read the settings from the
    hash, so a wrong password is told in a millisecond rather than half a second."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)


async def quick_user(session, *, name: str, role: Role = Role.CITIZEN, email: str | None = None) -> User:
    """An account made without the app's (deliberately slow) password hashing."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "someone"
    user = User(
        email=email or f"{slug}-{next(_numbers)}@security.example.org",
        display_name=name,
        password_hash=_password_hash(),
        role=role,
    )
    session.add(user)
    await session.commit()
    await session.refresh(user)
    return user


def benign(name: str, max_length: int) -> str:
    return f"The {name.replace('_', ' ')}"[:max_length]


def local_time(moment: datetime) -> str:
    """A datetime-local field's value, in UTC (the zone of the world's people and sessions)."""
    return moment.astimezone(UTC).strftime(LOCAL_DATETIME)


@dataclass
class World:
    app: object
    settings: Settings
    connection: AsyncConnection
    session: AsyncSession
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Short, for the reports of tests that take the world as an argument (Hypothesis prints them).
        return f"World({self.ids.get('slug')!r})"

    def client(self, role: str) -> httpx.AsyncClient:
        """A client of the app signed in as ``role`` (or a visitor with an anonymous id)."""
        client = client_for(self.app)
        if role == "anonymous":
            client.cookies.set(self.settings.anon_cookie_name, ANON_ID)
        else:
            client.cookies.set(self.settings.session_cookie_name, self.tokens[role])
        return client

    def csrf(self, role: str) -> str:
        key = "anon:" + ANON_ID if role == "anonymous" else self.tokens[role]
        return csrf_token_for(self.settings.secret_key, key)

    def url(self, template: str) -> str:
        return template.format_map(self.ids)

    async def post(self, role: str, url: str, data: dict | None = None, **kwargs) -> httpx.Response:
        async with self.client(role) as client:
            return await client.post(
                self.url(url), data={"csrf_token": self.csrf(role), **(data or {})}, **kwargs
            )

    async def sent(self, role: str, url: str, data: dict | None = None, **kwargs) -> str:
        """Sends a form that must succeed, and returns where the answer leads."""
        return await redirected_to(await self.post(role, url, data, **kwargs))

    async def created(self, role: str, url: str, data: dict | None = None, **kwargs) -> int:
        """Sends a form that makes something, and returns its id (from where the answer leads)."""
        return last_id(await self.sent(role, url, data, **kwargs))

    async def get(self, role: str, url: str, **kwargs) -> httpx.Response:
        async with self.client(role) as client:
            return await client.get(self.url(url), **kwargs)

    async def stream(
        self, role: str, url: str, *, until: Callable[[str], bool] | None = None
    ) -> tuple[int, str]:
        """Opens an event stream (which never ends by itself) and reads it until ``until(body)`` holds
        (without ``until``, only until it opens) or five seconds have passed; then the client goes
        away. Returns the status and the body read."""
        async with self.client(role) as client:
            cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        path, _, query = self.url(url).partition("?")
        answer = {"status": 0, "body": ""}
        done = anyio.Event()

        async def receive():
            if "asked" not in answer:
                answer["asked"] = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                if until is None or message["status"] != 200:
                    done.set()
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"").decode()
                if until is None or until(answer["body"]) or not message.get("more_body"):
                    done.set()

        scope = http_scope(
            "GET",
            path,
            query=query,
            headers=[(b"cookie", cookie.encode()), (b"accept", b"text/event-stream")],
        )
        async with anyio.create_task_group() as group:

            async def give_up_later():
                await anyio.sleep(5)
                done.set()

            group.start_soon(give_up_later)
            with anyio.fail_after(15):
                await self.app(scope, receive, send)
            group.cancel_scope.cancel()
        return answer["status"], answer["body"]

    async def person(self, key: str, name: str, role: Role = Role.CITIZEN) -> User:
        """Someone new in the world, logged in: ``key`` is then a role for ``client``, ``post``, ``get``."""
        user = await quick_user(self.session, name=name, role=role)
        self.users[key] = user
        self.tokens[key], _auth_session = await account_service.start_session(
            session=self.session, user=user, settings=self.settings, address="203.0.113.7", user_agent=""
        )
        return user

    @asynccontextmanager
    async def savepoint(self):
        """Whatever happens inside is undone."""
        # The world's own session opens its savepoint (if it has none) outside the test's: one it
        # opened inside would be gone with the test's, and closing the session would then fail.
        await self.session.connection()
        savepoint = await self.connection.begin_nested()
        try:
            yield
        finally:
            if savepoint.is_active:
                await savepoint.rollback()
            self.session.expunge_all()

    async def fingerprint(self) -> dict[str, list]:
        """Every row of every table (but the volatile ones), to prove a refused request changed nothing."""
        rows = {}
        for table in SQLModel.metadata.sorted_tables:
            skipped = VOLATILE.get(table.name, set())
            if skipped is None:
                continue
            columns = [column for column in table.columns if column.name not in skipped]
            statement = sa.select(*columns).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in (await self.connection.execute(statement)).all()]
        return rows

    @contextmanager
    def recording_writes(self):
        """The INSERT, UPDATE and DELETE statements that touched rows while the block ran (those of the
        volatile tables left out): a quick first look before comparing fingerprints."""
        writes: list[str] = []

        def record(_connection, cursor, statement, _parameters, _context, _executemany):
            verb, _, rest = statement.lstrip().partition(" ")
            if verb.upper() not in ("INSERT", "UPDATE", "DELETE") or cursor.rowcount == 0:
                return
            table = rest.split()[1 if verb.upper() in ("INSERT", "DELETE") else 0].strip('"')
            if table not in VOLATILE:
                writes.append(statement.strip()[:120])

        sync = self.connection.sync_connection
        event.listen(sync, "after_cursor_execute", record)
        try:
            yield writes
        finally:
            event.remove(sync, "after_cursor_execute", record)


def form_errors(response: httpx.Response) -> list[str]:
    """The messages a form came back with (or the error page's), to say why a step failed."""
    found = re.findall(
        r'<p class="(?:form-error|error|flash flash-error)"[^>]*>(.*?)</p>', response.text, re.S
    )
    return found or re.findall(r"<main[^>]*>(.*?)</main>", response.text, re.S)[:1]


async def redirected_to(response: httpx.Response) -> str:
    assert response.status_code == 303, (response.request.url, response.status_code, form_errors(response))
    return response.headers["location"]


def last_id(url: str) -> int:
    return int(re.search(r"/(\d+)(?:[/?#].*)?$", url).group(1))


@asynccontextmanager
async def built_world(engine, data_dir, text: Callable[[str, int], str] = benign):
    """The world, in a transaction rolled back when the block ends. ``text(field, max_length)`` writes
    every free-text field (benign words by default; hostile ones for the payload tests)."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        factory = async_sessionmaker(
            bind=connection,
            class_=AsyncSession,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        settings = make_settings(str(engine.url), data_dir=data_dir, rate_limits=NO_RATE_LIMITS)
        try:
            async with factory() as session:
                world = World(create_app(settings, factory), settings, connection, session)
                # The live room's streams need the hub the app's start-up would make.
                world.app.state.live = live.LocalHub(engine, session_factory=factory)
                await _build(world, text)
                try:
                    yield world
                finally:
                    await world.app.state.live.close()
        finally:
            await transaction.rollback()


async def _build(world: World, text: Callable[[str, int], str]) -> None:
    session, ids = world.session, world.ids
    rows = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes()).rows
    await network_service.import_cities(session=session, rows=rows)
    cities = {
        name: await network_service.find_city(session=session, country_code=code, name_en=name)
        for code, name in (("PT", "Porto"), ("CN", "Hefei"), ("CN", "Shenzhen"))
    }
    people = {
        "citizen": ("Carla Citizen", Role.CITIZEN),
        "member": ("Mia Member", Role.CITIZEN),
        "author": ("Artur Author", Role.CITIZEN),
        "moderator": ("Mónica Moderator", Role.CITIZEN),
        "other_moderator": ("Hu Moderator", Role.CITIZEN),
        "facilitator": ("Ingrid Facilitator", Role.FACILITATOR),
        "admin": ("Adam Admin", Role.ADMIN),
        "requester": ("Rui Requester", Role.CITIZEN),
        "banned": ("Bruno Banned", Role.CITIZEN),
        "insider": ("Shen Insider", Role.CITIZEN),
    }
    for role, (name, global_role) in people.items():
        await world.person(role, name, global_role)

    async def workspace(city, key: str, *, visibility="public", join_policy="open") -> str:
        form = {
            "title_en": text(f"{key}_title", 200),
            "title_zh": text(f"{key}_title_zh", 200),
            "summary_en": text(f"{key}_summary", 5000),
            "summary_zh": text(f"{key}_summary_zh", 5000),
            "visibility": visibility,
            "join_policy": join_policy,
            "city_ids": [str(city.id)],
        }
        return (await world.sent("facilitator", "/workspaces/new", form)).removeprefix("/w/")

    ids["slug"] = await workspace(cities["Porto"], "workspace", join_policy="approval")
    ids["other_slug"] = await workspace(cities["Hefei"], "other_workspace")
    ids["private_slug"] = await workspace(cities["Shenzhen"], "private_workspace", visibility="members")
    workspaces = {
        key: await workspace_service.get_by_slug(session=session, slug=ids[key])
        for key in ("slug", "other_slug", "private_slug")
    }
    ids["porto_id"], ids["porto_city_id"] = workspaces["slug"].id, cities["Porto"].id

    async def membership_of(role: str, slug_key: str = "slug") -> Membership:
        return await workspace_service.membership_of(
            session=session, workspace_id=workspaces[slug_key].id, user=world.users[role]
        )

    for role in ("member", "author", "moderator", "requester", "banned"):
        await world.sent(role, "/w/{slug}/join", {"message": text("join_message", 500)})
    for role in ("member", "author", "moderator", "banned"):
        decide = f"/w/{{slug}}/members/{(await membership_of(role)).id}/decide"
        await world.sent("facilitator", decide, {"decision": "approve"})
    await world.sent("other_moderator", "/w/{other_slug}/join")
    # No one joins a members-only workspace by its page (outsiders do not see it): staff add them.
    await workspace_service.add_member(
        session=session, workspace=workspaces["private_slug"], user=world.users["insider"]
    )
    for key, role, slug_key in (
        ("member_membership_id", "member", "slug"),
        ("author_membership_id", "author", "slug"),
        ("moderator_membership_id", "moderator", "slug"),
        ("pending_membership_id", "requester", "slug"),
        ("banned_membership_id", "banned", "slug"),
        ("other_membership_id", "other_moderator", "other_slug"),
    ):
        ids[key] = (await membership_of(role, slug_key)).id
    await world.sent("facilitator", "/w/{slug}/members/{moderator_membership_id}/role", {"role": "moderator"})
    await world.sent(
        "facilitator", "/w/{other_slug}/members/{other_membership_id}/role", {"role": "moderator"}
    )
    await world.sent(
        "moderator",
        "/w/{slug}/members/{banned_membership_id}/ban",
        {"length": "7", "reason": text("ban_reason", 500)},
    )
    await world.sent(
        "moderator", "/w/{slug}/members/{member_membership_id}/warn", {"reason": text("warning", 500)}
    )

    seed = {
        "title": text("topic_title", 200),
        "brief": text("topic_brief", 10_000),
        "phase": "co-diagnostic",
        "workspace_ids": [str(workspaces["slug"].id), str(workspaces["other_slug"].id)],
        "opens_on": "2026-01-01",
        "closes_on": "2036-01-01",
    }
    ids["seed_id"] = await world.created("facilitator", "/topics/seed", seed)
    topic_id = (await topic_service.topics_of(session=session, workspace_id=workspaces["slug"].id))[0].id

    def idea_form(prefix: str, topic: int | str = "") -> dict:
        return {
            "title": text(f"{prefix}_title", 200),
            "body": text(f"{prefix}_body", 20_000),
            "place_name": text(f"{prefix}_place", 200),
            "topic_id": str(topic),
            "tags": ["territorial", "water-management"],
            "latitude": "41.16",
            "longitude": "-8.59",
        }

    picture = ("files", (text("file_name", 150) + ".png", png(2, 2), "image/png"))
    ids["idea_id"] = await world.created(
        "author", "/w/{slug}/ideas/new", idea_form("idea", topic_id), files=[picture]
    )
    ids["attachment_id"] = (await attachment_service.of_idea(session=session, idea_id=ids["idea_id"]))[0].id
    await world.sent(
        "moderator",
        "/w/{slug}/ideas/{idea_id}/status",
        {"status": "shortlisted", "note": text("status_note", 2000)},
    )
    other_topic = await topic_service.topics_of(session=session, workspace_id=workspaces["other_slug"].id)
    ids["other_topic_id"] = other_topic[0].id
    ids["other_idea_id"] = await world.created(
        "other_moderator", "/w/{other_slug}/ideas/new", idea_form("other_idea"), files=[picture]
    )
    ids["other_attachment_id"] = (
        await attachment_service.of_idea(session=session, idea_id=ids["other_idea_id"])
    )[0].id
    ids["private_idea_id"] = await world.created(
        "insider", "/w/{private_slug}/ideas/new", idea_form("private_idea")
    )

    async def comment(role: str, key: str, idea_key: str, slug_key: str, parent: int | None = None) -> int:
        form = {"body": text(key, 10_000), "parent_id": str(parent or "")}
        target = await world.sent(role, f"/w/{{{slug_key}}}/ideas/{{{idea_key}}}/comments", form)
        return int(target.rsplit("#comment-", 1)[1])

    ids["comment_id"] = await comment("author", "comment", "idea_id", "slug")
    ids["reply_id"] = await comment("member", "reply", "idea_id", "slug", parent=ids["comment_id"])
    ids["hidden_comment_id"] = await comment("author", "hidden_comment", "idea_id", "slug")
    ids["other_comment_id"] = await comment("other_moderator", "other_comment", "other_idea_id", "other_slug")
    ids["private_comment_id"] = await comment("insider", "private_comment", "private_idea_id", "private_slug")
    await world.sent(
        "member",
        "/w/{slug}/comments/{comment_id}/report",
        {"reason": "off-topic", "note": text("report_note", 500)},
    )
    await world.sent(
        "moderator", "/w/{slug}/comments/{hidden_comment_id}/hide", {"reason": text("hide_reason", 500)}
    )
    await world.sent(
        "author", "/w/{slug}/comments/{hidden_comment_id}/review", {"note": text("review_note", 500)}
    )
    ids["case_id"] = (
        await session.exec(
            select(ModerationCase.id).where(
                ModerationCase.target_kind == TargetKind.COMMENT,
                ModerationCase.target_id == ids["hidden_comment_id"],
            )
        )
    ).one()
    # An idea of the author's (with a file, and a member's comment) that a member reported and a
    # moderator hid (no review asked yet), one
    # locked against comments, and a report on the banned member.
    ids["hidden_idea_id"] = await world.created(
        "author", "/w/{slug}/ideas/new", idea_form("hidden_idea"), files=[picture]
    )
    ids["hidden_attachment_id"] = (
        await attachment_service.of_idea(session=session, idea_id=ids["hidden_idea_id"])
    )[0].id
    ids["hidden_idea_comment_id"] = await comment("member", "hidden_idea_comment", "hidden_idea_id", "slug")
    await world.sent(
        "member",
        "/w/{slug}/ideas/{hidden_idea_id}/report",
        {"reason": "spam", "note": text("idea_report_note", 500)},
    )
    await world.sent(
        "moderator", "/w/{slug}/ideas/{hidden_idea_id}/hide", {"reason": text("idea_hide_reason", 500)}
    )
    ids["locked_idea_id"] = await world.created("member", "/w/{slug}/ideas/new", idea_form("locked_idea"))
    await world.sent(
        "moderator", "/w/{slug}/ideas/{locked_idea_id}/lock", {"reason": text("lock_reason", 500)}
    )
    await world.sent(
        "member",
        "/w/{slug}/members/{banned_membership_id}/report",
        {"reason": "offensive", "note": text("member_report_note", 500)},
    )
    ids["notification_id"] = (
        await session.exec(select(Notification.id).where(Notification.user_id == world.users["author"].id))
    ).first()

    now = datetime.now(UTC)

    def session_form(prefix: str) -> dict:
        return {
            "title": text(f"{prefix}_title", 200),
            "description": text(f"{prefix}_description", 20_000),
            "phase": "co-design",
            "mode": "hybrid",
            "place_name": text(f"{prefix}_place", 200),
            "online_url": "https://meet.example.org/" + re.sub(r"[^a-z]", "", text("link", 40).lower()),
            "time_zone": "UTC",
            "starts_at": local_time(now - timedelta(minutes=30)),
            "ends_at": local_time(now + timedelta(hours=3)),
            "capacity": "20",
            "agenda_title": [text(f"{prefix}_agenda_item", 200), text(f"{prefix}_second_agenda_item", 200)],
            "agenda_minutes": ["20", "40"],
        }

    async def cocreation_session(slug_key: str, role: str, prefix: str, steps=("scheduled", "live")) -> int:
        session_id = await world.created(role, f"/w/{{{slug_key}}}/sessions/new", session_form(prefix))
        for step in steps:
            await world.sent(role, f"/w/{{{slug_key}}}/sessions/{session_id}/status", {"status": step})
        return session_id

    ids["session_id"] = await cocreation_session("slug", "moderator", "session")
    ids["draft_session_id"] = await cocreation_session("slug", "moderator", "draft_session", steps=())
    ids["other_session_id"] = await cocreation_session("other_slug", "other_moderator", "other_session")
    agenda = await cocreation_service.agenda_of(session=session, session_id=ids["session_id"])
    ids["agenda_item_id"] = agenda[1].id
    await world.sent("member", "/w/{slug}/sessions/{session_id}/register")
    await world.sent(
        "member",
        "/w/{slug}/sessions/{session_id}/live/ideas",
        {"title": text("live_idea", 200), "body": text("live_idea_body", 20_000)},
    )
    board = await cocreation_service.ideas_of(session=session, session_id=ids["session_id"])
    ids["board_idea_id"] = board[0].idea.id
    await world.sent(
        "moderator",
        "/w/{slug}/sessions/{session_id}/minutes",
        {
            "minutes": text("minutes", 50_000),
            "outcomes": text("outcomes", 50_000),
            "idea_ids": [str(ids["idea_id"]), str(ids["board_idea_id"])],
        },
    )

    def ballot_form(prefix: str) -> dict:
        options = (text(f"{prefix}_option_{n}", 200).replace("\n", " ").strip() for n in range(3))
        return {
            "question": text(f"{prefix}_question", 300),
            "description": text(f"{prefix}_description", 4000),
            "method": "consent",
            "options_text": "\n".join(dict.fromkeys(options)),
            "opens_at": "",
            "closes_at": local_time(now + timedelta(days=7)),
            "results_visibility": "live",
            "eligibility": "members",
        }

    for key, role, slug_key in (
        ("ballot_id", "moderator", "slug"),
        ("closed_ballot_id", "moderator", "slug"),
        ("other_ballot_id", "other_moderator", "other_slug"),
        ("private_ballot_id", "facilitator", "private_slug"),
    ):
        ids[key] = await world.created(role, f"/w/{{{slug_key}}}/ballots/new", ballot_form(key))
        options = await voting_storage.options_of(session=session, ballot_id=ids[key])
        ids[key.replace("_id", "_options")] = [option.id for option in options]
    block = {f"consent-{option}": "block" for option in ids["closed_ballot_options"]}
    block["reason"] = text("block_reason", 1000)
    for voter in ("member", "author"):
        await world.sent(
            voter,
            "/w/{slug}/ballots/{closed_ballot_id}/vote",
            {**block, "reason": text("block_reason", 1000)},
        )
    await world.sent("moderator", "/w/{slug}/ballots/{closed_ballot_id}/close")
    # Accounts for the admin's forms, which no role of the access table is: one whose role changed
    # and changes again, and one disabled, to enable.
    ids["account_user_id"] = (await world.person("account", "Alex Account")).id
    ids["disabled_user_id"] = (await world.person("disabled", "Dora Disabled")).id
    await world.sent(
        "admin",
        "/admin/users/{account_user_id}/role",
        {"role": "facilitator", "reason": text("role_reason", 500)},
    )
    await world.sent(
        "admin", "/admin/users/{disabled_user_id}/disable", {"reason": text("disable_reason", 500)}
    )
    ids["admin_user_id"] = world.users["admin"].id
    ids["member_id"], ids["member_email"] = world.users["member"].id, world.users["member"].email
    ids["asset"] = "css/app.css"
    session.expunge_all()

"""Rate limits under a burst, with real commits: forty requests sent at once get exactly the limit
through and a 429 for the rest, never a server error, on SQLite as on PostgreSQL; and a workshop's
room, two hundred people behind one address, registers and votes."""

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from sqlmodel import col, delete, func, or_, select

from app.accounts import service as account_service
from app.accounts.models import User
from app.comments.models import Comment
from app.core import ratelimit
from app.core.security import csrf_token_for, verify_password
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.main import create_app
from app.moderation.models import Report
from app.voting.models import Vote
from app.workspaces.models import Membership, MemberStatus
from tests.conftest import PASSWORD, csrf_token, make_settings
from tests.races import Arena
from tests.voting.test_concurrency import open_ballot

BURST = 40


class Room:
    """An app on the arena's engine, and clients that all come from one address of their own (the
    counts of one test never meet another's)."""

    def __init__(self, arena: Arena, database_url: str, limits: str = "") -> None:
        self.arena = arena
        self.settings = make_settings(database_url, rate_limits=limits)
        self.app = create_app(self.settings, arena.factory)
        self.address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
        self.user_ids: list[int] = []

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(self.address, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def account(self, name: str = "Ana") -> User:
        """A member who can log in with PASSWORD."""
        async with self.arena.work() as session:
            user = await account_service.create(
                session=session,
                email=f"{self.arena.tag}-{uuid.uuid4().hex[:6]}@example.org",
                display_name=name,
                password=PASSWORD,
            )
        self.user_ids.append(user.id)
        return user

    async def signed_in(self, user: User) -> tuple[httpx.AsyncClient, str]:
        """A client with a session of ``user``, and its CSRF token."""
        async with self.arena.work() as session:
            token, _auth = await account_service.start_session(
                session=session, user=user, settings=self.settings, address=self.address, user_agent="test"
            )
        client = self.client()
        client.cookies.set(self.settings.session_cookie_name, token)
        return client, csrf_token_for(self.settings.secret_key, token)

    async def forget(self) -> None:
        async with self.arena.work() as session:
            tagged = select(User.id).where(col(User.email).startswith(f"{self.arena.tag}-"))
            ids = {*self.user_ids, *(await session.exec(tagged)).all()}
            await session.exec(
                delete(ratelimit.RateLimitHit).where(
                    or_(
                        col(ratelimit.RateLimitHit.key) == f"address:{self.address}",
                        col(ratelimit.RateLimitHit.key) == self.address,
                        col(ratelimit.RateLimitHit.key).startswith(f"{self.arena.tag}-"),
                        col(ratelimit.RateLimitHit.key).in_([f"user:{n}" for n in ids]),
                    )
                )
            )
            await session.commit()


@pytest.fixture
async def arena(engine, database_url):
    arena = Arena(database_url)
    yield arena
    await arena.close()


@pytest.fixture
async def room(arena, database_url):
    rooms = []

    def make(limits: str = "") -> Room:
        rooms.append(Room(arena, database_url, limits))
        return rooms[-1]

    yield make
    for room in rooms:
        await room.forget()


def statuses(answers) -> Counter:
    return Counter(answer.status_code for answer in answers)


async def test_forty_logins_at_once_for_one_account_check_five_passwords(room):
    room = room()
    user = await room.account()
    async with room.client() as client:
        token = await csrf_token(client, "/login")

        async def attempt(password: str):
            return await client.post(
                "/login", data={"csrf_token": token, "email": user.email, "password": password}
            )

        answers = await asyncio.gather(*(attempt(f"wrong guess {n}") for n in range(BURST)))
        right = await attempt(PASSWORD)
    most = account_service.LOGIN_LIMIT_PER_ACCOUNT
    assert statuses(answers) == {422: most, 429: BURST - most}
    assert right.status_code == 429 and "Try again in 15 minutes" in right.text


async def test_forty_account_deletions_at_once_check_five_passwords(room):
    room = room()
    user = await room.account()
    client, token = await room.signed_in(user)
    async with client:

        async def attempt(password: str):
            return await client.post("/profile/delete", data={"csrf_token": token, "password": password})

        answers = await asyncio.gather(*(attempt(f"wrong guess {n}") for n in range(BURST)))
        right = await attempt(PASSWORD)
    most = account_service.RECHECK_LIMIT_PER_ACCOUNT
    assert statuses(answers) == {422: most, 429: BURST - most}
    assert right.status_code == 429 and "Too many wrong passwords" in right.text
    async with room.arena.work() as session:
        assert await session.get(User, user.id) is not None


async def test_forty_password_changes_at_once_check_five_passwords(room):
    room = room()
    user = await room.account()
    client, token = await room.signed_in(user)
    async with client:

        async def attempt(n: int):
            form = {
                "csrf_token": token,
                "current_password": f"wrong guess {n}",
                "new_password": "a new walk in the park",
                "confirm_password": "a new walk in the park",
            }
            return await client.post("/profile/password", data=form)

        answers = await asyncio.gather(*(attempt(n) for n in range(BURST)))
        most = account_service.RECHECK_LIMIT_PER_ACCOUNT
        assert statuses(answers) == {422: most, 429: BURST - most}
        # The right password now is refused too, and the password stays.
        right = await client.post(
            "/profile/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "a new walk in the park",
                "confirm_password": "a new walk in the park",
            },
        )
    assert right.status_code == 429 and "Too many wrong passwords" in right.text
    async with room.arena.work() as session:
        stored = await session.get(User, user.id)
        assert verify_password(stored.password_hash, PASSWORD)


async def test_forty_registrations_at_once_from_one_address_make_the_limit_and_no_more(room):
    room = room("register=0/10/3600")

    async def register(n: int):
        async with room.client() as client:
            token = await csrf_token(client, "/register")
            return await client.post(
                "/register",
                data={
                    "csrf_token": token,
                    "email": f"{room.arena.tag}-r{n}@example.org",
                    "display_name": f"Person {n}",
                    "password": PASSWORD,
                },
            )

    answers = await asyncio.gather(*(register(n) for n in range(BURST)))
    counted = statuses(answers)
    assert counted == {303: 10, 429: BURST - 10}
    async with room.arena.work() as session:
        made = select(func.count()).where(col(User.email).startswith(f"{room.arena.tag}-r"))
        assert (await session.exec(made)).one() == 10


async def members_with_an_idea(room, count: int):
    facilitator = await room.arena.user(role="facilitator")
    workspace = await room.arena.workspace(facilitator)
    people = await room.arena.members(workspace, count)
    async with room.arena.work() as session:
        idea = await idea_service.create(
            session=session,
            workspace=workspace,
            author=facilitator,
            data=idea_service.IdeaInput(title="Swales"),
        )
    room.user_ids += [facilitator.id, *(person.id for person in people)]
    return workspace, people, idea


async def test_forty_ideas_at_once_by_one_member_make_the_limit_and_no_more(room):
    room = room("post=10/1000/3600")
    workspace, (author,), _idea = await members_with_an_idea(room, 1)
    client, token = await room.signed_in(author)
    async with client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/w/{workspace.slug}/ideas/new",
                    data={"csrf_token": token, "title": f"Rain garden {n}", "body": "By the school"},
                )
                for n in range(BURST)
            )
        )
    assert statuses(answers) == {303: 10, 429: BURST - 10}
    async with room.arena.work() as session:
        posted = select(func.count()).where(Idea.author_id == author.id)
        assert (await session.exec(posted)).one() == 10


async def test_forty_comments_at_once_by_one_member_make_the_limit_and_no_more(room):
    room = room("comment=10/1000/600")
    workspace, (author,), idea = await members_with_an_idea(room, 1)
    client, token = await room.signed_in(author)
    async with client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/w/{workspace.slug}/ideas/{idea.id}/comments",
                    data={"csrf_token": token, "body": f"Comment {n}"},
                )
                for n in range(BURST)
            )
        )
    assert statuses(answers) == {303: 10, 429: BURST - 10}
    async with room.arena.work() as session:
        posted = select(func.count()).where(Comment.author_id == author.id)
        assert (await session.exec(posted)).one() == 10


async def test_forty_members_behind_one_address_report_and_join_at_once_without_an_error(room):
    room = room("report=20/30/3600")
    workspace, people, idea = await members_with_an_idea(room, BURST)
    clients = [await room.signed_in(person) for person in people]
    # The threshold out of reach: every report is counted, none hides the idea meanwhile.
    async with room.arena.work() as session:
        workspace.report_threshold = 1000
        session.add(workspace)
        await session.commit()

    async def report(client, token):
        return await client.post(
            f"/w/{workspace.slug}/ideas/{idea.id}/report",
            data={"csrf_token": token, "reason": "spam", "note": ""},
        )

    reports = await asyncio.gather(*(report(client, token) for client, token in clients))
    assert statuses(reports) == {303: 30, 429: BURST - 30}
    async with room.arena.work() as session:
        reported = select(func.count()).where(col(Report.reporter_id).in_([p.id for p in people]))
        assert (await session.exec(reported)).one() == 30

    # Forty more people join an open workspace at once: all of them are in.
    newcomers = [await room.account(f"Newcomer {n}") for n in range(BURST)]
    joining = [await room.signed_in(person) for person in newcomers]
    joins = await asyncio.gather(
        *(client.post(f"/w/{workspace.slug}/join", data={"csrf_token": token}) for client, token in joining)
    )
    assert statuses(joins) == {303: BURST}
    async with room.arena.work() as session:
        joined = select(func.count()).where(
            Membership.workspace_id == workspace.id,
            col(Membership.user_id).in_([person.id for person in newcomers]),
            Membership.status == MemberStatus.ACTIVE,
        )
        assert (await session.exec(joined)).one() == BURST
    for client, _token in clients + joining:
        await client.aclose()


async def test_a_workshop_of_two_hundred_behind_one_address_registers_and_votes(room):
    """The default limits: a room of two hundred on one wifi registers and votes; a script from one
    address is stopped at the limit designed for such a room."""
    room = room()
    room_size = 200
    most = ratelimit.DEFAULT_LIMITS["register"].per_address
    assert room_size < most <= 2 * room_size

    async def register(n: int) -> httpx.AsyncClient:
        client = room.client()
        token = await csrf_token(client, "/register")
        answer = await client.post(
            "/register",
            data={
                "csrf_token": token,
                "email": f"{room.arena.tag}-w{n}@example.org",
                "display_name": f"Participant {n}",
                "password": PASSWORD,
            },
        )
        client.answer = answer
        return client

    clients = await asyncio.gather(*(register(n) for n in range(room_size)))
    assert statuses(client.answer for client in clients) == {303: room_size}

    facilitator = await room.arena.user(role="facilitator")
    workspace = await room.arena.workspace(facilitator)
    ballot, options = await open_ballot(room.arena, workspace, facilitator)
    async with room.arena.work() as session:
        ids = (
            await session.exec(select(User.id).where(col(User.email).startswith(f"{room.arena.tag}-w")))
        ).all()
        session.add_all(
            Membership(workspace_id=workspace.id, user_id=n, status=MemberStatus.ACTIVE) for n in ids
        )
        await session.commit()

    async def vote(client: httpx.AsyncClient, n: int):
        token = csrf_token_for(room.settings.secret_key, client.cookies[room.settings.session_cookie_name])
        return await client.post(
            f"/api/v1/ballots/{ballot.id}/vote",
            data={"option": str(options[n % len(options)])},
            headers={"X-CSRF-Token": token},
        )

    votes = await asyncio.gather(*(vote(client, n) for n, client in enumerate(clients)))
    assert statuses(votes) == {201: room_size}
    async with room.arena.work() as session:
        cast = select(func.count()).select_from(Vote).where(Vote.ballot_id == ballot.id)
        assert (await session.exec(cast)).one() == room_size
    for client in clients:
        await client.aclose()

    # A script signing up from the same address gets the rest of the hour's allowance, then 429s.
    script = await asyncio.gather(*(register(room_size + n) for n in range(most - room_size + 5)))
    assert statuses(client.answer for client in script) == {303: most - room_size, 429: 5}
    for client in script:
        await client.aclose()

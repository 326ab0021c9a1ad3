"""Rate limits on posting, commenting, reporting, voting and registering: per user and per address,
configurable, answered with 429, a Retry-After and a message people understand; nothing is stored."""

import pytest
from sqlmodel import func, select

from app.comments.models import Comment
from app.core import ratelimit
from app.core.config import ConfigurationError
from app.main import create_app
from app.voting.models import Vote
from tests.comments.test_routes import make_idea, member
from tests.conftest import client_for, csrf_token, log_in, make_settings, post_form
from tests.voting.test_routes import make_ballot, option_ids


def limited_app(database_url, session_factory, limits: str):
    return create_app(make_settings(database_url, rate_limits=limits), session_factory)


async def comment_count(session) -> int:
    return (await session.exec(select(func.count()).select_from(Comment))).one()


async def test_comments_per_user_answer_429_with_a_wait_and_store_nothing(
    database_url, session_factory, session, porto
):
    app = limited_app(database_url, session_factory, "comment=2/100/600")
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    async with client_for(app) as client:
        await log_in(client, author)
        url = f"/w/{porto.slug}/ideas/{idea.id}/comments"
        answers = [await post_form(client, url, {"body": f"Comment {n}"}) for n in range(3)]
        token = await csrf_token(client)
        fragment = await client.post(
            url, data={"csrf_token": token, "body": "Again"}, headers={"HX-Request": "true"}
        )
    assert [a.status_code for a in answers] == [303, 303, 429]
    refused = answers[2]
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert "Try again in 10 minutes" in refused.text and "<html" in refused.text
    assert fragment.status_code == 429 and "<html" not in fragment.text and "Try again in" in fragment.text
    assert await comment_count(session) == 2


async def test_one_address_is_limited_across_its_users(database_url, session_factory, session, porto):
    app = limited_app(database_url, session_factory, "comment=100/2/600")
    idea = await make_idea(session, porto, await member(session, porto))
    statuses = []
    for n in range(3):
        async with client_for(app) as client:  # every test client comes from the same address
            await log_in(client, await member(session, porto, name=f"Neighbour {n}"))
            answer = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "Hi"})
            statuses.append(answer.status_code)
    assert statuses == [303, 303, 429]


async def test_registering_is_limited_per_address(database_url, session_factory, session):
    app = limited_app(database_url, session_factory, "register=0/2/3600")
    statuses = []
    async with client_for(app) as client:
        for n in range(3):
            client.cookies.clear()
            answer = await post_form(
                client,
                "/register",
                {
                    "email": f"limit{n}@example.org",
                    "display_name": f"Person {n}",
                    "password": "a walk in the park",
                },
            )
            statuses.append(answer.status_code)
    assert statuses == [303, 303, 429]


async def test_votes_are_limited_and_the_api_answers_in_json(
    database_url, session_factory, session, porto, facilitator
):
    app = limited_app(database_url, session_factory, "vote=2/100/60")
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, second, _ = await option_ids(session, ballot)
    async with client_for(app) as client:
        await log_in(client, await member(session, porto))
        token = await csrf_token(client)
        answers = [
            await client.post(
                f"/api/v1/ballots/{ballot.id}/vote",
                data={"option": str(option)},
                headers={"X-CSRF-Token": token},
            )
            for option in (first, second, first)
        ]
    assert [a.status_code for a in answers] == [201, 200, 429]
    assert "Try again in" in answers[2].json()["detail"] and answers[2].headers["Retry-After"]
    assert (await session.exec(select(Vote))).one().choices == {"options": [second]}


def test_limits_are_configured_with_clear_errors():
    assert ratelimit.parse_limits("")["comment"] == ratelimit.DEFAULT_LIMITS["comment"]
    assert ratelimit.parse_limits("comment=5/0/60")["comment"] == ratelimit.Limit(5, 0, 60)
    for bad in ("comment=5/60", "shout=1/1/1", "comment=a/b/c", "vote=1/1/0"):
        with pytest.raises(ValueError):
            ratelimit.parse_limits(bad)
    with pytest.raises(ConfigurationError, match="COCREATE_RATE_LIMITS"):
        make_settings("sqlite+aiosqlite://", rate_limits="comment=x")


def test_memory_windows_slide():
    windows = ratelimit.LocalWindows()
    limit = ratelimit.Limit(per_user=2, per_address=0, seconds=60)
    windows.enforce(action="vote", limit=limit, user_id=1, address="a")
    windows.enforce(action="vote", limit=limit, user_id=1, address="a")
    with pytest.raises(ratelimit.RateLimited):
        windows.enforce(action="vote", limit=limit, user_id=1, address="a")
    windows.enforce(action="vote", limit=limit, user_id=2, address="a")  # another user counts apart
    for window in windows._hits.values():  # a minute later
        for n in range(len(window)):
            window[n] -= 61
    windows.enforce(action="vote", limit=limit, user_id=1, address="a")

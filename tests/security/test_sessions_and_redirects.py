"""Open redirects through ``next=``, session fixation, CSRF tokens of another session, and other
people's ids in forms."""

import pytest
from sqlmodel import select

from app.comments.models import Comment
from app.moderation.models import ModerationCase
from tests.comments.test_routes import add, make_idea, member
from tests.conftest import PASSWORD, client_for, csrf_token, log_in, make_user, post_form
from tests.moderation.test_moderation import make_moderator, report
from tests.workspaces.conftest import make_workspace

SESSION_COOKIE = "cocreate_session"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
async def test_login_never_sends_anyone_off_site(client, session, target):
    user = await make_user(session)
    answer = await post_form(client, "/login", {"email": user.email, "password": PASSWORD, "next": target})
    assert answer.status_code == 303 and answer.headers["location"] == "/"


async def test_login_goes_back_to_a_local_page(client, session):
    user = await make_user(session)
    answer = await post_form(
        client, "/login", {"email": user.email, "password": PASSWORD, "next": "/network"}
    )
    assert answer.headers["location"] == "/network"


async def test_a_session_id_planted_before_login_is_not_the_one_after(app, session):
    victim = await make_user(session)
    async with client_for(app) as client:
        client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
        answer = await log_in(client, victim, via_form=True)
    issued = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")]
    assert len(issued) == 1 and not issued[0].startswith(f"{SESSION_COOKIE}=planted-by-an-attacker")
    async with client_for(app) as attacker:
        attacker.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
        assert victim.display_name not in (await attacker.get("/profile", follow_redirects=True)).text


async def test_a_csrf_token_of_another_session_is_refused(app, session, porto):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    async with client_for(app) as other, client_for(app) as client:
        await log_in(other, await member(session, porto))
        foreign = await csrf_token(other)
        await log_in(client, author)
        answer = await client.post(
            f"/w/{porto.slug}/ideas/{idea.id}/comments", data={"csrf_token": foreign, "body": "x"}
        )
    assert answer.status_code == 403
    assert (await session.exec(select(Comment))).all() == []


async def test_other_peoples_comments_and_other_workspaces_cases_are_out_of_reach(
    app, session, porto, network, facilitator
):
    author = await member(session, porto)
    idea = await make_idea(session, porto, author)
    comment = await add(session, porto, idea, author, body="Mine")
    for _ in range(3):
        await report(app, session, porto, comment)
    case = (await session.exec(select(ModerationCase))).one()
    hefei = await make_workspace(session, facilitator, [network["Hefei"]], title="Hefei")
    elsewhere = await make_moderator(session, hefei)
    async with client_for(app) as client:
        await log_in(client, elsewhere)
        # Another workspace's case through this moderator's own queue: nothing changes.
        bulk = await post_form(
            client,
            f"/w/{hefei.slug}/moderation",
            {"action": "restore", "reason": "Mine now", "case": str(case.id)},
        )
        # The comment through this moderator's workspace address: not found there.
        restore = await post_form(client, f"/w/{hefei.slug}/comments/{comment.id}/restore", {"reason": "x"})
    assert bulk.status_code == 303 and restore.status_code == 404
    await session.refresh(comment)
    assert comment.hidden_at is not None
    async with client_for(app) as client:
        await log_in(client, await member(session, porto))
        edit = await post_form(client, f"/w/{porto.slug}/comments/{comment.id}/edit", {"body": "Not yours"})
        review = await post_form(client, f"/w/{porto.slug}/comments/{comment.id}/review", {"note": "x"})
    assert edit.status_code == 403 and review.status_code == 303  # the review is refused with a message
    await session.refresh(comment)
    assert comment.body == "Mine"
    assert (await session.exec(select(ModerationCase))).one().state == "hidden"

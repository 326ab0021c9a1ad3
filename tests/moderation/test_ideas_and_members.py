"""Reporting ideas and members, hiding an idea everywhere it was listed, the author's view of it, and
locking an idea against new comments."""

import pytest
from sqlmodel import col, func, select

from app.comments.models import Comment
from app.moderation import service as moderation_service
from app.moderation.models import CaseState, ModerationCase, Report, TargetKind
from app.notifications.models import Follow, Notification
from app.workspaces.models import Membership, Workspace
from tests.comments.test_routes import add, make_idea, member
from tests.conftest import client_for, log_in, post_form
from tests.moderation.test_moderation import audit_actions, make_moderator
from tests.workspaces.conftest import make_workspace

TITLE = "Sell your flat fast, call now"


@pytest.fixture
async def idea_of(session, porto):
    author = await member(session, porto, name="Ana Author")
    idea = await make_idea(session, porto, author, title=TITLE)
    return author, idea


async def report_idea(app, session, porto, idea, *, reason="spam", note="", user=None):
    user = user or await member(session, porto, name="Reporter")
    async with client_for(app) as client:
        await log_in(client, user)
        answer = await post_form(
            client, f"/w/{porto.slug}/ideas/{idea.id}/report", {"reason": reason, "note": note}
        )
    return user, answer


async def hidden_by_a_moderator(session, workspace, idea):
    """A moderator of the workspace, who has hidden the idea."""
    moderator = await make_moderator(session, workspace)
    await moderation_service.hide(
        session=session,
        workspace=workspace,
        target=moderation_service.idea_target(idea),
        moderator=moderator,
        reason="Spam",
    )
    return moderator


async def membership_of(session, user, workspace) -> Membership:
    return (
        await session.exec(
            select(Membership).where(Membership.user_id == user.id, Membership.workspace_id == workspace.id)
        )
    ).one()


async def idea_count(session, workspace) -> int:
    return (await session.exec(select(Workspace.idea_count).where(Workspace.id == workspace.id))).one()


async def test_three_reports_hide_an_idea_from_every_list_but_not_from_its_author(
    app, session, porto, idea_of, audit_mark
):
    author, idea = idea_of
    count_before = await idea_count(session, porto)
    for _ in range(3):
        _, answer = await report_idea(app, session, porto, idea)
        assert answer.status_code == 303
    await session.refresh(idea)
    assert idea.hidden_at is not None
    assert await idea_count(session, porto) == count_before - 1
    told = (await session.exec(select(Notification).where(Notification.user_id == author.id))).all()
    assert [n.kind for n in told] == ["idea_hidden"]
    assert await audit_actions(session, audit_mark) == ["report", "report", "report", "auto_hide"]

    reader = await member(session, porto, name="Reader")
    async with client_for(app) as client:
        assert (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).status_code == 404
        await log_in(client, reader)
        assert (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).status_code == 404
        assert TITLE not in (await client.get(f"/w/{porto.slug}")).text
        assert TITLE not in (await client.get("/search", params={"q": "flat fast"})).text
    async with client_for(app) as client:
        await log_in(client, author)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        assert page.status_code == 200
        assert "This idea is hidden." in page.text
        assert "Several members reported it" in page.text
        assert "Ask for a review" in page.text


async def test_a_moderator_hides_and_restores_an_idea_with_reasons_its_author_reads(
    app, session, porto, idea_of, audit_mark
):
    author, idea = idea_of
    moderator = await make_moderator(session, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        empty = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/hide", {"reason": "  "})
        assert empty.status_code == 422 and "This idea is hidden." not in empty.text
        hidden = await post_form(
            client, f"/w/{porto.slug}/ideas/{idea.id}/hide", {"reason": "Advertising, not an NBS idea"}
        )
        assert hidden.status_code == 303
        again = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/hide", {"reason": "Twice"})
        assert again.status_code == 409 and "already hidden" in again.text
    async with client_for(app) as client:
        await log_in(client, author)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        assert "Advertising, not an NBS idea" in page.text
        review = await post_form(
            client, f"/w/{porto.slug}/ideas/{idea.id}/review", {"note": "I removed the phone number"}
        )
        assert review.status_code == 303
    case = (await session.exec(select(ModerationCase).where(ModerationCase.target_id == idea.id))).one()
    assert (case.target_kind, case.state, case.review_note) == (
        TargetKind.IDEA,
        CaseState.REVIEW,
        "I removed the phone number",
    )
    asked = await session.exec(select(Notification).where(Notification.user_id == moderator.id))
    assert "idea_review_requested" in [n.kind for n in asked.all()]
    async with client_for(app) as client:
        await log_in(client, moderator)
        restored = await post_form(
            client, f"/w/{porto.slug}/ideas/{idea.id}/restore", {"reason": "Fine after the edit"}
        )
        assert restored.status_code == 303
    await session.refresh(idea)
    assert idea.hidden_at is None
    async with client_for(app) as client:
        await log_in(client, author)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        assert "Shown again by the moderators:" in page.text and "Fine after the edit" in page.text
        assert TITLE in (await client.get(f"/w/{porto.slug}")).text
    told = await session.exec(select(Notification.kind).where(Notification.user_id == author.id))
    assert sorted(told.all()) == ["idea_hidden", "idea_restored"]
    assert await audit_actions(session, audit_mark) == ["hide", "review_request", "restore"]


async def test_idea_reports_refused_with_a_message_and_nothing_stored(app, session, porto, idea_of):
    author, idea = idea_of
    _, own = await report_idea(app, session, porto, idea, user=author)
    assert own.status_code == 403
    _, bad_reason = await report_idea(app, session, porto, idea, reason="i-dont-like-it")
    assert bad_reason.status_code == 422 and "Choose a reason." in bad_reason.text
    _, long_note = await report_idea(app, session, porto, idea, note="x" * 501)
    assert long_note.status_code == 422
    assert (await session.exec(select(func.count()).select_from(Report))).one() == 0
    reporter, first = await report_idea(app, session, porto, idea)
    assert first.status_code == 303
    _, twice = await report_idea(app, session, porto, idea, user=reporter)
    assert twice.status_code == 409 and "already reported this idea" in twice.text
    assert (await session.exec(select(func.count()).select_from(Report))).one() == 1
    async with client_for(app) as client:
        await log_in(client, reporter)
        assert "You reported this idea." in (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text


async def test_a_locked_idea_takes_no_new_comments_until_unlocked(app, session, porto, idea_of, audit_mark):
    author, idea = idea_of
    first = await add(session, porto, idea, author, body="Before the lock")
    moderator = await make_moderator(session, porto)
    citizen = await member(session, porto, name="Chatty")
    async with client_for(app) as client:
        await log_in(client, citizen)
        refused = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/lock", {"reason": "Heated"})
        assert refused.status_code == 403
    async with client_for(app) as client:
        await log_in(client, moderator)
        no_reason = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/lock", {"reason": ""})
        assert no_reason.status_code == 422
        locked = await post_form(
            client, f"/w/{porto.slug}/ideas/{idea.id}/lock", {"reason": "The decision is taken"}
        )
        assert locked.status_code == 303
    comments_before = (await session.exec(select(func.count()).select_from(Comment))).one()
    async with client_for(app) as client:
        await log_in(client, citizen)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        assert "Locked by the moderators" in page.text and "The decision is taken" in page.text
        assert "This idea takes no new comments." in page.text
        assert 'id="new-comment"' not in page.text
        comment = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "Still?"})
        assert comment.status_code == 409 and "takes no new comments" in comment.text
        reply = await post_form(
            client,
            f"/w/{porto.slug}/ideas/{idea.id}/comments",
            {"body": "A reply", "parent_id": str(first.id)},
        )
        assert reply.status_code == 409
    assert (await session.exec(select(func.count()).select_from(Comment))).one() == comments_before
    async with client_for(app) as client:
        await log_in(client, moderator)
        assert (await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/unlock")).status_code == 303
        twice = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/unlock")
        assert twice.status_code == 409 and "not locked" in twice.text
    async with client_for(app) as client:
        await log_in(client, citizen)
        comment = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "Now yes"})
        assert comment.status_code == 303
    assert await audit_actions(session, audit_mark) == ["lock", "unlock"]


async def test_comments_of_a_hidden_idea_are_hidden_with_it(app, session, porto, idea_of):
    author, idea = idea_of
    comment = await add(session, porto, idea, author, body="My own comment")
    moderator = await hidden_by_a_moderator(session, porto, idea)
    reader = await member(session, porto, name="Reader")
    async with client_for(app) as client:
        await log_in(client, reader)
        assert (await client.get(f"/w/{porto.slug}/comments/{comment.id}")).status_code == 404
        attempt = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "Hi"})
        assert attempt.status_code == 404
    async with client_for(app) as client:
        await log_in(client, moderator)
        assert (await client.get(f"/w/{porto.slug}/comments/{comment.id}")).status_code in (200, 303)


async def test_a_hidden_idea_is_followed_only_by_those_who_see_it(app, session, porto, idea_of):
    """Following a hidden idea told others that it exists (a redirect where another id gets 404) and
    would have sent them its status changes."""
    _author, idea = idea_of
    moderator = await hidden_by_a_moderator(session, porto, idea)
    reader = await member(session, porto, name="Reader")
    async with client_for(app) as client:
        await log_in(client, reader)
        attempt = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/follow", {})
        assert attempt.status_code == 404
    async with client_for(app) as client:
        await log_in(client, moderator)
        followed = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/follow", {})
        assert followed.status_code == 303
    followers = (await session.exec(select(Follow.user_id).where(Follow.idea_id == idea.id))).all()
    assert followers == [moderator.id]


async def test_followers_are_not_told_of_a_hidden_ideas_status(app, session, porto, idea_of):
    """A status change names the idea; who followed it before it was hidden may no longer see it."""
    author, idea = idea_of
    moderator = await make_moderator(session, porto)
    reader = await member(session, porto, name="Reader")
    async with client_for(app) as client:
        await log_in(client, reader)
        assert (await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/follow", {})).status_code == 303
    await moderation_service.hide(
        session=session,
        workspace=porto,
        target=moderation_service.idea_target(idea),
        moderator=moderator,
        reason="Spam",
    )
    async with client_for(app) as client:
        await log_in(client, moderator)
        moved = await post_form(
            client, f"/w/{porto.slug}/ideas/{idea.id}/status", {"status": "shortlisted", "note": ""}
        )
        assert moved.status_code == 303
    told = (
        await session.exec(
            select(Notification.user_id).where(
                Notification.idea_id == idea.id, col(Notification.kind).like("%status")
            )
        )
    ).all()
    assert told == [author.id]


async def test_a_banned_author_can_no_longer_edit_their_idea(app, session, porto, idea_of, facilitator):
    author, idea = idea_of
    membership = await membership_of(session, author, porto)
    from app.moderation import sanctions

    await sanctions.ban(session=session, membership=membership, moderator=facilitator, length="7", reason="x")
    async with client_for(app) as client:
        await log_in(client, author)
        assert (await client.get(f"/w/{porto.slug}/ideas/{idea.id}/edit")).status_code == 403
        answer = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/edit", {"title": "Changed"})
        assert answer.status_code == 403
    await session.refresh(idea)
    assert idea.title == TITLE


async def test_members_report_a_member_and_the_moderators_see_it_in_the_queue(
    app, session, porto, idea_of, facilitator, network
):
    author, _idea = idea_of
    target = await membership_of(session, author, porto)
    reporter = await member(session, porto, name="Reporter")
    async with client_for(app) as client:
        await log_in(client, reporter)
        page = await client.get(f"/w/{porto.slug}/members")
        assert f"/members/{target.id}/report" in page.text
        answer = await post_form(
            client,
            f"/w/{porto.slug}/members/{target.id}/report",
            {"reason": "offensive", "note": "Insults people in every thread"},
        )
        assert answer.status_code == 303
        twice = await post_form(client, f"/w/{porto.slug}/members/{target.id}/report", {"reason": "spam"})
        assert twice.status_code == 303
        assert "already reported this member" in (await client.get(f"/w/{porto.slug}/members")).text
    own = await membership_of(session, reporter, porto)
    async with client_for(app) as client:
        await log_in(client, reporter)
        assert (
            await post_form(client, f"/w/{porto.slug}/members/{own.id}/report", {"reason": "spam"})
        ).status_code == 403
        elsewhere = await make_workspace(session, facilitator, [network["Hefei"]], title="Hefei parks")
        assert (
            await post_form(client, f"/w/{elsewhere.slug}/members/{target.id}/report", {"reason": "spam"})
        ).status_code in (403, 404)
    case = (await session.exec(select(ModerationCase).where(ModerationCase.target_kind == "member"))).one()
    assert (case.target_id, case.author_id, case.report_count) == (target.id, author.id, 1)
    async with client_for(app) as client:
        await log_in(client, facilitator)
        queue = await client.get(f"/w/{porto.slug}/moderation")
        assert "The member Ana Author" in queue.text and "Offensive or abusive" in queue.text
        assert "Insults people in every thread" in queue.text  # the reporter's note reaches them
        hide = await post_form(
            client, f"/w/{porto.slug}/moderation", {"case": str(case.id), "action": "hide", "reason": "x"}
        )
        assert hide.status_code == 303
        await session.refresh(case)
        assert case.state == CaseState.OPEN  # a person cannot be hidden: warn or ban them instead
        dismiss = await post_form(
            client, f"/w/{porto.slug}/moderation", {"case": str(case.id), "action": "dismiss", "reason": ""}
        )
        assert dismiss.status_code == 303
    await session.refresh(case)
    assert case.state == CaseState.DISMISSED


async def test_the_queue_runs_the_same_queries_with_ideas_comments_and_members(
    app, session, porto, idea_of, query_counter
):
    author, _idea = idea_of
    moderator = await make_moderator(session, porto)
    reporter = await member(session, porto, name="Reporter")

    async def reported(n: int):
        other = await make_idea(session, porto, author, title=f"Idea {n}")
        comment = await add(session, porto, other, author, body=f"Comment {n}")
        memberships = await session.exec(select(Membership).where(Membership.workspace_id == porto.id))
        for target in (
            moderation_service.idea_target(other),
            moderation_service.comment_target(comment),
        ):
            await moderation_service.report(
                session=session, workspace=porto, target=target, reporter=reporter, reason="spam", note=""
            )
        if n == 0:
            author_membership = next(m for m in memberships.all() if m.user_id == author.id)
            await moderation_service.report(
                session=session,
                workspace=porto,
                target=moderation_service.member_target(author_membership),
                reporter=reporter,
                reason="offensive",
                note="",
            )

    async with client_for(app) as client:
        await log_in(client, moderator)

        async def queries() -> int:
            query_counter.count = 0
            answer = await client.get(f"/w/{porto.slug}/moderation?state=all")
            assert answer.status_code == 200
            return query_counter.count

        await reported(0)
        few = await queries()
        for n in range(1, 12):
            await reported(n)
        many = await queries()
    assert many == few

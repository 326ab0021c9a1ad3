"""Reporting comments, hiding at the threshold, moderators' decisions, the author's review, the audit log."""

import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select

from app.audit.models import AuditEvent
from app.moderation import service as moderation_service
from app.moderation.models import CaseState, ModerationCase, Report
from app.notifications.models import Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import MemberRole, Membership
from tests.comments.test_routes import add, make_idea, member
from tests.conftest import client_for, csrf_token, log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace

HTMX = {"HX-Request": "true"}


@pytest.fixture
async def thread(session, porto):
    author = await member(session, porto, name="Ana Author")
    idea = await make_idea(session, porto, author)
    comment = await add(session, porto, idea, author, body="Buy cheap watches at example dot com")
    return author, idea, comment


async def report(app, session, porto, comment, *, reason="spam", note="", user=None):
    user = user or await member(session, porto, name="Reporter")
    async with client_for(app) as client:
        await log_in(client, user)
        answer = await post_form(
            client, f"/w/{porto.slug}/comments/{comment.id}/report", {"reason": reason, "note": note}
        )
    return user, answer


async def make_moderator(session, workspace):
    user = await member(session, workspace, name="Mo Moderator")
    membership = (
        await session.exec(
            select(Membership).where(Membership.user_id == user.id, Membership.workspace_id == workspace.id)
        )
    ).one()
    await workspace_service.set_role(
        session=session, workspace=workspace, membership=membership, role=MemberRole.MODERATOR, by=user
    )
    return user


async def audit_actions(session, mark: int) -> list[str]:
    events = await session.exec(select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id))
    return [event.action for event in events.all()]


async def test_three_members_reports_hide_a_comment_and_tell_its_author(
    app, session, porto, thread, audit_mark
):
    author, idea, comment = thread
    for _ in range(2):
        _, answer = await report(app, session, porto, comment)
        assert answer.status_code == 303
    await session.refresh(comment)
    assert comment.hidden_at is None  # two reports: still shown
    _, answer = await report(app, session, porto, comment, reason="offensive", note="Scam link")
    await session.refresh(comment)
    assert comment.hidden_at is not None
    case = (await session.exec(select(ModerationCase))).one()
    assert (case.state, case.report_count) == (CaseState.HIDDEN, 3)
    told = (await session.exec(select(Notification).where(Notification.user_id == author.id))).all()
    assert [n.kind for n in told] == ["comment_hidden"]
    assert await audit_actions(session, audit_mark) == ["report", "report", "report", "auto_hide"]

    reader = await member(session, porto, name="Reader")
    async with client_for(app) as client:
        await log_in(client, reader)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
    assert "This comment was hidden." in page.text and "cheap watches" not in page.text
    async with client_for(app) as client:
        await log_in(client, author)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
    assert "cheap watches" in page.text and "Several members reported it" in page.text


async def test_a_member_counts_once_however_often_they_report(app, session, porto, thread):
    _author, _idea, comment = thread
    reporter, first = await report(app, session, porto, comment)
    _, again = await report(app, session, porto, comment, user=reporter)
    assert first.status_code == 303 and again.status_code == 303
    async with client_for(app) as client:
        await log_in(client, reporter)
        htmx_again = await client.post(
            f"/w/{porto.slug}/comments/{comment.id}/report",
            data={"csrf_token": await csrf_token(client), "reason": "spam"},
            headers=HTMX,
        )
    assert htmx_again.status_code == 409 and "already reported" in htmx_again.text
    assert len((await session.exec(select(Report))).all()) == 1
    assert (await session.exec(select(ModerationCase))).one().report_count == 1


async def test_reports_refused_with_a_message_and_nothing_stored(
    app, session, porto, thread, network, facilitator
):
    author, _idea, comment = thread
    _, bad_reason = await report(app, session, porto, comment, reason="boring")
    assert bad_reason.status_code == 303  # the plain form goes back to the comment with the message
    _, own = await report(app, session, porto, comment, user=author)
    assert own.status_code == 403
    outsider = await make_user(session, display_name="Not a member")
    _, outside = await report(app, session, porto, comment, user=outsider)
    assert outside.status_code == 403
    async with client_for(app) as client:
        await log_in(client, await member(session, porto))
        long_note = await client.post(
            f"/w/{porto.slug}/comments/{comment.id}/report",
            data={"csrf_token": await csrf_token(client), "reason": "spam", "note": "x" * 501},
            headers=HTMX,
        )
        no_csrf = await client.post(f"/w/{porto.slug}/comments/{comment.id}/report", data={"reason": "spam"})
    assert long_note.status_code == 422 and "at most 500" in long_note.text
    assert no_csrf.status_code == 403
    other = await make_workspace(session, facilitator, [network["Shenzhen"]], title="Shenzhen")
    _, elsewhere = await report(app, session, other, comment, user=await member(session, other))
    assert elsewhere.status_code == 404
    assert (await session.exec(select(Report))).all() == []


async def test_a_moderator_restores_with_a_reason_the_author_sees(app, session, porto, thread, audit_mark):
    author, idea, comment = thread
    for _ in range(3):
        await report(app, session, porto, comment)
    moderator = await make_moderator(session, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        url = f"/w/{porto.slug}/comments/{comment.id}/restore"
        token = await csrf_token(client)
        without = await client.post(url, data={"csrf_token": token, "reason": "  "}, headers=HTMX)
        assert without.status_code == 422
        await session.refresh(comment)
        assert comment.hidden_at is not None
        done = await client.post(
            url, data={"csrf_token": token, "reason": "A real local shop, not spam"}, headers=HTMX
        )
        assert done.status_code == 200 and "is shown again" in done.text
    await session.refresh(comment)
    assert comment.hidden_at is None
    async with client_for(app) as client:
        await log_in(client, author)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
    assert "A real local shop, not spam" in page.text and "cheap watches" in page.text
    told = (await session.exec(select(Notification.kind).where(Notification.user_id == author.id))).all()
    assert sorted(told) == ["comment_hidden", "comment_restored"]
    assert (await audit_actions(session, audit_mark))[-1] == "restore"


async def test_the_author_edits_a_hidden_comment_and_asks_for_a_review(app, session, porto, thread):
    author, idea, comment = thread
    moderator = await make_moderator(session, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        hidden = await post_form(
            client,
            f"/w/{porto.slug}/comments/{comment.id}/hide",
            {"reason": "Advertising <img src=x onerror=alert(1)>"},
        )
    assert hidden.status_code == 303
    async with client_for(app) as client:
        await log_in(client, author)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        assert "Advertising &lt;img src=x onerror=alert(1)&gt;" in page.text and "<img src=x" not in page.text
        edited = await post_form(
            client, f"/w/{porto.slug}/comments/{comment.id}/edit", {"body": "Local repair shop"}
        )
        asked = await post_form(
            client, f"/w/{porto.slug}/comments/{comment.id}/review", {"note": "I removed the link"}
        )
        twice = await post_form(client, f"/w/{porto.slug}/comments/{comment.id}/review", {"note": "Again"})
    assert edited.status_code == 303 and asked.status_code == 303 and twice.status_code == 303
    case = (await session.exec(select(ModerationCase))).one()
    assert (case.state, case.review_note) == (CaseState.REVIEW, "I removed the link")
    await session.refresh(comment)
    assert comment.body == "Local repair shop" and comment.hidden_at is not None
    moderators_told = (
        await session.exec(select(Notification).where(Notification.kind == "review_requested"))
    ).all()
    assert moderator.id in {n.user_id for n in moderators_told}
    someone = await member(session, porto)
    async with client_for(app) as client:
        await log_in(client, someone)
        refused = await client.post(
            f"/w/{porto.slug}/comments/{comment.id}/review",
            data={"csrf_token": await csrf_token(client), "note": "x"},
            headers=HTMX,
        )
    assert refused.status_code == 403


async def test_the_queue_filters_searches_and_decides_in_bulk(
    app, session, porto, thread, network, facilitator
):
    author, idea, spam = thread
    rude = await add(session, porto, idea, author, body="You are all idiots")
    await report(app, session, porto, spam, reason="spam")
    await report(app, session, porto, rude, reason="offensive")
    moderator = await make_moderator(session, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        every = await client.get(f"/w/{porto.slug}/moderation")
        offensive = await client.get(f"/w/{porto.slug}/moderation", params={"reason": "offensive"})
        searched = await client.get(f"/w/{porto.slug}/moderation", params={"q": "watches"})
        cases = {c.target_id: c.id for c in (await session.exec(select(ModerationCase))).all()}
        token = await csrf_token(client)
        no_reason = await client.post(
            f"/w/{porto.slug}/moderation",
            data={"csrf_token": token, "action": "hide", "case": [cases[spam.id]]},
        )
        bulk = await client.post(
            f"/w/{porto.slug}/moderation",
            data={
                "csrf_token": token,
                "action": "hide",
                "reason": "Against the rules",
                "case": list(cases.values()),
            },
        )
    assert "watches" in every.text and "idiots" in every.text
    assert "idiots" in offensive.text and "watches" not in offensive.text
    assert "watches" in searched.text and "idiots" not in searched.text
    assert no_reason.status_code == 422 and "required" in no_reason.text
    assert bulk.status_code == 303
    for comment in (spam, rude):
        await session.refresh(comment)
        assert comment.hidden_at is not None

    other_moderator = await make_moderator(
        session, await make_workspace(session, facilitator, [network["Hefei"]])
    )
    citizen = await member(session, porto)
    for visitor, status, inbox in ((other_moderator, 403, 200), (citizen, 403, 403), (facilitator, 200, 200)):
        async with client_for(app) as client:
            await log_in(client, visitor)
            assert (await client.get(f"/w/{porto.slug}/moderation")).status_code == status
            answer = await client.get("/moderation", params={"state": "all"})
            assert answer.status_code == inbox
            # Hefei's moderator has an inbox of Hefei's queue: nothing of Porto's.
            assert ("watches" in answer.text) is (visitor is facilitator)


async def test_the_threshold_is_set_per_workspace(app, session, porto, thread):
    _author, _idea, comment = thread
    moderator = await make_moderator(session, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        bad = await post_form(client, f"/w/{porto.slug}/moderation/threshold", {"threshold": "0"})
        good = await post_form(client, f"/w/{porto.slug}/moderation/threshold", {"threshold": "1"})
    assert bad.status_code == 422 and good.status_code == 303
    await report(app, session, porto, comment)
    await session.refresh(comment)
    assert comment.hidden_at is not None


async def test_the_audit_log_is_for_staff_exported_as_safe_csv_and_append_only(
    app, session, porto, thread, facilitator
):
    _author, _idea, comment = thread
    await report(app, session, porto, comment, note='=HYPERLINK("http://evil")')
    moderator = await make_moderator(session, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        assert (await client.get("/audit")).status_code == 403
        assert (await client.get("/audit.csv")).status_code == 403
    async with client_for(app) as client:
        await log_in(client, facilitator)
        page = await client.get("/audit")
        exported = await client.get("/audit.csv", params={"workspace": porto.slug})
        nothing = await client.get("/audit.csv", params={"workspace": "no-such-place"})
    assert page.status_code == 200 and "Reported" in page.text
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "time_utc", "action"] and rows[1][2] == "report"
    assert rows[1][-1].startswith("'=")
    assert len(list(csv.reader(io.StringIO(nothing.text.lstrip("\ufeff"))))) == 1
    with pytest.raises((DBAPIError, IntegrityError)):
        async with session.begin_nested():
            await session.exec(text("UPDATE audit_event SET reason = 'rewritten'"))
    with pytest.raises((DBAPIError, IntegrityError)):
        async with session.begin_nested():
            await session.exec(text("DELETE FROM audit_event"))
    assert (
        (await session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())))
        .first()
        .reason.startswith("=HYPERLINK")
    )


async def test_the_queue_and_the_idea_page_run_the_same_number_of_queries_however_many_reports(
    app, session, porto, thread, query_counter
):
    author, idea, _comment = thread
    moderator = await make_moderator(session, porto)
    reporters = [await member(session, porto, name=f"Reporter {n}") for n in range(3)]

    async def reported_comment(n: int):
        comment = await add(session, porto, idea, author, body=f"Reported comment {n}")
        for reporter in reporters[: 1 + n % 3]:
            await moderation_service.report_comment(
                session=session, workspace=porto, comment=comment, reporter=reporter, reason="spam", note=""
            )

    async with client_for(app) as client:
        await log_in(client, moderator)

        async def queries() -> tuple[int, int]:
            counts = []
            for path in (f"/w/{porto.slug}/moderation?state=all", f"/w/{porto.slug}/ideas/{idea.id}"):
                query_counter.count = 0
                assert (await client.get(path)).status_code == 200
                counts.append(query_counter.count)
            return tuple(counts)

        await reported_comment(0)
        few = await queries()
        for n in range(1, 15):
            await reported_comment(n)
        many = await queries()
    assert many == few

"""A decision closes a case: it leaves "waiting for a decision", the counts drop and the decided list
shows it with the decision. City moderators have an inbox of the workspaces they moderate at
/moderation, a count of waiting cases in the header, and one notification per new case."""

import re

from sqlmodel import select

from app.moderation import service as moderation_service
from app.moderation.models import CaseState, ModerationCase
from app.notifications.models import Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import MemberRole, Membership
from tests.comments.test_routes import add, make_idea, member
from tests.conftest import client_for, log_in, post_form
from tests.moderation.test_ideas_and_members import report_idea
from tests.moderation.test_moderation import make_moderator, report
from tests.workspaces.conftest import make_workspace

WAITING_IN_HEADER = re.compile(r'<a href="/moderation"[^>]*>[^<]*<span class="nav-count"[^>]*>(\d+)</span>')


def waiting_in_header(html: str) -> int:
    found = WAITING_IN_HEADER.search(html)
    return int(found.group(1)) if found else 0


async def case_of(session, target_id, kind="idea") -> ModerationCase:
    return (
        await session.exec(
            select(ModerationCase)
            .where(ModerationCase.target_kind == kind, ModerationCase.target_id == target_id)
            .execution_options(populate_existing=True)
        )
    ).one()


async def decide(client, path, case, action, reason="Against the rules"):
    answer = await post_form(client, path, {"case": str(case.id), "action": action, "reason": reason})
    assert answer.status_code == 303, answer.text
    return answer


async def test_hiding_a_reported_idea_closes_its_case(app, session, porto):
    author = await member(session, porto, name="Ana Author")
    idea = await make_idea(session, porto, author, title="Cheap watches here")
    await report_idea(app, session, porto, idea)
    moderator = await make_moderator(session, porto)
    queue = f"/w/{porto.slug}/moderation"
    async with client_for(app) as client:
        await log_in(client, moderator)
        before = await client.get(queue)
        assert "Cheap watches here" in before.text and "1 item waits for a decision." in before.text
        assert waiting_in_header(before.text) == 1
        await decide(client, queue, await case_of(session, idea.id), "hide", "Advertising")
        after = await client.get(queue)
        decided = await client.get(queue, params={"state": "closed"})
    assert "Cheap watches here" not in after.text and "0 items wait for a decision." in after.text
    assert waiting_in_header(after.text) == 0
    assert "Cheap watches here" in decided.text
    assert "Hidden by Mo Moderator" in decided.text and "Advertising" in decided.text
    assert (await case_of(session, idea.id)).state == CaseState.HIDDEN


async def test_every_decision_closes_the_case_with_what_was_decided(app, session, porto):
    author = await member(session, porto, name="Ana Author")
    idea = await make_idea(session, porto, author)
    shown = await add(session, porto, idea, author, body="Fine words")
    auto = await add(session, porto, idea, author, body="Spam spam spam")
    asked = await add(session, porto, idea, author, body="Edited after hiding")
    await report(app, session, porto, shown)
    for _ in range(3):
        await report(app, session, porto, auto)  # hidden at once by three reports, and waits
    moderator = await make_moderator(session, porto)
    await moderation_service.hide_comment(
        session=session, workspace=porto, comment=asked, moderator=moderator, reason="Rude"
    )
    async with client_for(app) as client:
        await log_in(client, author)
        await post_form(client, f"/w/{porto.slug}/comments/{asked.id}/review", {"note": "I fixed it"})
    cases = {c.id: await case_of(session, c.id, "comment") for c in (shown, auto, asked)}
    assert [case.state for case in cases.values()] == [CaseState.OPEN, CaseState.HIDDEN, CaseState.REVIEW]
    assert await moderation_service.pending_count(session=session, workspace_ids=[porto.id]) == 3

    queue = f"/w/{porto.slug}/moderation"
    async with client_for(app) as client:
        await log_in(client, moderator)
        await decide(client, queue, cases[shown.id], "dismiss", "")
        await decide(client, queue, cases[auto.id], "hide", "Spam, as the members said")
        await decide(client, queue, cases[asked.id], "hide", "Still rude")
        waiting = await client.get(queue)
        decided = await client.get(queue, params={"state": "closed"})
    assert "Nothing here." in waiting.text
    assert await moderation_service.pending_count(session=session, workspace_ids=[porto.id]) == 0
    for text in ("Fine words", "Spam spam spam", "Edited after hiding", "Reports dismissed by Mo Moderator"):
        assert text in decided.text
    assert decided.text.count("Hidden by Mo Moderator") == 2
    states = [(await case_of(session, c.id, "comment")).state for c in (shown, auto, asked)]
    assert states == [CaseState.DISMISSED, CaseState.HIDDEN, CaseState.HIDDEN]
    told = (
        await session.exec(
            select(Notification.kind).where(Notification.user_id == author.id).order_by(Notification.id)
        )
    ).all()
    assert told.count("comment_kept_hidden") == 2  # the author learns a moderator looked and why


async def test_a_city_moderator_has_an_inbox_of_the_workspaces_they_moderate(
    app, session, porto, facilitator, network
):
    hefei = await make_workspace(session, facilitator, [network["Hefei"]], title="Hefei lakeside")
    shenzhen = await make_workspace(session, facilitator, [network["Shenzhen"]], title="Shenzhen parks")
    moderator = await make_moderator(session, porto)
    await workspace_service.join(session=session, workspace=hefei, user=moderator)
    membership = (
        await session.exec(
            select(Membership).where(Membership.user_id == moderator.id, Membership.workspace_id == hefei.id)
        )
    ).one()
    await workspace_service.set_role(
        session=session, workspace=hefei, membership=membership, role=MemberRole.MODERATOR, by=facilitator
    )
    titles = {}
    for workspace in (porto, hefei, shenzhen):
        author = await member(session, workspace, name="Writer")
        idea = await make_idea(session, workspace, author, title=f"Adverts in {workspace.slug}")
        await report_idea(app, session, workspace, idea)
        titles[workspace.slug] = (idea, f"Adverts in {workspace.slug}")

    async with client_for(app) as client:
        await log_in(client, moderator)
        inbox = await client.get("/moderation")
        home = await client.get("/")
        elsewhere = await case_of(session, titles[shenzhen.slug][0].id)
        await decide(client, "/moderation", elsewhere, "dismiss", "")
        mine = await case_of(session, titles[hefei.slug][0].id)
        await decide(client, "/moderation", mine, "dismiss", "")
        after = await client.get("/moderation")
    assert inbox.status_code == 200
    assert titles[porto.slug][1] in inbox.text and titles[hefei.slug][1] in inbox.text
    assert titles[shenzhen.slug][1] not in inbox.text
    assert "2 items wait for a decision." in inbox.text
    assert waiting_in_header(home.text) == 2
    assert (await case_of(session, elsewhere.target_id)).state == CaseState.OPEN
    assert (await case_of(session, mine.target_id)).state == CaseState.DISMISSED
    assert "1 item waits for a decision." in after.text and waiting_in_header(after.text) == 1

    plain = await member(session, porto, name="Plain Member")
    async with client_for(app) as client:
        await log_in(client, plain)
        assert (await client.get("/moderation")).status_code == 403
        assert 'href="/moderation"' not in (await client.get("/")).text
    async with client_for(app) as client:
        await log_in(client, facilitator)
        every = await client.get("/moderation")
    # Every workspace's waiting cases: Porto's and Shenzhen's (Hefei's was dismissed).
    assert titles[porto.slug][1] in every.text and titles[shenzhen.slug][1] in every.text
    assert titles[hefei.slug][1] not in every.text
    assert waiting_in_header(every.text) == 2


async def test_moderators_are_told_once_per_case_not_once_per_report(app, session, porto):
    moderator = await make_moderator(session, porto)
    author = await member(session, porto, name="Ana Author")
    idea = await make_idea(session, porto, author, title="Rain gardens")
    comment = await add(session, porto, idea, author, body="Buy watches")
    reporters = [await member(session, porto, name=f"Reporter {n}") for n in range(4)]
    for reporter in reporters[:3]:
        await report(app, session, porto, comment, user=reporter)

    async def told() -> list[Notification]:
        rows = await session.exec(select(Notification).where(Notification.kind == "comment_reported"))
        return list(rows.all())

    moderators = await workspace_service.moderator_ids(session=session, workspace_id=porto.id)
    assert moderator.id in moderators
    assert sorted(n.user_id for n in await told()) == sorted(moderators)  # each once, nobody else
    async with client_for(app) as client:
        await log_in(client, moderator)
        page = await client.get("/notifications")
        assert "A comment on “Rain gardens” in Porto green corridors was reported." in page.text
        assert f'href="/w/{porto.slug}/moderation"' in page.text
        await decide(
            client, f"/w/{porto.slug}/moderation", await case_of(session, comment.id, "comment"), "restore"
        )
    await report(app, session, porto, comment, user=reporters[3])
    assert len(await told()) == 2 * len(moderators)  # a report after a decision: told again
    other = await add(session, porto, idea, author, body="More watches")
    await report(app, session, porto, other, user=reporters[0])
    await moderation_service.decide(
        session=session,
        case_ids=[(await case_of(session, other.id, "comment")).id],
        workspace_ids=[porto.id],
        action="dismiss",
        moderator=moderator,
        reason="",
    )
    await report(app, session, porto, other, user=reporters[1])
    await report(app, session, porto, other, user=reporters[2])
    assert len(await told()) == 4 * len(moderators)

    # A moderator who is one no longer does not read them.
    membership = (
        await session.exec(
            select(Membership).where(Membership.user_id == moderator.id, Membership.workspace_id == porto.id)
        )
    ).one()
    await workspace_service.set_role(
        session=session, workspace=porto, membership=membership, role=MemberRole.MEMBER, by=moderator
    )
    async with client_for(app) as client:
        await log_in(client, moderator)
        page = await client.get("/notifications")
    assert "was reported" not in page.text

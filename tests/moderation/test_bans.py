"""Warnings and bans: a banned member reads but takes part nowhere in the workspace, until the ban ends."""

from datetime import timedelta

from sqlmodel import select

from app.audit.models import AuditEvent
from app.core.db import utcnow
from app.notifications.models import Notification
from app.workspaces.models import Membership, MemberStatus, Visibility
from tests.comments.test_routes import make_idea, member
from tests.conftest import client_for, log_in, post_form
from tests.moderation.test_moderation import make_moderator
from tests.workspaces.conftest import make_workspace


async def membership_of(session, user, workspace) -> Membership:
    return (
        await session.exec(
            select(Membership).where(Membership.user_id == user.id, Membership.workspace_id == workspace.id)
        )
    ).one()


async def test_a_banned_member_reads_but_cannot_take_part_and_sees_why(app, session, porto):
    moderator = await make_moderator(session, porto)
    author = await member(session, porto, name="Author")
    idea = await make_idea(session, porto, author)
    troll = await member(session, porto, name="Troll")
    target = await membership_of(session, troll, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        banned = await post_form(
            client,
            f"/w/{porto.slug}/members/{target.id}/ban",
            {"length": "7", "reason": "Insults <b>again</b>"},
        )
        listed = await client.get(f"/w/{porto.slug}/members")
    assert banned.status_code == 303
    assert "Insults &lt;b&gt;again&lt;/b&gt;" in listed.text and "Lift the ban" in listed.text
    await session.refresh(target)
    assert target.status == MemberStatus.BANNED and target.banned_until > utcnow() + timedelta(days=6)
    async with client_for(app) as client:
        await log_in(client, troll)
        page = await client.get(f"/w/{porto.slug}")
        idea_page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        comment = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "Hello"})
        support = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/support")
        await post_form(client, f"/w/{porto.slug}/leave")
    assert page.status_code == 200 and "You cannot take part here until" in page.text
    assert "Insults &lt;b&gt;again&lt;/b&gt;" in page.text
    assert idea_page.status_code == 200
    assert comment.status_code == 403 and support.status_code == 403
    await session.refresh(target)
    assert target.status == MemberStatus.BANNED  # leaving and joining again does not end a ban
    told = (await session.exec(select(Notification.kind).where(Notification.user_id == troll.id))).all()
    assert "member_banned" in told


async def test_a_ban_ends_by_itself_or_when_lifted(app, session, porto):
    moderator = await make_moderator(session, porto)
    idea = await make_idea(session, porto, moderator)
    person = await member(session, porto, name="Person")
    target = await membership_of(session, person, porto)
    target.status, target.banned_until, target.ban_reason = (
        MemberStatus.BANNED,
        utcnow() - timedelta(minutes=1),
        "x",
    )
    session.add(target)
    await session.commit()
    async with client_for(app) as client:
        await log_in(client, person)
        after_end = await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/comments", {"body": "Back"})
    assert after_end.status_code == 303
    async with client_for(app) as client:
        await log_in(client, moderator)
        await post_form(
            client, f"/w/{porto.slug}/members/{target.id}/ban", {"length": "forever", "reason": "Spam"}
        )
        await session.refresh(target)
        assert target.status == MemberStatus.BANNED and target.banned_until is None
        lifted = await post_form(client, f"/w/{porto.slug}/members/{target.id}/unban", {})
    assert lifted.status_code == 303
    await session.refresh(target)
    assert (target.status, target.ban_reason) == (MemberStatus.ACTIVE, "")
    actions = (
        await session.exec(
            select(AuditEvent.action).where(AuditEvent.target_id == person.id).order_by(AuditEvent.id)
        )
    ).all()
    assert actions[-2:] == ["ban", "unban"]


async def test_warnings_and_bans_need_a_reason_and_the_right_person(
    app, session, porto, network, facilitator
):
    moderator = await make_moderator(session, porto)
    fellow = await make_moderator(session, porto)
    person = await member(session, porto, name="Person")
    target = await membership_of(session, person, porto)
    async with client_for(app) as client:
        await log_in(client, moderator)
        no_reason = await post_form(client, f"/w/{porto.slug}/members/{target.id}/ban", {"length": "7"})
        bad_length = await post_form(
            client, f"/w/{porto.slug}/members/{target.id}/ban", {"length": "9999", "reason": "x"}
        )
        fellow_ban = await post_form(
            client,
            f"/w/{porto.slug}/members/{(await membership_of(session, fellow, porto)).id}/ban",
            {"length": "7", "reason": "x"},
        )
        warned = await post_form(client, f"/w/{porto.slug}/members/{target.id}/warn", {"reason": "Be kind"})
    assert no_reason.status_code == 422 and "required" in no_reason.text
    assert bad_length.status_code == 422
    assert fellow_ban.status_code == 403
    assert warned.status_code == 303
    await session.refresh(target)
    assert target.status == MemberStatus.ACTIVE and target.warning == "Be kind"
    async with client_for(app) as client:
        await log_in(client, person)
        assert "Be kind" in (await client.get(f"/w/{porto.slug}")).text
        assert (
            await post_form(
                client, f"/w/{porto.slug}/members/{target.id}/ban", {"length": "7", "reason": "x"}
            )
        ).status_code == 403
    other = await make_workspace(
        session, facilitator, [network["Hefei"]], title="Hefei", visibility=Visibility.MEMBERS
    )
    other_moderator = await make_moderator(session, other)
    async with client_for(app) as client:
        await log_in(client, other_moderator)
        elsewhere = await post_form(
            client, f"/w/{porto.slug}/members/{target.id}/ban", {"length": "7", "reason": "x"}
        )
    assert elsewhere.status_code == 403


async def test_a_banned_member_of_a_members_only_workspace_still_reads_it(app, session, network, facilitator):
    secret = await make_workspace(
        session, facilitator, [network["Shenzhen"]], title="Shenzhen", visibility=Visibility.MEMBERS
    )
    person = await member(session, secret, name="Person")
    target = await membership_of(session, person, secret)
    target.status = MemberStatus.BANNED
    session.add(target)
    await session.commit()
    async with client_for(app) as client:
        await log_in(client, person)
        assert (await client.get(f"/w/{secret.slug}")).status_code == 200


async def test_a_banned_member_can_no_longer_edit_their_comments(app, session, porto, facilitator):
    from app.moderation import sanctions
    from tests.comments.test_routes import add

    author = await member(session, porto, name="Author")
    idea = await make_idea(session, porto, author)
    troll = await member(session, porto, name="Troll")
    comment = await add(session, porto, idea, troll, body="First words")
    await sanctions.ban(
        session=session,
        membership=await membership_of(session, troll, porto),
        moderator=facilitator,
        length="7",
        reason="Insults",
    )
    edit = f"/w/{porto.slug}/comments/{comment.id}/edit"
    async with client_for(app) as client:
        await log_in(client, troll)
        page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
        form = await client.get(edit)
        plain = await post_form(client, edit, {"body": "Edited while banned"})
        htmx = await post_form(client, edit, {"body": "Edited while banned"}, headers={"HX-Request": "true"})
    assert page.status_code == 200 and "First words" in page.text
    assert f'href="{edit}"' not in page.text  # no Edit link
    assert form.status_code == 403 and plain.status_code == 403 and htmx.status_code == 403
    await session.refresh(comment)
    assert comment.body == "First words" and comment.edited_at is None

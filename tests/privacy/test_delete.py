"""Deleting one's account: personal data erased, contributions kept under "a former participant"
or removed on request, every counter right, the waiting list served, the last admin kept."""

from collections import Counter

from sqlmodel import func, select

from app.accounts import service as account_service
from app.accounts.models import AuthSession, Role, User
from app.attachments.models import Attachment
from app.audit.models import AuditEvent
from app.cocreation.models import CocreationSession, Registration
from app.comments.models import Comment
from app.core import personal_data
from app.ideas.models import Idea, Support
from app.models import metadata
from app.moderation.models import ModerationCase, Report
from app.notifications.models import Follow, Notification
from app.privacy import service as privacy_service
from app.voting import rules as voting_rules
from app.voting.models import Vote
from app.workspaces.models import Membership, Workspace
from tests.conftest import PASSWORD, TEST_SECRET_KEY, csrf_token, log_in, make_user, post_form
from tests.privacy.conftest import fresh, picture, scene


async def count(session, model, *conditions) -> int:
    return (await session.exec(select(func.count()).select_from(model).where(*conditions))).one()


def stored_files(settings) -> list:
    return sorted(p.name for p in (settings.data_dir / "uploads").rglob("*") if p.is_file())


async def delete_account(client, password=PASSWORD, remove=False):
    form = {"password": password}
    if remove:
        form["remove_contributions"] = "yes"
    return await post_form(client, "/profile/delete", form)


async def papers_on(session, ballot_id) -> list[Vote]:
    return list((await session.exec(select(Vote).where(Vote.ballot_id == ballot_id))).all())


async def test_deleting_keeps_what_was_posted_under_a_former_participant(
    client, other_client, session, settings, porto, facilitator
):
    seen = await scene(session, client, other_client, porto, facilitator, files=[picture()])
    ana_id, ana_email = seen.ana.id, seen.ana.email
    files_before = stored_files(settings)
    members_before = (await fresh(session, Workspace, porto.id)).member_count
    anonymous_keys = {v.voter_key for v in await papers_on(session, seen.anonymous_ballot.id)}

    response = await delete_account(client)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert (
        'cocreate_session=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    home = await client.get("/")
    assert "Your account is deleted" in home.text and "Log in" in home.text

    # Personal data is gone ...
    assert await session.get(User, ana_id, populate_existing=True) is None
    for model, column in (
        (AuthSession, AuthSession.user_id),
        (Membership, Membership.user_id),
        (Support, Support.user_id),
        (Follow, Follow.user_id),
        (Notification, Notification.user_id),
        (Registration, Registration.user_id),
        (Report, Report.reporter_id),
    ):
        assert await count(session, model, column == ana_id) == 0, model
    assert await count(session, Vote, Vote.voter_id == ana_id) == 0
    # ... the counters lost her ...
    wei_idea = await fresh(session, Idea, seen.wei_idea)
    assert wei_idea.support_count == 0
    assert (await fresh(session, Workspace, porto.id)).member_count == members_before - 1
    # Her report was the only one on Wei's reply: the case closes.
    assert await count(session, ModerationCase, ModerationCase.target_id == seen.wei_reply.id) == 0
    # ... Wei, who was waiting, has her place and was told ...
    registration = (await session.exec(select(Registration).where(Registration.user_id == seen.wei.id))).one()
    assert registration.status == "registered"
    assert (await fresh(session, CocreationSession, seen.workshop.id)).registered_count == 1
    told = await count(
        session,
        Notification,
        Notification.user_id == seen.wei.id,
        Notification.kind == "session_place_offered",
    )
    assert told == 1
    # ... and what she posted stays, by nobody.
    ana_idea = await fresh(session, Idea, seen.ana_idea)
    assert ana_idea.author_id is None and ana_idea.support_count == 1 and ana_idea.comment_count == 1
    assert (await fresh(session, Comment, seen.ana_comment.id)).author_id is None
    assert wei_idea.comment_count == 3
    assert stored_files(settings) == files_before
    assert (
        await session.exec(select(Attachment.uploader_id).where(Attachment.idea_id == seen.ana_idea))
    ).all() == [None]
    page = await other_client.get(f"/w/{porto.slug}/ideas/{seen.ana_idea}")
    assert "a former participant" in page.text and "Ana Sousa" not in page.text
    # Her papers stay counted, tied to no one: not even her keyed hash is left.
    for ballot in (seen.open_ballot, seen.closed_ballot, seen.anonymous_ballot):
        assert len(await papers_on(session, ballot.id)) == 2
    gone_key = voting_rules.voter_key(
        secret_key=TEST_SECRET_KEY, ballot_id=seen.anonymous_ballot.id, user_id=ana_id
    )
    keys_after = {v.voter_key for v in await papers_on(session, seen.anonymous_ballot.id)}
    assert gone_key in anonymous_keys and gone_key not in keys_after and len(keys_after) == 2
    # The audit log says an account went, and nothing about who.
    event = (
        await session.exec(
            select(AuditEvent).where(AuditEvent.action == "account_deleted", AuditEvent.target_id == ana_id)
        )
    ).one()
    assert (event.actor_id, event.actor_name, event.target_kind, event.target_id) == (
        None,
        "",
        "user",
        ana_id,
    )
    assert ana_email not in str(event.data) and "Ana" not in str(event.data)
    # She cannot log in again.
    again = await post_form(client, "/login", {"email": ana_email, "password": PASSWORD})
    assert again.status_code == 422


async def test_deleting_with_contributions_removes_ideas_files_and_comments_but_not_others_replies(
    client, other_client, session, settings, porto, facilitator
):
    seen = await scene(session, client, other_client, porto, facilitator, files=[picture("ana.png")])
    wei_files = [name for name in stored_files(settings)]
    ana_file = (
        await session.exec(select(Attachment.storage_key).where(Attachment.idea_id == seen.ana_idea))
    ).one()
    ideas_before = (await fresh(session, Workspace, porto.id)).idea_count

    response = await delete_account(client, remove=True)
    assert response.status_code == 303
    home = await client.get("/")
    assert "with your ideas and comments" in home.text

    assert await fresh(session, Idea, seen.ana_idea) is None
    assert ana_file not in stored_files(settings) and len(stored_files(settings)) == len(wei_files) - 1
    assert await count(session, Comment, Comment.id == seen.wei_comment.id) == 0  # it was on her idea
    assert (await fresh(session, Workspace, porto.id)).idea_count == ideas_before - 1
    # Her comment that Wei answered keeps its place, empty; Wei's reply stays; the lone one is gone.
    answered = await fresh(session, Comment, seen.ana_comment.id)
    assert (answered.body, answered.body_html, answered.author_id) == ("", "", None) and answered.is_removed
    assert (await fresh(session, Comment, seen.wei_reply.id)).body == "Wei answers: twenty centimetres."
    assert await fresh(session, Comment, seen.ana_lone_comment.id) is None
    wei_idea = await fresh(session, Idea, seen.wei_idea)
    assert wei_idea.comment_count == 1  # only Wei's reply still says something
    page = await other_client.get(f"/w/{porto.slug}/ideas/{seen.wei_idea}")
    assert "removed when its author deleted their account" in page.text
    assert "Wei answers" in page.text and "Ana thinks" not in page.text
    # Her paper on the open ballot is withdrawn; on the closed one it stays counted.
    assert len(await papers_on(session, seen.open_ballot.id)) == 1
    assert len(await papers_on(session, seen.closed_ballot.id)) == 2


async def test_a_wrong_password_deletes_nothing(client, other_client, session, settings, porto, facilitator):
    seen = await scene(session, client, other_client, porto, facilitator)
    response = await delete_account(client, password="not my password", remove=True)
    assert response.status_code == 422
    assert "This is not your password." in response.text
    assert 'name="remove_contributions" value="yes" aria-describedby="remove-hint" checked' in response.text
    assert await session.get(User, seen.ana.id, populate_existing=True) is not None
    assert (await fresh(session, Idea, seen.ana_idea)).author_id == seen.ana.id
    assert await count(session, Vote, Vote.voter_id == seen.ana.id) == 2
    assert (await client.get("/profile")).status_code == 200  # still logged in


async def test_wrong_passwords_are_limited(client, session, user):
    await log_in(client, user)
    for _ in range(account_service.RECHECK_LIMIT_PER_ACCOUNT):
        assert (await delete_account(client, password="guess")).status_code == 422
    refused = await delete_account(client)
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.text
    assert await session.get(User, user.id, populate_existing=True) is not None


async def test_the_last_admin_cannot_go(client, session):
    admin = await make_user(session, role=Role.ADMIN, display_name="Only admin")
    await log_in(client, admin)
    refused = await delete_account(client)
    assert refused.status_code == 409 and "You are the only administrator" in refused.text
    assert await session.get(User, admin.id, populate_existing=True) is not None
    await make_user(session, role=Role.ADMIN, display_name="Second admin")
    assert (await delete_account(client)).status_code == 303
    assert await session.get(User, admin.id, populate_existing=True) is None


async def test_deleting_needs_a_login_and_a_form_from_this_site(client, session, user):
    response = await client.get("/profile/delete")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await log_in(client, user)
    page = await client.get("/profile/delete")
    assert page.status_code == 200 and "Also remove my ideas and comments" in page.text
    assert (await client.post("/profile/delete", data={"password": PASSWORD})).status_code == 403
    token = await csrf_token(client)
    other_token = {
        "csrf_token": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "password": PASSWORD,
    }
    assert (await client.post("/profile/delete", data=other_token)).status_code == 403
    assert await session.get(User, user.id, populate_existing=True) is not None


async def test_a_deleted_accounts_id_is_never_given_again(client, session):
    last = await make_user(session, display_name="Last to join")
    await log_in(client, last)
    assert (await delete_account(client)).status_code == 303
    newcomer = await make_user(session, display_name="Newcomer")
    assert newcomer.id > last.id


def test_every_column_pointing_at_a_user_has_a_decision():
    """Each foreign key to ``user`` is decided by exactly one domain's registered part, and no part
    decides a column the schema does not have."""
    pointing = {
        f"{table.name}.{fk.parent.name}"
        for table in metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "user"
    }
    assert pointing == set(privacy_service.user_references())
    deciders = Counter(column for part in personal_data.parts() for column in part.references)
    assert {column for column, parts in deciders.items() if parts != 1} == set()
    columns = {f"{table.name}.{column.name}" for table in metadata.sorted_tables for column in table.columns}
    assert set(deciders) <= columns
    assert all(decision.strip() for decision in privacy_service.user_references().values())


async def test_reports_about_a_deleted_member_leave_the_queue_with_them(client, session, porto):
    """A member reported as a person: their case is about their membership, which goes with the
    account, so the queue keeps no row about someone who no longer exists."""
    from app.moderation import service as moderation_service
    from app.workspaces import service as workspace_service

    reported = await make_user(session, display_name="Reported Person")
    reporter = await make_user(session, display_name="Reporter")
    for person in (reported, reporter):
        await workspace_service.join(session=session, workspace=porto, user=person)
    membership = (
        await session.exec(
            select(Membership).where(Membership.user_id == reported.id, Membership.workspace_id == porto.id)
        )
    ).one()
    await moderation_service.report(
        session=session,
        workspace=porto,
        target=moderation_service.member_target(membership),
        reporter=reporter,
        reason="offensive",
        note="",
    )
    assert await count(session, ModerationCase, ModerationCase.target_kind == "member") == 1
    await log_in(client, reported)
    assert (await delete_account(client)).status_code == 303
    assert await count(session, ModerationCase, ModerationCase.target_kind == "member") == 0
    assert await count(session, User, User.id == reported.id) == 0

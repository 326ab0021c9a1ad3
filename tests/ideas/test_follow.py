"""Following a workspace (told of its new ideas) and an idea (told of its status changes)."""

from sqlmodel import select

from app.ideas import service as idea_service
from app.notifications.models import Follow, Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility
from tests.conftest import log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace


async def kinds_for(session, user) -> list[str]:
    rows = await session.exec(select(Notification.kind).where(Notification.user_id == user.id))
    return sorted(rows.all())


async def test_following_a_workspace_tells_of_new_ideas(client, session, porto, facilitator):
    follower = await make_user(session)
    await log_in(client, follower)
    response = await post_form(client, f"/w/{porto.slug}/follow", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Following" in response.text and "<html" not in response.text
    author = await make_user(session)
    await workspace_service.join(session=session, workspace=porto, user=author)
    await idea_service.create(
        session=session, workspace=porto, author=author, data=idea_service.IdeaInput(title="Bee hotel")
    )
    assert await kinds_for(session, follower) == ["followed_workspace_idea"]
    page = await client.get("/notifications")
    assert "posted “Bee hotel” in Porto green corridors, which you follow." in page.text
    plain = await post_form(client, f"/w/{porto.slug}/follow")
    assert plain.status_code == 303
    assert (await session.exec(select(Follow).where(Follow.user_id == follower.id))).first() is None


async def test_following_an_idea_tells_of_its_status_changes(client, session, porto, facilitator):
    author = await make_user(session)
    await workspace_service.join(session=session, workspace=porto, user=author)
    idea = await idea_service.create(
        session=session, workspace=porto, author=author, data=idea_service.IdeaInput(title="Green roofs")
    )
    follower = await make_user(session)
    await log_in(client, follower)
    await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/follow")
    await idea_service.change_status(
        session=session, workspace=porto, idea=idea, moderator=facilitator, status="shortlisted", note=""
    )
    assert await kinds_for(session, follower) == ["followed_idea_status"]
    assert await kinds_for(session, author) == ["idea_status"]


async def test_nobody_follows_what_they_cannot_see(client, session, facilitator, network, porto):
    secret = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Secret",
        visibility=Visibility.MEMBERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    idea = await idea_service.create(
        session=session, workspace=secret, author=facilitator, data=idea_service.IdeaInput(title="Hidden")
    )
    outsider = await make_user(session)
    await log_in(client, outsider)
    assert (await post_form(client, f"/w/{secret.slug}/follow")).status_code == 404
    assert (await post_form(client, f"/w/{secret.slug}/ideas/{idea.id}/follow")).status_code == 404
    assert (await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/follow")).status_code == 404
    assert (await session.exec(select(Follow))).first() is None

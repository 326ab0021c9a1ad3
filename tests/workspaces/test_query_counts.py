"""Pages that list things run the same number of SQL queries with 1 item and with 50."""

from app.ideas import service as idea_service
from app.notifications.models import Notification
from app.topics import service as topic_service
from app.workspaces import service as workspace_service
from tests.conftest import log_in, make_user
from tests.workspaces.conftest import make_workspace


async def queries(client, query_counter, path: str) -> int:
    query_counter.count = 0
    response = await client.get(path)
    assert response.status_code == 200, path
    return query_counter.count


async def test_notifications_page(client, session, porto, facilitator, query_counter):
    reader = await make_user(session)
    await log_in(client, reader)
    session.add(
        Notification(
            user_id=reader.id, kind="membership_approved", workspace_id=porto.id, actor_id=facilitator.id
        )
    )
    await session.commit()
    one = await queries(client, query_counter, "/notifications")
    for n in range(49):
        idea = await idea_service.create(
            session=session,
            workspace=porto,
            author=facilitator,
            data=idea_service.IdeaInput(title=f"Idea {n}"),
        )
        session.add(
            Notification(
                user_id=reader.id,
                kind="idea_comment",
                workspace_id=porto.id,
                actor_id=(await make_user(session)).id,
                idea_id=idea.id,
            )
        )
    await session.commit()
    assert await queries(client, query_counter, "/notifications") == one


async def test_seeded_topic_overview(client, session, facilitator, network, query_counter):
    await log_in(client, facilitator)
    first = await make_workspace(session, facilitator, [network["Porto"]], title="W0")
    data = topic_service.TopicInput(title="Rain", phase="co-design")
    seed = await topic_service.seed(session=session, facilitator=facilitator, data=data, workspaces=[first])
    one = await queries(client, query_counter, f"/topics/seeds/{seed.id}")
    workspaces = [first]
    for n in range(1, 50):
        workspaces.append(await make_workspace(session, facilitator, [network["Hefei"]], title=f"W{n}"))
    many = await topic_service.seed(
        session=session, facilitator=facilitator, data=data, workspaces=workspaces
    )
    for workspace in workspaces:
        topic = (await topic_service.topics_of(session=session, workspace_id=workspace.id))[0]
        author = await make_user(session)
        await workspace_service.add_member(session=session, workspace=workspace, user=author)
        await idea_service.create(
            session=session,
            workspace=workspace,
            author=author,
            data=idea_service.IdeaInput(title="Rain garden", topic_id=str(topic.id)),
        )
    assert await queries(client, query_counter, f"/topics/seeds/{many.id}") == one

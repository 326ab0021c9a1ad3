"""The network-scale data set, at a hundredth of its size: consistent counts and threads, and the app
keeps working on top of it."""

from sqlmodel import col, func, select

from app.comments.models import Comment
from app.demo import scale
from app.ideas import service as idea_service
from app.ideas.models import Idea, Support
from app.workspaces.models import Membership, Workspace
from tests.conftest import make_user


async def scalar(session, statement):
    return (await session.exec(statement)).one()


async def test_the_small_scale_loads_consistent_data(session):
    size = scale.SCALES["small"]
    result = await scale.load(session=session, scale=size, seed=7)
    assert result["workspaces"] == 40 and result["ideas"] == 1_000
    assert result["cities"] > 340
    assert await scalar(session, select(func.count()).select_from(Idea)) == 1_000
    supports = await scalar(session, select(func.count()).select_from(Support))
    assert supports == result["supports"] == await scalar(session, select(func.sum(Idea.support_count)))
    assert 0.9 * size.supports <= supports <= size.supports
    comments = await scalar(session, select(func.count()).select_from(Comment))
    assert comments == result["comments"] == await scalar(session, select(func.sum(Idea.comment_count)))
    assert await scalar(session, select(func.max(Comment.depth))) <= 2
    orphans = (
        select(func.count())
        .select_from(Comment)
        .where(col(Comment.depth) > 0, col(Comment.thread_id) == col(Comment.id))
    )
    assert await scalar(session, orphans) == 0
    members = await scalar(session, select(func.count()).select_from(Membership))
    assert members == await scalar(session, select(func.sum(Workspace.member_count)))
    assert await scalar(session, select(func.sum(Workspace.idea_count))) == 1_000
    assert await scale.already_loaded(session=session)


async def test_the_app_keeps_working_on_top_of_it(session, client):
    await scale.load(session=session, scale=scale.SCALES["small"], seed=7)
    workspace = (await session.exec(select(Workspace).where(Workspace.visibility == "public"))).first()
    idea = await idea_service.create(
        session=session,
        workspace=workspace,
        author=await make_user(session),
        data=idea_service.IdeaInput(title="建设绿色走廊连接社区 新"),
    )
    response = await client.get(f"/w/{workspace.slug}")
    assert response.status_code == 200 and "建设绿色走廊连接社区 新" in response.text
    assert (await client.get(f"/w/{workspace.slug}/ideas/{idea.id}")).status_code == 200
    search = await client.get("/search", params={"q": "绿色走廊"})
    assert search.status_code == 200 and "建设绿色走廊连接社区" in search.text

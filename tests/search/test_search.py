"""Search finds ideas in English and Chinese, within a workspace and across the network, and never
shows what the reader may not see."""

import pytest

from app.ideas import service as idea_service
from app.search import service as search_service
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility
from tests.conftest import log_in, make_user
from tests.workspaces.conftest import make_workspace


async def post(session, workspace, author, title, body=""):
    return await idea_service.create(
        session=session,
        workspace=workspace,
        author=author,
        data=idea_service.IdeaInput(title=title, body=body),
    )


@pytest.fixture
async def ideas(session, porto, facilitator):
    return [
        await post(session, porto, facilitator, "建设绿色走廊连接社区", "在河边种树"),
        await post(
            session,
            porto,
            facilitator,
            "Rain gardens for Campanhã",
            "Catch the **storm water** in the street.",
        ),
        await post(
            session,
            porto,
            facilitator,
            "Community orchard",
            "Fruit trees and a green corridor to the school.",
        ),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("绿色走廊", ["建设绿色走廊连接社区"]),
        ("绿色", ["建设绿色走廊连接社区"]),
        ("种树", ["建设绿色走廊连接社区"]),
        ("storm water", ["Rain gardens for Campanhã"]),
        ("RAIN GARD", ["Rain gardens for Campanhã"]),
        ("green corridor", ["Community orchard"]),
        ("100%_", []),
        ('"quoted" OR x', []),
    ],
)
async def test_search_matches_english_and_chinese_substrings(client, ideas, query, expected):
    response = await client.get("/search", params={"q": query})
    assert response.status_code == 200
    for idea in ideas:
        assert (idea.title in response.text) == (idea.title in expected), (query, idea.title)


async def test_edits_and_deletes_reach_the_index(session, porto, facilitator, ideas):
    idea = ideas[2]
    await idea_service.update_idea(
        session=session,
        workspace=porto,
        idea=idea,
        data=idea_service.IdeaInput(title="Community orchard", body="Apples"),
    )
    results = await search_service.search_ideas(
        session=session, query="green corridor", user=None, staff=False
    )
    assert [hit.title for hit, _w in results.hits] == []
    results = await search_service.search_ideas(session=session, query="Apples", user=None, staff=False)
    assert [hit.title for hit, _w in results.hits] == ["Community orchard"]
    await session.delete(idea)
    await session.commit()
    results = await search_service.search_ideas(session=session, query="Apples", user=None, staff=False)
    assert results.hits == []


async def test_members_only_ideas_are_found_only_by_members(client, session, facilitator, network, ideas):
    secret = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Pilot",
        visibility=Visibility.MEMBERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    await post(session, secret, facilitator, "秘密的绿色走廊试点")
    assert "秘密的绿色走廊试点" not in (await client.get("/search", params={"q": "绿色走廊"})).text
    outsider = await make_user(session)
    await log_in(client, outsider)
    assert "秘密的绿色走廊试点" not in (await client.get("/search", params={"q": "绿色走廊"})).text
    assert (await client.get(f"/w/{secret.slug}/search", params={"q": "绿色"})).status_code == 404
    member = await make_user(session)
    await workspace_service.add_member(session=session, workspace=secret, user=member)
    await log_in(client, member)
    assert "秘密的绿色走廊试点" in (await client.get("/search", params={"q": "绿色走廊"})).text


async def test_search_within_a_workspace(client, session, facilitator, network, porto, ideas):
    other = await make_workspace(session, facilitator, [network["Hefei"]], title="Hefei")
    await post(session, other, facilitator, "合肥的绿色走廊")
    inside = await client.get(f"/w/{porto.slug}/search", params={"q": "绿色走廊"})
    assert "建设绿色走廊连接社区" in inside.text and "合肥的绿色走廊" not in inside.text
    everywhere = await client.get("/search", params={"q": "绿色走廊"})
    assert "建设绿色走廊连接社区" in everywhere.text and "合肥的绿色走廊" in everywhere.text


async def test_htmx_search_returns_only_the_results(client, ideas):
    response = await client.get("/search", params={"q": "orchard"}, headers={"HX-Request": "true"})
    assert "<html" not in response.text and "Community orchard" in response.text


async def test_search_page_query_count_does_not_grow(
    client, session, porto, facilitator, ideas, query_counter
):
    query_counter.count = 0
    await client.get("/search", params={"q": "绿色"})
    few = query_counter.count
    for n in range(25):
        await post(session, porto, await make_user(session), f"绿色屋顶 {n}")
    query_counter.count = 0
    response = await client.get("/search", params={"q": "绿色"})
    assert "绿色屋顶 24" in response.text
    assert query_counter.count == few

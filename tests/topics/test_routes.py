"""A facilitator seeds one topic into many workspaces and follows it across cities."""

from sqlmodel import select

from app.ideas import service as idea_service
from app.network import service as network_service
from app.topics.models import Topic
from app.workspaces import service as workspace_service
from tests.conftest import log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace

TOPIC = {
    "title": "Where should the next rain garden go?",
    "brief": "Look at **flooded** streets.",
    "phase": "co-design",
    "categories": ["territorial"],
    "challenges": ["water-management"],
    "opens_on": "2026-12-01",
    "closes_on": "2027-02-28",
}


async def nscjl_workspaces(session, facilitator, network):
    hefei = network["Hefei"]
    guangzhou = await network_service.find_city(session=session, country_code="CN", name_en="Guangzhou")
    return [
        await make_workspace(session, facilitator, [network["Shenzhen"]], title="Shenzhen"),
        await make_workspace(session, facilitator, [guangzhou], title="Guangzhou"),
        await make_workspace(session, facilitator, [hefei], title="Hefei"),
    ]


async def test_seed_into_every_nscjl_workspace_in_guangdong_and_see_the_overview(
    client, session, facilitator, network, porto
):
    shenzhen, guangzhou, _hefei = await nscjl_workspaces(session, facilitator, network)
    await log_in(client, facilitator)
    response = await post_form(client, "/topics/seed", {**TOPIC, "network": "nscjl", "region": "guangdong"})
    assert response.status_code == 303
    topics = (await session.exec(select(Topic))).all()
    assert {t.workspace_id for t in topics} == {shenzhen.id, guangzhou.id}
    assert len({t.seed_id for t in topics}) == 1
    assert "The topic is seeded into 2 workspaces." in (await client.get(response.headers["location"])).text

    author = await make_user(session)
    await workspace_service.join(session=session, workspace=shenzhen, user=author)
    topic = next(t for t in topics if t.workspace_id == shenzhen.id)
    idea = await idea_service.create(
        session=session,
        workspace=shenzhen,
        author=author,
        data=idea_service.IdeaInput(title="Rain garden by the school", topic_id=str(topic.id)),
    )
    await idea_service.toggle_support(session=session, idea=idea, user=author)
    overview = await client.get(response.headers["location"])
    assert "Rain garden by the school" in overview.text and "1 support" in overview.text
    assert "In 2 workspaces" in overview.text and "1 idea" in overview.text
    workspace_page = await client.get(f"/w/{shenzhen.slug}")
    assert "Where should the next rain garden go?" in workspace_page.text
    assert f'href="/topics/seeds/{topic.seed_id}"' in workspace_page.text


async def test_seed_into_all_of_a_network_and_chosen_ones(client, session, facilitator, network, porto):
    workspaces = await nscjl_workspaces(session, facilitator, network)
    await log_in(client, facilitator)
    response = await post_form(
        client, "/topics/seed", {**TOPIC, "network": "nscjl", "workspace_ids": [str(porto.id)]}
    )
    assert response.status_code == 303
    seeded = {t.workspace_id for t in (await session.exec(select(Topic))).all()}
    assert seeded == {w.id for w in workspaces} | {porto.id}


async def test_seeding_bad_input_and_permissions(client, session, facilitator, network, porto):
    citizen = await make_user(session)
    await log_in(client, citizen)
    assert (await client.get("/topics/seed")).status_code == 403
    assert (await post_form(client, "/topics/seed", {**TOPIC, "network": "nscjl"})).status_code == 403
    await log_in(client, facilitator)
    bad = await post_form(
        client,
        "/topics/seed",
        {
            **TOPIC,
            "title": "",
            "phase": "party",
            "categories": ["x"],
            "closes_on": "2026-01-01",
            "opens_on": "soon",
        },
    )
    assert bad.status_code == 422
    for message in (
        "This field is required.",
        "Choose a co-creation phase.",
        "Choose categories from the list.",
        "Enter a date as YYYY-MM-DD.",
    ):
        assert message in bad.text
    nowhere = await post_form(client, "/topics/seed", TOPIC)
    assert nowhere.status_code == 422 and "Choose at least one open workspace" in nowhere.text
    assert (await session.exec(select(Topic))).first() is None
    assert (await client.get("/topics/seeds/999999")).status_code == 404


async def test_a_file_sent_as_the_brief_is_refused_on_the_form(client, session, facilitator, network, porto):
    await log_in(client, facilitator)
    form = {name: value for name, value in TOPIC.items() if name != "brief"}
    response = await post_form(
        client,
        "/topics/seed",
        {**form, "workspace_ids": [str(porto.id)]},
        files={"title": ("title.txt", b"Rain gardens", "text/plain"), "brief": ("b.md", b"x", "text/plain")},
    )
    assert response.status_code == 422 and "This field is required." in response.text
    assert (await session.exec(select(Topic))).first() is None

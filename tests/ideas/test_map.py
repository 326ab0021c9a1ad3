"""A workspace's ideas on a map, and the place picker that opens on the workspace's city."""

import json
import re

from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.workspaces import service as workspace_service
from tests.conftest import log_in, make_user
from tests.moderation.test_ideas_and_members import hidden_by_a_moderator


async def placed_idea(session, workspace, author, title, lat, lng) -> Idea:
    return await idea_service.create(
        session=session,
        workspace=workspace,
        author=author,
        data=idea_service.IdeaInput(title=title, latitude=str(lat), longitude=str(lng), place_name=title),
    )


def points(html: str) -> list[dict]:
    found = re.search(r'<script type="application/json" id="ideas-map-points">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else []


async def test_the_map_shows_the_ideas_with_a_place_and_links_each_to_its_idea(
    client, session, porto, facilitator
):
    author = await make_user(session)
    await workspace_service.join(session=session, workspace=porto, user=author)
    garden = await placed_idea(session, porto, author, "Rain garden at Campanhã", 41.149, -8.585)
    hidden = await placed_idea(session, porto, author, "Spam at the station", 41.148, -8.586)
    await idea_service.create(
        session=session, workspace=porto, author=author, data=idea_service.IdeaInput(title="No place")
    )
    await hidden_by_a_moderator(session, porto, hidden)
    page = await client.get(f"/w/{porto.slug}/map")
    assert page.status_code == 200
    assert points(page.text) == [
        {"title": garden.title, "url": f"/w/{porto.slug}/ideas/{garden.id}", "lat": 41.149, "lng": -8.585}
    ]
    assert "1 idea has a place." in page.text and "Spam at the station" not in page.text
    assert 'data-leaflet-js="/static/vendor/leaflet-1.9.4/leaflet.js?v=' in page.text
    assert f'href="/w/{porto.slug}/map"' in (await client.get(f"/w/{porto.slug}")).text


async def test_the_map_page_runs_the_same_queries_for_one_idea_or_twenty(
    client, session, porto, query_counter
):
    author = await make_user(session)
    await workspace_service.join(session=session, workspace=porto, user=author)
    await placed_idea(session, porto, author, "First", 41.1, -8.6)

    async def queries() -> int:
        query_counter.count = 0
        assert (await client.get(f"/w/{porto.slug}/map")).status_code == 200
        return query_counter.count

    one = await queries()
    for n in range(19):
        await placed_idea(session, porto, author, f"Idea {n}", 41.1 + n / 1000, -8.6)
    assert await queries() == one


async def test_the_place_picker_opens_on_the_workspaces_city(client, session, porto, network):
    author = await make_user(session)
    await workspace_service.join(session=session, workspace=porto, user=author)
    await log_in(client, author)
    form = (await client.get(f"/w/{porto.slug}/ideas/new")).text
    city = network["Porto"]
    assert f'data-centre-lat="{city.latitude}" data-centre-lng="{city.longitude}"' in form
    # No geocoder is set: no search box is offered, and nothing would leave the server.
    assert "data-place-search" not in form
    assert 'data-locate="Use my location"' in form


async def test_leaflet_is_not_loaded_on_pages_without_a_map(client, porto):
    for page in ("/", f"/w/{porto.slug}", "/workspaces"):
        assert "leaflet" not in (await client.get(page)).text, page

"""Place search through the deployment's geocoder, asked by the server: a real local HTTP server
stands in for Nominatim."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from app.main import create_app
from app.workspaces import service as workspace_service
from tests.conftest import client_for, log_in, make_settings, make_user

PLACES = [
    {"display_name": "Campanhã, Porto, Portugal", "lat": "41.1486", "lon": "-8.5853"},
    {"display_name": "Not a place", "lat": "north", "lon": "-8"},
    {"display_name": "Off the globe", "lat": "123", "lon": "0"},
]


@pytest.fixture
def geocoder():
    """A Nominatim-like search service on a free local port; ``asked`` keeps each query's parameters."""
    asked: list[dict] = []
    answer = {"body": json.dumps(PLACES).encode(), "status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(
                {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                | {"ua": self.headers["User-Agent"]}
            )
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/search", asked, answer
    server.shutdown()
    server.server_close()


async def test_signed_in_people_find_places_by_name_in_their_language(
    database_url, session_factory, session, geocoder
):
    url, asked, _answer = geocoder
    app = create_app(make_settings(database_url, geocoder_url=url), session_factory)
    async with client_for(app) as client:
        await log_in(client, await make_user(session, locale="zh"))
        response = await client.get("/places/search", params={"q": "  Campanhã   station "})
    assert response.status_code == 200
    # Only real coordinates on the globe come back.
    assert response.json() == {
        "places": [{"name": "Campanhã, Porto, Portugal", "lat": 41.1486, "lng": -8.5853}]
    }
    (query,) = asked
    assert query["q"] == "Campanhã station" and query["format"] == "jsonv2"
    assert query["accept-language"] == "zh-CN" and query["ua"].startswith("cocreate (")


async def test_a_geocoder_that_fails_gets_a_clear_answer_not_a_500(
    database_url, session_factory, session, geocoder
):
    url, _asked, answer = geocoder
    app = create_app(make_settings(database_url, geocoder_url=url), session_factory)
    async with client_for(app) as client:
        await log_in(client, await make_user(session))
        for status, body in ((500, b"oops"), (200, b"not json"), (200, b'{"a": 1}')):
            answer.update(status=status, body=body)
            failed = await client.get("/places/search", params={"q": "Porto"})
            assert failed.status_code == 503, body
            assert "The place search is not answering" in failed.json()["detail"]
        assert (await client.get("/places/search", params={"q": "   "})).status_code == 422


async def test_a_geocoder_that_cannot_be_reached_gets_a_clear_answer(database_url, session_factory, session):
    app = create_app(make_settings(database_url, geocoder_url="http://127.0.0.1:9/search"), session_factory)
    async with client_for(app) as client:
        await log_in(client, await make_user(session))
        assert (await client.get("/places/search", params={"q": "Porto"})).status_code == 503


async def test_without_a_geocoder_there_is_no_search_and_the_form_offers_none(client, session, porto):
    await log_in(client, await make_user(session))
    assert (await client.get("/places/search", params={"q": "Porto"})).status_code == 404


async def test_the_form_offers_the_search_when_a_geocoder_is_set(
    database_url, session_factory, session, porto, geocoder
):
    url, _asked, _answer = geocoder
    author = await make_user(session)
    await workspace_service.join(session=session, workspace=porto, user=author)
    app = create_app(make_settings(database_url, geocoder_url=url), session_factory)
    async with client_for(app) as client:
        await log_in(client, author)
        form = (await client.get(f"/w/{porto.slug}/ideas/new")).text
    assert 'data-place-search="/places/search"' in form and 'data-search-label="Find a place by name"' in form

"""Every cell of the access table (tests/security/access.py): each role requests each route of the app
and gets the answer the table gives; a refused unsafe request changes nothing. And the table covers
the app: a route without a row, or a row without its route, fails here by name."""

import re

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.security import access

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED = {"401", "403", "404", "login"}


def app_routes(routes, prefix: str = ""):
    """(method, path) of every route the app answers, included routers and mounts too."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from app_routes(nested.routes, prefix + getattr(route, "prefix", ""))
        elif isinstance(route, Mount):
            yield "GET", prefix + route.path + "/{path}"
        elif isinstance(route, APIRoute | Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield method, prefix + route.path


def shape(method: str, path: str) -> str:
    return f"{method} {re.sub(r'{[^}]+}', '{}', path)}"


def test_every_route_of_the_app_has_a_row_and_every_row_a_route(world):
    routes = {shape(method, path) for method, path in app_routes(world.app.routes)}
    rows = {shape(row.method, row.path) for row in access.rows()}
    assert sorted(routes - rows) == [], "routes missing from tests/security/access.py"
    assert sorted(rows - routes) == [], "rows of tests/security/access.py whose route is gone"


def test_every_form_belongs_to_a_row():
    keys = {f"{row.method} {row.path}" for row in access.rows()}
    assert sorted(set(access.FORMS) - keys) == []


def _matches(expected: str, response, htmx: bool) -> bool:
    if expected == "login":
        if htmx:
            return response.status_code == 204 and response.headers["HX-Redirect"].startswith("/login")
        return response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    return str(response.status_code) == expected


CELLS = [
    pytest.param(row, column, id=f"{row.key} {column}") for row in access.rows() for column in access.COLUMNS
]


@pytest.mark.parametrize(("row", "column"), CELLS)
async def test_each_role_gets_the_answer_of_the_table(world, baseline, row, column):
    role = access.ROLE_OF_COLUMN[column]
    expected = row.answers[column]
    path = world.url(row.path)
    async with world.savepoint():
        if expected == "stream":
            status, _body = await world.stream(role, path)
            assert status == 200
            return
        headers = {"HX-Request": "true"} if row.htmx else {}
        form = access.FORMS.get(f"{row.method} {row.path}", lambda ids: {})(world.ids)
        with world.recording_writes() as writes:
            async with world.client(role) as client:
                if row.method == "GET":
                    response = await client.get(path, headers=headers)
                else:
                    data = {"csrf_token": world.csrf(role), **form}
                    response = await client.request(row.method, path, data=data, headers=headers)
        assert _matches(expected, response, row.htmx), (
            f"{row.key} as {column}: expected {expected}, got {response.status_code} "
            f"{response.headers.get('location', '')}"
        )
        if row.method in UNSAFE and expected in REFUSED and writes:
            assert await world.fingerprint() == baseline, f"a refused {row.key} changed {writes}"

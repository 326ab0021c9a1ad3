"""A missing or stale CSRF token on every unsafe route of the app (the unsafe rows of the access table,
which covers ``app.routes``), sent by someone the route would otherwise serve, with the form it takes:
403, and nothing changed. Stale means: another visitor's or person's token, the token of a login that
has since logged out (with today's cookie, or with that login's own cookie, kept), and the token the
browser had before logging in. A cookie kept from before login or after logout grants nothing."""

import pytest

from app.accounts import service as account_service
from tests.security import access
from tests.security.test_access import UNSAFE, app_routes, shape
from tests.security.world import ANON_ID

SUCCESS = {"200", "201", "204", "303", "409", "422"}


def served_by(row: access.Row) -> str:
    """The first role the route serves (its answer is no refusal), else the admin."""
    column = next((column for column in access.COLUMNS if row.answers[column] in SUCCESS), "admin")
    return access.ROLE_OF_COLUMN[column]


UNSAFE_ROWS = [row for row in access.rows() if row.method in UNSAFE and not row.htmx]
# (what is sent, whether the case needs someone logged in)
CASES = {
    "no token": False,
    "another visitor's token": False,
    "the token of a login that has logged out": True,
    "that login's cookie and token, kept after logging out": True,
    "the token from before logging in": True,
}
ATTEMPTS = [
    pytest.param(row, case, id=f"{row.key} {case}")
    for row in UNSAFE_ROWS
    for case, needs_login in CASES.items()
    if not (needs_login and served_by(row) == "anonymous")
]


@pytest.fixture(scope="module")
async def logged_out(world) -> dict[str, str]:
    """For each role, the cookie token of an earlier login of theirs, logged out through the form."""
    tokens = {}
    for role in access.ROLE_OF_COLUMN.values():
        if role == "anonymous":
            continue
        token, _auth_session = await account_service.start_session(
            session=world.session,
            user=world.users[role],
            settings=world.settings,
            address="203.0.113.7",
            user_agent="",
        )
        world.tokens[f"{role}-before"], tokens[role] = token, token
        assert (await world.post(f"{role}-before", "/logout")).status_code == 303
    return tokens


@pytest.fixture(scope="module")
async def baseline(world, logged_out) -> dict:
    return await world.fingerprint()


def test_every_unsafe_route_of_the_app_is_tried(world):
    unsafe = {shape(method, path) for method, path in app_routes(world.app.routes) if method in UNSAFE}
    assert unsafe == {shape(row.method, row.path) for row in UNSAFE_ROWS}


@pytest.mark.parametrize(("row", "case"), ATTEMPTS)
async def test_a_missing_or_stale_token_is_refused_and_nothing_changes(
    world, baseline, logged_out, row, case
):
    role = served_by(row)
    cookies = {}
    settings = world.settings
    token = None
    if case == "another visitor's token":
        token = world.csrf("citizen" if role == "anonymous" else "anonymous")
    elif case == "the token of a login that has logged out":
        token = world.csrf(f"{role}-before")
    elif case == "that login's cookie and token, kept after logging out":
        cookies = {settings.session_cookie_name: logged_out[role], settings.anon_cookie_name: ANON_ID}
        token = world.csrf(f"{role}-before")
    elif case == "the token from before logging in":
        cookies = {settings.anon_cookie_name: ANON_ID}
        token = world.csrf("anonymous")
    form = access.FORMS.get(f"{row.method} {row.path}", lambda ids: {})(world.ids)
    async with world.savepoint():
        with world.recording_writes() as writes:
            async with world.client(role) as client:
                client.cookies.update(cookies)
                data = {**form, "csrf_token": token} if token else form
                response = await client.request(row.method, world.url(row.path), data=data)
        assert response.status_code == 403, response.status_code
        assert "Your form expired or came from another site." in response.text
        if writes:
            assert await world.fingerprint() == baseline, writes


async def test_a_session_cookie_kept_after_logging_out_grants_nothing(world, logged_out):
    async with world.client("member") as client:
        client.cookies.set(world.settings.session_cookie_name, logged_out["member"])
        profile = await client.get("/profile")
        assert profile.status_code == 303 and profile.headers["location"].startswith("/login")
        notifications = await client.get("/notifications")
        assert notifications.status_code == 303
        idea = await client.get(world.url("/w/{slug}/ideas/{idea_id}"))
        assert "Mia Member" not in idea.text.split("</header>")[0]


async def test_the_header_token_of_htmx_is_checked_like_the_form_field(world, baseline, logged_out):
    async with world.savepoint(), world.client("member") as client:
        for token in ("", world.csrf("anonymous"), world.csrf("member-before")):
            response = await client.post(
                world.url("/w/{slug}/ideas/{idea_id}/support"),
                headers={"X-CSRF-Token": token, "HX-Request": "true"},
            )
            assert response.status_code == 403
        allowed = await client.post(
            world.url("/w/{slug}/ideas/{idea_id}/support"),
            headers={"X-CSRF-Token": world.csrf("member"), "HX-Request": "true"},
        )
        assert allowed.status_code == 200


async def test_a_token_that_is_not_plain_text_is_refused_not_a_server_error(world, baseline, logged_out):
    async with world.savepoint(), world.client("member") as client:
        in_header = await client.post(
            world.url("/w/{slug}/ideas/{idea_id}/support"),
            headers={"X-CSRF-Token": "t\u00f6ken".encode("latin-1"), "HX-Request": "true"},
        )
        in_field = await client.post(
            world.url("/w/{slug}/ideas/{idea_id}/support"), data={"csrf_token": "\u4ee4"}
        )
        assert in_header.status_code == 403 and in_field.status_code == 403
    assert await world.fingerprint() == baseline

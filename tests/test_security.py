"""CSRF on every unsafe route, security headers, the body size limit, and escaping."""

import re

import pytest
from fastapi.routing import APIRoute

from app.core.config import ConfigurationError, Settings
from app.main import create_app
from tests.conftest import client_for, csrf_token, log_in, make_settings, post_form

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def api_routes(routes, prefix: str = ""):
    """Every APIRoute, including those of included routers (FastAPI keeps those nested)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from api_routes(nested.routes, prefix + getattr(route, "prefix", ""))
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def unsafe_routes(app) -> list[tuple[str, str]]:
    found = []
    for path, route in api_routes(app.routes):
        found.extend((method, re.sub(r"{[^}]+}", "1", path)) for method in sorted(route.methods & UNSAFE))
    return found


def test_the_app_has_unsafe_routes_to_walk(app):
    routes = unsafe_routes(app)
    assert ("POST", "/login") in routes and ("POST", "/admin/cities/import") in routes


@pytest.mark.parametrize("signed_in", [False, True])
async def test_every_unsafe_route_refuses_a_request_without_csrf_token(client, session, admin, signed_in):
    if signed_in:
        await log_in(client, admin)
    for method, path in unsafe_routes(client._transport.app):
        response = await client.request(method, path, data={"language": "zh", "email": admin.email})
        assert response.status_code == 403, f"{method} {path} answered {response.status_code}"
        assert "Your form expired" in response.text


async def test_a_wrong_or_foreign_token_is_refused(client, other_client, user):
    foreign = await csrf_token(other_client)
    response = await client.post("/login", data={"csrf_token": foreign, "email": user.email})
    assert response.status_code == 403
    response = await client.post("/login", data={"csrf_token": "0" * 64})
    assert response.status_code == 403


async def test_htmx_sends_the_token_as_a_header(client, user):
    await log_in(client, user)
    page = await client.get("/profile")
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text).group(1)
    response = await client.post(
        "/language", data={"language": "zh"}, headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert response.status_code == 303


async def test_the_token_changes_at_login(client, user):
    before = await csrf_token(client)
    await log_in(client, user)
    after = await csrf_token(client)
    assert before != after
    response = await client.post("/profile/sessions/end-others", data={"csrf_token": before})
    assert response.status_code == 403


async def test_security_headers_and_csp_nonce(client):
    response = await client.get("/")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.text
    assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert '"allowEval":false' in response.text.replace("&#34;", '"')
    assert (await client.get("/")).headers["Content-Security-Policy"] != csp


async def test_production_adds_hsts_and_host_prefixed_secure_cookies(database_url, session_factory, user):
    settings = make_settings(database_url, env="production", base_url="https://testserver")
    async with client_for(create_app(settings, session_factory), "https://testserver") as client:
        response = await client.get("/")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "__Host-cocreate_anon=" in response.headers["set-cookie"]
        assert "Secure" in response.headers["set-cookie"]
        login = await post_form(client, "/login", {"email": user.email, "password": "a walk in the park"})
        cookie = [c for c in login.headers.get_list("set-cookie") if c.startswith("__Host-cocreate_session=")]
        assert cookie and "Secure" in cookie[0] and "HttpOnly" in cookie[0] and "Path=/" in cookie[0]


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigurationError, match="COCREATE_SECRET_KEY"):
        Settings(env="production", secret_key="", _env_file=None)


async def test_cdn_assets_are_pinned_with_sri(database_url, session_factory):
    async with client_for(create_app(make_settings(database_url, assets="cdn"), session_factory)) as client:
        response = await client.get("/")
    # Asked for in the background by static/js/load.js, with their integrity hashes.
    assert re.search(
        r'data-htmx-cdn="https://[^"]+htmx\.org@2\.\d+\.\d+/[^"]+" data-htmx-sri="sha384-', response.text
    )
    assert re.search(r'data-sse-cdn="https://[^"]+htmx-ext-sse@[^"]+" data-sse-sri="sha384-', response.text)


async def test_local_assets_are_served_from_static(client):
    response = await client.get("/")
    src = re.search(r'src="(/static/vendor/htmx-2[^"]+)"', response.text).group(1)
    asset = await client.get(src)
    assert asset.status_code == 200 and b"htmx" in asset.content


async def test_a_body_over_the_limit_gets_413(database_url, session_factory):
    settings = make_settings(database_url, max_body_bytes=10_000)
    async with client_for(create_app(settings, session_factory)) as client:
        token = await csrf_token(client)
        response = await client.post("/login", data={"csrf_token": token, "email": "x" * 20_000})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.text


async def test_user_content_is_escaped(client, session):
    from tests.conftest import make_user

    user = await make_user(session, display_name='<script>alert("x")</script>')
    await log_in(client, user)
    page = await client.get("/profile")
    assert '<script>alert("x")</script>' not in page.text
    assert "&lt;script&gt;" in page.text


async def test_a_trailing_slash_redirects_to_a_path_never_to_the_host_header(client):
    response = await client.get("/workspaces/?page=2", headers={"Host": "evil.example"})
    assert response.status_code == 307
    assert response.headers["location"] == "/workspaces?page=2"
    assert (await client.get("/no-such-page/")).status_code == 404


def test_production_refuses_to_start_without_a_base_url():
    with pytest.raises(ConfigurationError, match="COCREATE_BASE_URL"):
        Settings(env="production", secret_key="x" * 40, base_url="", _env_file=None)


@pytest.mark.parametrize("base_url", ["cocreate.example.org", "ftp://cocreate.example.org", "https://"])
def test_a_base_url_that_is_not_a_web_address_is_refused(base_url):
    with pytest.raises(ConfigurationError, match="COCREATE_BASE_URL"):
        Settings(base_url=base_url, _env_file=None)


def test_development_defaults_to_the_local_address():
    assert Settings(_env_file=None).base_url == "http://127.0.0.1:8000"

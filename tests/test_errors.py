"""Error pages in the layout, in the reader's language, without tracebacks; the health check."""

import re

from app.main import create_app
from tests.conftest import client_for


async def test_404_is_a_page_in_the_layout(client):
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'class="site-header"' in response.text


async def test_404_in_chinese(client):
    response = await client.get("/no-such-page", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 404
    assert "页面不存在" in response.text


async def test_500_shows_no_traceback(settings, session_factory):
    app = create_app(settings, session_factory)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    async with client_for(app) as client:
        client._transport.raise_app_exceptions = False
        response = await client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_a_500_carries_the_security_headers_of_every_answer(settings, session_factory):
    app = create_app(settings, session_factory)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals")

    async with client_for(app) as client:
        client._transport.raise_app_exceptions = False
        response = await client.get("/boom")
        page = await client.get("/")
    assert response.status_code == 500
    for name in (
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ):
        assert response.headers[name] == page.headers[name]
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.text  # the page's own scripts still run under its policy


async def test_a_flash_cookie_with_a_signature_outside_ascii_is_ignored(client):
    for signature in ("\u00e9".encode().decode("latin-1"), "\u4e2d\u6587".encode().decode("latin-1")):
        cookie = f"cocreate_flash=W10=.{signature}".encode("latin-1")
        response = await client.get("/", headers={"Cookie": cookie})
        assert response.status_code == 200
        assert 'class="flash' not in response.text


async def test_bad_query_parameter_is_not_a_500(client):
    response = await client.get("/login", params={"next": "x" * 5000})
    assert response.status_code == 200


async def test_healthz_checks_the_database(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_reports_an_unreachable_database(settings):
    from app.core.db import create_engine, create_session_factory
    from tests.conftest import make_settings

    broken = make_settings("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    factory = create_session_factory(create_engine(broken))
    async with client_for(create_app(settings, factory)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 503


async def test_a_refusal_no_route_answered_is_a_page_a_fragment_or_json(settings, session_factory, session):
    """``app.core.errors.Refused`` raised anywhere is answered with its status and message, as a page
    for a browser, the message alone for an htmx swap, JSON for the API; and what the request wrote
    before it is rolled back."""
    from sqlmodel import select

    from app.accounts.models import User
    from app.core.db import Mode
    from app.core.deps import SessionDep, unit_mode
    from app.core.errors import Refused
    from tests.conftest import make_user

    app = create_app(settings, session_factory)
    user = await make_user(session, display_name="Before the refusal")

    async def refuse(session: SessionDep):
        row = await session.get(User, user.id)
        row.display_name = "Written, then refused"
        await session.flush()
        raise Refused("This workspace is archived and accepts nothing new.")

    # A GET that writes says so (``unit_mode``), or its write is refused before it reaches the database.
    app.get("/refuse", dependencies=[unit_mode(Mode.WRITE)])(refuse)
    app.get("/api/v1/refuse", dependencies=[unit_mode(Mode.WRITE)])(refuse)
    async with client_for(app) as client:
        page = await client.get("/refuse", headers={"Accept-Language": "en"})
        fragment = await client.get("/refuse", headers={"HX-Request": "true"})
        api = await client.get("/api/v1/refuse")
    assert page.status_code == 409 and 'class="site-header"' in page.text
    assert "This workspace is archived and accepts nothing new." in page.text
    assert fragment.status_code == 409 and 'class="site-header"' not in fragment.text
    assert "This workspace is archived" in fragment.text
    assert api.status_code == 409
    assert api.json() == {"detail": "This workspace is archived and accepts nothing new."}
    assert (await session.exec(select(User.display_name).where(User.id == user.id))).one() == (
        "Before the refusal"
    )

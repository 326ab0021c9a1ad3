"""Test fixtures: the schema is migrated once per run; each test runs in a transaction rolled back
at its end. The suite runs on SQLite, or on PostgreSQL when COCREATE_TEST_DATABASE_URL is set."""

import os
import re
import secrets

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import AuthSession, Role, User
from app.core import migrations, security
from app.core.config import Settings
from app.core.db import DriverQuery, Mode, create_engine, unit_of_work, utcnow
from app.core.security import csrf_token_for, token_digest
from app.main import create_app
from tests.e2e import chromium


def worker_database_url(url: str) -> str:
    """The database of this test process. Under pytest-xdist (``make test`` runs the suite over the
    cores) each worker has its own PostgreSQL database beside the one named, ``<name>_gw0`` and so on,
    made afresh by the worker (``engine``); SQLite's file is per worker already (``database_url``)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


TEST_DATABASE_URL = worker_database_url(os.environ.get("COCREATE_TEST_DATABASE_URL", ""))
TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-for-production-0123456789"
# Tests that cast papers through the service give it the key the app uses.
TEST_VOTING_KEY = TEST_SECRET_KEY
PASSWORD = "a walk in the park"


def pytest_report_header(config):
    def kind(url: str) -> str:
        return "PostgreSQL" if url.startswith("postgresql") else "SQLite"

    e2e_url = os.environ.get("COCREATE_E2E_DATABASE_URL", "")
    return [
        f"database: {kind(TEST_DATABASE_URL)}",
        f"browser tests' server database: {kind(e2e_url)}",
        chromium.describe(),
    ]


def pytest_collection_modifyitems(config, items):
    """Browser tests last: they are the slowest, and they keep Playwright's loop off the async tests.
    Tests of SQLite's own settings are deselected (not skipped) when the suite runs on PostgreSQL."""
    if TEST_DATABASE_URL.startswith("postgresql"):
        sqlite_only = [item for item in items if item.get_closest_marker("sqlite_only")]
        config.hook.pytest_deselected(items=sqlite_only)
        items[:] = [item for item in items if not item.get_closest_marker("sqlite_only")]
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "env": "development",
        "assets": "local",
        "data_dir": "/nonexistent-data-dir",
        "_env_file": None,
    }
    values.update(overrides)
    settings = Settings(**values)
    # What the app reads from the database at start-up (app.voting.keys); test clients run no start-up.
    settings.use_voting_key(TEST_VOTING_KEY)
    return settings


@pytest.fixture(scope="session", autouse=True)
def light_password_hashing():
    """argon2id with its lightest settings for the suite, which makes and signs in thousands of users:
    at the app's settings each hash takes half a second or more. The hashes are still argon2id, checked
    by the same code (it reads the settings from each hash)."""
    light = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", light)
        patch.setattr(security, "_DUMMY_HASH", light.hash("not a password"))
        yield


async def _worker_database(url: str, *, create: bool) -> None:
    """A worker's own PostgreSQL database: dropped if there (an earlier run's), then created empty
    when ``create``."""
    parsed = make_url(url)
    maintenance = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = maintenance.dialect.identifier_preparer.quote(parsed.database)
    try:
        async with maintenance.connect() as connection:
            await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            if create:
                await connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        await maintenance.dispose()


@pytest.fixture(scope="session")
async def engine(database_url):
    own_database = database_url.startswith("postgresql") and bool(os.environ.get("PYTEST_XDIST_WORKER"))
    if own_database:
        await _worker_database(database_url, create=True)
    engine = create_engine(make_settings(database_url))
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await connection.run_sync(migrations.upgrade_on)
    yield engine
    await engine.dispose()
    if own_database:
        await _worker_database(database_url, create=False)


@pytest.fixture
async def connection(engine):
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def session_factory(connection):
    return async_sessionmaker(
        bind=connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(session_factory):
    async with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings, session_factory):
    return create_app(settings, session_factory)


def client_for(app, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)), base_url=base_url
    )


@pytest.fixture
async def client(app):
    async with client_for(app) as client:
        yield client


@pytest.fixture
async def other_client(app):
    async with client_for(app) as client:
        yield client


SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture
def query_counter(connection, monkeypatch):
    """Counts the SQL statements run on the test connection while it is active, those run straight on
    asyncpg (``app.core.db.DriverQuery``) included."""

    class Counter:
        count = 0
        statements: list[str] = []

        @classmethod
        def since(cls, mark: int) -> list[str]:
            """The statements run since the count was ``mark``, savepoints left out: the tests' requests
            run in savepoints of the test's transaction, which a real request does not."""
            return [sql for sql in cls.statements[mark:] if not sql.lstrip().upper().startswith(SAVEPOINTS)]

    def count(*args):
        Counter.count += 1
        Counter.statements.append(str(args[2]) if len(args) > 2 else "driver")

    fetch = DriverQuery.fetch

    async def counted_fetch(self, driver_connection, **params):
        count()
        return await fetch(self, driver_connection, **params)

    monkeypatch.setattr(DriverQuery, "fetch", counted_fetch)
    event.listen(connection.sync_connection, "before_cursor_execute", count)
    yield Counter
    event.remove(connection.sync_connection, "before_cursor_execute", count)


def http_scope(method: str, path: str, *, headers: list[tuple[bytes, bytes]], query: str = "") -> dict:
    """An ASGI HTTP scope as a server makes it, from the address ``client_for`` uses: for tests that
    drive the app's ``receive`` and ``send`` themselves (a stream, a client that goes away)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
    }


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str | None = None) -> str:
    """The token a form of this client's browser session carries. With ``path``, read off that page
    as a browser does; otherwise derived from the client's cookies as the app derives it (the session's
    key while the app takes the session as live, else an anonymous id, set here when the client has
    none yet), which saves a page per form."""
    app = getattr(client._transport, "app", None)
    if path is None and app is None:
        path = "/"  # a real server in another process: read its page as a browser does
    if path is not None:
        response = await client.get(path)
        match = CSRF_RE.search(response.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)
    settings: Settings = app.state.settings
    token = client.cookies.get(settings.session_cookie_name)
    if token:
        async with unit_of_work(app.state.session_factory, Mode.READ) as session:
            live = await account_service.load_session(session=session, token=token, settings=settings)
        if live:
            return csrf_token_for(settings.secret_key, token)
        # An ended session: the app treats the browser as a visitor and clears the cookie.
        client.cookies.delete(settings.session_cookie_name)
    anon = client.cookies.get(settings.anon_cookie_name)
    if not anon:
        anon = secrets.token_urlsafe(24)
        client.cookies.set(settings.anon_cookie_name, anon)
    return csrf_token_for(settings.secret_key, "anon:" + anon)


async def post_form(client: httpx.AsyncClient, url: str, data: dict | None = None, **kwargs):
    token = await csrf_token(client)
    return await client.post(url, data={"csrf_token": token, **(data or {})}, **kwargs)


_counter = iter(range(1, 1_000_000))


async def make_user(
    session,
    *,
    role: Role = Role.CITIZEN,
    email: str | None = None,
    display_name: str = "Test Citizen",
    locale: str = "en",
    time_zone: str = "UTC",
) -> User:
    return await account_service.create(
        session=session,
        email=email or f"user{next(_counter)}@example.org",
        display_name=display_name,
        password=PASSWORD,
        locale=locale,
        time_zone=time_zone,
        role=role,
    )


async def log_in(client: httpx.AsyncClient, user: User, password: str = PASSWORD, *, via_form: bool = False):
    """Signs ``user`` in on ``client``. By default the login session is started directly, as the login
    form starts it (its cookie, the user's last login, the client's earlier session ended), without
    the form's page and password check; ``via_form`` (or another password) posts the real form and
    returns its answer, for tests of signing in itself, and for a server in another process."""
    app = getattr(client._transport, "app", None)
    if via_form or password != PASSWORD or app is None:
        response = await post_form(client, "/login", {"email": user.email, "password": password})
        assert response.status_code == 303, response.text
        return response
    settings: Settings = app.state.settings
    assert user.is_active, "a disabled account cannot sign in"
    earlier = client.cookies.get(settings.session_cookie_name)
    async with unit_of_work(app.state.session_factory) as session:
        if earlier:
            current = (
                await session.exec(select(AuthSession).where(AuthSession.token_hash == token_digest(earlier)))
            ).first()
            if current is not None:
                await account_service.end_session(session=session, auth_session_id=current.id)
        row = await session.get(User, user.id)
        row.last_login_at = utcnow()
        token, _auth_session = await account_service.start_session(
            session=session, user=row, settings=settings, address="203.0.113.7", user_agent="python-httpx"
        )
    client.cookies.set(settings.session_cookie_name, token)
    return None


@pytest.fixture
async def user(session):
    return await make_user(session)


@pytest.fixture
async def admin(session):
    return await make_user(session, role=Role.ADMIN, display_name="Admin")

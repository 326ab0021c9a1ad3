"""The async engine, the session factory, the constraint naming convention and shared column types."""

import asyncio
import enum
import functools
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.util import await_only
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_TURN_TIMEOUT_SECONDS = 60

SessionFactory = async_sessionmaker[AsyncSession]
AUTOCOMMIT = "AUTOCOMMIT"
# An execution option: on SQLite the connection's transactions begin with BEGIN IMMEDIATE, after
# waiting for their turn at the write gate (below).
SQLITE_IMMEDIATE = "cocreate_sqlite_immediate"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC
    and given its zone back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is expected")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class WriteGate:
    """One writing transaction at a time among a process's SQLite connections, in the order they asked.
    SQLite lets one connection write at a time and has the others poll for the lock until the busy
    timeout, in no order: under a burst (a room of two hundred registering at once) an unlucky request
    gave up with "database is locked". Here they wait their turn in the event loop, and the busy
    timeout is left for other processes (the command line).

    A unit of work that writes asks for its turn when its first statement begins its transaction
    (``BEGIN IMMEDIATE``), not before: a request that only hashes a password or reads a form holds
    no one up. The turn ends with the transaction (commit or rollback) or, at the latest, when the
    connection goes back to the pool or is invalidated."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.holder = None  # the DBAPI connection whose transaction has the turn
        self.task: asyncio.Task | None = None  # the task that holds it

    def take(self, dbapi_connection) -> None:
        """Waits for the turn (called from the connection's BEGIN, inside SQLAlchemy's greenlet, so
        it can wait on the event loop). A task that already holds the turn on another connection
        would wait for itself: that is a programming error, raised at once."""
        task = asyncio.current_task()
        if self.holder is not None and task is not None and self.task is task:
            raise RuntimeError(
                "this task already writes on another SQLite connection; a second writer would wait for it"
            )
        await_only(asyncio.wait_for(self.lock.acquire(), WRITE_TURN_TIMEOUT_SECONDS))
        self.holder, self.task = dbapi_connection, task

    def end(self, dbapi_connection) -> None:
        if self.holder is not None and self.holder is dbapi_connection:
            self.holder = self.task = None
            self.lock.release()


_write_gates: "weakref.WeakKeyDictionary[sa.Engine, WriteGate]" = weakref.WeakKeyDictionary()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; explicit BEGIN so SAVEPOINTs work;
    and the write gate, for connections whose execution options ask for it (``SQLITE_IMMEDIATE``).

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; taking it over is the
    documented remedy (SQLAlchemy, "Serializable isolation / Savepoints / Transactional DDL").
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    gate = _write_gates[engine.sync_engine] = WriteGate()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        if not connection.get_execution_options().get(SQLITE_IMMEDIATE):
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        gate.take(dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.end(dbapi_connection)
            raise

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(connection) -> None:
        gate.end(connection.connection.dbapi_connection)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(dbapi_connection, _record) -> None:
        if dbapi_connection is not None:
            gate.end(dbapi_connection)

    @event.listens_for(engine.sync_engine.pool, "invalidate")
    def _on_invalidate(dbapi_connection, _record, _exception) -> None:
        gate.end(dbapi_connection)


def create_engine(settings: Settings, **kwargs) -> AsyncEngine:
    if settings.is_sqlite:
        db_path = settings.database_url.split(":///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(settings.database_url, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No ping before each checkout: it costs three round trips a time, several times per request. A
    # connection the server dropped fails one statement, and SQLAlchemy then discards the whole pool.
    kwargs.setdefault("pool_recycle", 1800)
    kwargs.setdefault("pool_size", settings.database_pool_size)
    kwargs.setdefault("max_overflow", settings.database_max_overflow)
    return create_async_engine(settings.database_url, **kwargs)


def create_session_factory(bind) -> SessionFactory:
    return async_sessionmaker(bind, class_=AsyncSession, expire_on_commit=False)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNIT_KEY = "cocreate_unit_of_work"


class Mode(enum.Enum):
    """How a unit of work's transaction runs.

    - ``WRITE``: one transaction, committed at the end; on SQLite it takes the write lock with its
      first statement (``BEGIN IMMEDIATE``), so what it reads before it writes is still true when it
      writes.
    - ``READ``: for a request that only reads (GET). On PostgreSQL its statements run without BEGIN and
      ROLLBACK around them (two round trips saved); a write in it is a programming error.
    - ``ALONE``: a write of one statement that stands alone (a vote): on PostgreSQL it commits by
      itself, without a transaction around the request's reads; on SQLite it is ``WRITE``.
    """

    WRITE = "write"
    READ = "read"
    ALONE = "alone"


class UnitOfWork:
    """The database work of one request (or one command): one session, one transaction, committed once
    at the end when everything succeeded and rolled back otherwise. Services only ``flush``; what
    goes with a change (a live event, a notification, an activity row, a counter) is in the same
    transaction, so it is kept or dropped with it.

    The session is opened when first asked for (``session``) and its transaction begins with its
    first statement. What must stand whatever the request does (a rate limit's count) is written
    ``apart``."""

    def __init__(self, factory: "SessionFactory", mode: Mode = Mode.WRITE) -> None:
        self.factory = factory
        self.mode = mode
        self.after_commit: list = []
        self._session: AsyncSession | None = None

    @property
    def opened(self) -> bool:
        return self._session is not None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.factory(bind=_bind_for(bind_of(self.factory), self.mode))
            self._session.info[_UNIT_KEY] = self
            if self.mode is Mode.READ:
                sa.event.listen(self._session.sync_session, "before_flush", _refuse_writes_in_reads)
        return self._session

    def use(self, mode: Mode) -> None:
        """Sets how the transaction runs, before it has begun (a route's dependency says so)."""
        if self._session is not None and self._session.in_transaction():
            raise RuntimeError("the unit of work has begun; its mode can no longer change")
        if self._session is not None:
            _rebind(self._session, _bind_for(bind_of(self.factory), mode))
            if self.mode is Mode.READ and mode is not Mode.READ:
                sa.event.remove(self._session.sync_session, "before_flush", _refuse_writes_in_reads)
        self.mode = mode

    async def finish(self, *, success: bool) -> None:
        """Commits when ``success``, else rolls back; then closes. Once."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if success:
                await session.commit()
            else:
                self.after_commit.clear()
                await session.rollback()
        finally:
            await session.close()
        for step in self.after_commit:
            step()
        self.after_commit.clear()


def _refuse_writes_in_reads(session, _flush_context, _instances) -> None:
    if session.new or session.deleted or any(session.is_modified(row) for row in session.dirty):
        raise RuntimeError("a unit of work in READ mode (a GET) cannot write; declare the route a writer")


_binds: "weakref.WeakKeyDictionary[AsyncEngine, dict]" = weakref.WeakKeyDictionary()


def _bind_for(bind, mode: Mode):
    """What a unit of work's session runs on: the engine with the execution options of its mode. A
    single connection (the tests') is used as it is, inside the transaction it is in."""
    if not isinstance(bind, AsyncEngine):
        return bind
    per_mode = _binds.setdefault(bind, {})
    if mode not in per_mode:
        if bind.dialect.name == "sqlite":
            options = {} if mode is Mode.READ else {SQLITE_IMMEDIATE: True}
        else:
            options = {} if mode is Mode.WRITE else {"isolation_level": AUTOCOMMIT}
        per_mode[mode] = bind.execution_options(**options) if options else bind
    return per_mode[mode]


def _rebind(session: AsyncSession, bind) -> None:
    """Points an open session at another engine (the same database, other execution options). The
    async session must know it too, else ``session.bind`` cannot translate it back."""
    session.bind = bind
    sync = bind.sync_engine if isinstance(bind, AsyncEngine) else bind.sync_connection
    if session.sync_session.bind is not sync:  # SQLAlchemy 2.0 keeps the two apart
        session.sync_session.bind = sync


async def needs_transaction(session: AsyncSession) -> None:
    """For a unit of work in ``Mode.ALONE`` whose write turns out to be more than one statement (a vote
    on a session's ballot also raises a live event): on PostgreSQL its reads so far end, and what
    follows runs in one transaction. Nothing may have been written yet."""
    unit = unit_of(session)
    if unit is None or unit.mode is not Mode.ALONE:
        return
    bind = bind_of(unit.factory)
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        await session.commit()  # statements ran each on its own: this only gives the connection back
        _rebind(session, _bind_for(bind, Mode.WRITE))
    unit.mode = Mode.WRITE


def unit_of(session: AsyncSession) -> UnitOfWork | None:
    return session.info.get(_UNIT_KEY)


def after_commit(session: AsyncSession, step) -> None:
    """Runs ``step()`` once the unit of work has committed (not at all if it rolls back): for what
    is outside the database, a file removed say, so a failure never leaves a row without its file.
    A session made without a unit of work (a test's) runs it at once."""
    unit = unit_of(session)
    if unit is None:
        step()
    else:
        unit.after_commit.append(step)


@asynccontextmanager
async def unit_of_work(factory: "SessionFactory", mode: Mode = Mode.WRITE) -> AsyncIterator[AsyncSession]:
    """A unit of work outside a request (a command, a live room's step, a test's race): the session,
    committed when the block ends without error, rolled back otherwise."""
    unit = UnitOfWork(factory, mode)
    try:
        yield unit.session
    except BaseException:
        await unit.finish(success=False)
        raise
    await unit.finish(success=True)


@asynccontextmanager
async def apart(session: AsyncSession, mode: Mode = Mode.WRITE) -> AsyncIterator[AsyncSession]:
    """A transaction of its own beside ``session``'s, committed when the block ends: for what must
    stand whatever the request does (a rate limit's count), or (``Mode.READ``) a read before a slow
    step that should not hold the request's transaction open. On SQLite a writing one comes before
    the request's first statement: the write lock is held by one transaction at a time."""
    unit = unit_of(session)
    if unit is not None:
        if mode is not Mode.READ and unit.opened and unit.session.in_transaction():
            # On SQLite it would wait for the request's own write lock; in the tests' one connection
            # its count would be undone with the request's refusal. The rule holds on every database.
            raise RuntimeError("a write apart from the request comes before the request's first statement")
        factory = unit.factory
    else:  # a session made without a unit of work (a test's): a session on the same bind
        factory = async_sessionmaker(
            session.bind,
            class_=AsyncSession,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
    async with unit_of_work(factory, mode) as other:
        yield other


class UnitOfWorkMiddleware:
    """Gives each HTTP request a unit of work (``scope["state"]["unit_of_work"]``), READ for GET and
    HEAD, WRITE for the rest, which ``app.core.deps.get_session`` opens. It ends when the answer starts:
    committed for an answer below 400, rolled back for a refusal or an error, so a page that shows a
    form again with its errors keeps nothing of what was tried. A commit that fails becomes the
    server error it is, before anything was sent. An event stream's session ends before its first
    event."""

    def __init__(self, app, session_factory: "SessionFactory") -> None:
        self.app = app
        self.session_factory = session_factory

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        mode = Mode.READ if scope["method"] in SAFE_METHODS else Mode.WRITE
        unit = UnitOfWork(self.session_factory, mode)
        scope.setdefault("state", {})["unit_of_work"] = unit

        async def send_after_finish(message) -> None:
            if message["type"] == "http.response.start":
                await unit.finish(success=message["status"] < 400)
            await send(message)

        try:
            await self.app(scope, receive, send_after_finish)
        finally:
            await unit.finish(success=False)  # only if the answer never started (an error)


class DriverQuery:
    """A statement compiled once for PostgreSQL and run straight on asyncpg (``driver``): no ORM, no
    result processing, no greenlet hop. For the few statements on the busiest paths (the sign-in
    lookup of every request, a vote), where SQLAlchemy's work per statement cost more CPU than
    PostgreSQL's. Values go in as asyncpg takes them (``json`` columns as text) and rows come back as
    asyncpg records, in the order of the statement's columns (``loaded_models`` makes model objects
    of them); ``timestamptz`` values are aware UTC datetimes."""

    def __init__(self, statement: sa.Executable) -> None:
        compiled = statement.compile(dialect=PGDialect_asyncpg())
        self.sql = str(compiled)
        self.names = list(compiled.positiontup or [])

    async def fetch(self, connection, **params) -> list:
        return await connection.fetch(self.sql, *(params[name] for name in self.names))


def loaded_models(record, models) -> list:
    """The model objects whose columns follow one another in a ``DriverQuery``'s row (None for a model
    whose key is None, as from an outer join that found nothing), then the rest of the row.
    They are built as the ORM builds what it loads, without running ``__init__``, and are detached, as
    rows loaded by a session that has closed: a session they are added to again updates them. Values
    are taken as asyncpg gives them, without the columns' result processing: fine for text, numbers,
    booleans, ``timestamptz`` and ``json``, not for a type that converts what it reads."""
    found, start = [], 0
    for model in models:
        keys, key_at = _columns_of(model)
        values = record[start : start + len(keys)]
        if values[key_at] is None:
            found.append(None)
        else:
            instance = manager_of_class(model).new_instance()
            instance.__dict__.update(zip(keys, values, strict=True))
            make_transient_to_detached(instance)
            found.append(instance)
        start += len(keys)
    return [*found, *record[start:]]


@functools.cache
def _columns_of(model) -> tuple[tuple[str, ...], int]:
    """The model's attribute names in the order of its table's columns (the order ``select(model)``
    selects them in, tested), and where its key is."""
    sa.orm.configure_mappers()
    columns = list(model.__table__.columns)
    (key,) = model.__table__.primary_key.columns
    return tuple(column.key for column in columns), columns.index(key)


def bind_of(session_factory: SessionFactory) -> AsyncEngine | AsyncConnection:
    """What the factory's sessions run on: the app's engine, or one connection (in the tests)."""
    return session_factory.kw["bind"]


def runs_on_driver(bind: AsyncEngine | AsyncConnection) -> bool:
    """Whether ``driver`` and ``DriverQuery`` can be used: PostgreSQL through asyncpg."""
    return bind.dialect.driver == "asyncpg"


@asynccontextmanager
async def driver(bind: AsyncEngine | AsyncConnection) -> AsyncIterator:
    """The asyncpg connection beneath ``bind``: one of the engine's pool, given back at the end, whose
    statements each commit by themselves (none opens a transaction); or, for a single connection (the
    tests'), that connection, inside whatever transaction it is in. A connection that fails is dropped
    from the pool."""
    if not isinstance(bind, AsyncEngine):
        yield (await bind.get_raw_connection()).driver_connection
        return
    async with bind.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        try:
            yield raw
        except BaseException as error:
            # A connection lost, or a statement cut off by a cancellation (it may still be running):
            # not fit to go back to the pool. A refused statement leaves the connection as it was.
            if raw.is_closed() or isinstance(error, BROKEN_CONNECTION):
                await connection.invalidate()
            raise


BROKEN_CONNECTION = (
    asyncio.CancelledError,
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
)

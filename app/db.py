"""The async engine, the session factory, the constraint naming convention and shared column types."""

import asyncio
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
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings

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
# An execution option naming the write gate (below) whose turn the connection's next transaction has:
# on SQLite it begins with BEGIN IMMEDIATE.
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
    """One writing transaction at a time among a process's SQLite connections, in the order they asked
    (``begin_write``). SQLite lets one connection write at a time and has the others poll for the lock
    until the busy timeout, in no order: under a burst (a room of two hundred registering at once) an
    unlucky request gave up with "database is locked". Here they wait their turn in the event loop,
    without a timeout, and the busy timeout is left for other processes (the command line). The turn
    ends with the transaction (commit or rollback) or, at the latest, when the connection goes back to
    the pool or is invalidated."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.holder = None  # the DBAPI connection whose transaction has the turn

    def take(self, dbapi_connection) -> None:
        self.holder = dbapi_connection

    def end(self, dbapi_connection) -> None:
        if self.holder is not None and self.holder is dbapi_connection:
            self.holder = None
            self.lock.release()


_write_gates: "weakref.WeakKeyDictionary[sa.Engine, WriteGate]" = weakref.WeakKeyDictionary()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; explicit BEGIN so SAVEPOINTs work;
    and the write gate of ``begin_write``.

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
        turn = connection.get_execution_options().get(SQLITE_IMMEDIATE)
        if turn is None:
            connection.exec_driver_sql("BEGIN")
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        turn.take(connection.connection.dbapi_connection)

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


async def rollback_and_reload(session, *objects) -> None:
    """Rolls back, then reloads the given rows (a rollback expires them), so a page can be rendered
    from them again; None entries are skipped."""
    await session.rollback()
    for row in objects:
        if row is not None:
            await session.refresh(row)


async def without_transaction(session) -> None:
    """On PostgreSQL, lets the session's statements run each on its own, without BEGIN and ROLLBACK
    around them (two round trips saved), for a request that reads and then makes at most one write
    that stands alone. Call it before the session's first statement; ``begin_write`` ends it. SQLite
    is left as it is, and so is a session bound to one connection rather than to the engine (the
    tests' sessions, inside a transaction that is rolled back at the end)."""
    if isinstance(session.bind, AsyncEngine) and session.bind.dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": AUTOCOMMIT})


async def begin_write(session, *, alone: bool = False) -> bool:
    """Ends the transaction the request may have opened by reading, so that what follows, which
    writes, runs in a new one. On SQLite that one takes the write lock at once (BEGIN IMMEDIATE),
    waiting for it as long as the busy timeout: a transaction that has read cannot start writing once
    another connection has committed (SQLITE_BUSY_SNAPSHOT, "database is locked", which no busy
    timeout waits out), and what follows may read before it writes. PostgreSQL has no such limit, so
    there nothing is done (a commit would cost round trips on the busiest requests), unless the
    session runs ``without_transaction``: then the writes get a transaction of their own, except a
    single statement (``alone``), which commits by itself. Rows already loaded stay usable
    (expire_on_commit is off).

    Returns True when the next statement commits by itself (the caller then has nothing to commit)."""
    if session.get_bind().dialect.name == "sqlite":
        if session.in_transaction():
            await session.commit()
        # A session bound to one connection (the tests') runs inside that connection's transaction.
        if isinstance(session.bind, AsyncEngine):
            await _take_write_turn(session, _write_gates[session.bind.sync_engine])
        return False
    if not session.in_transaction():
        return False
    connection = (await session.connection()).sync_connection
    if connection.get_execution_options().get("isolation_level") == AUTOCOMMIT:
        if alone:
            return True
        await session.commit()  # the connection goes back to the pool; the next one has a transaction
    return False


async def _take_write_turn(session, gate: WriteGate) -> None:
    """Waits for the gate, then begins the session's transaction with SQLite's write lock. A wait
    past WRITE_TURN_TIMEOUT_SECONDS is an error (TimeoutError), not a request that hangs."""
    async with asyncio.timeout(WRITE_TURN_TIMEOUT_SECONDS):
        await gate.lock.acquire()
    try:
        await session.connection(execution_options={SQLITE_IMMEDIATE: gate})
    finally:
        if gate.holder is None:  # no transaction began (an error, a cancellation): the turn passes
            gate.lock.release()


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

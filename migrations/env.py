"""Alembic, async: the URL comes from the app's settings unless the caller passes a connection."""

import asyncio

from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString

from app.config import Settings
from app.db import UTCDateTime, create_engine
from app.migrations import include_object
from app.models import metadata

config = context.config


def render_item(type_, obj, autogen_context):
    """Migrations name plain SQLAlchemy types, so they never import app code that may change."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migrations left foreign keys pointing nowhere: {broken[:10]}")


def foreign_keys_off(engine) -> None:
    """SQLite alters a table by rebuilding it (copy, drop, rename). With foreign keys on, dropping the
    old table first deletes its rows, and every ON DELETE CASCADE pointing at it empties other tables
    (a new column with a foreign key on ``idea`` would delete every comment and support). The pragma
    cannot change inside a transaction, so it is set as each connection opens, after the app's own
    settings; the keys are checked once the migrations have run."""

    @event.listens_for(engine.sync_engine, "connect")
    def _off(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()


async def run_async_migrations() -> None:
    url = config.attributes.get("database_url") or Settings().database_url
    engine = create_engine(Settings(database_url=url))
    if engine.dialect.name == "sqlite":
        foreign_keys_off(engine)
    async with engine.connect() as connection:
        await connection.run_sync(do_run_migrations)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    context.configure(
        url=config.attributes.get("database_url") or Settings().database_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()

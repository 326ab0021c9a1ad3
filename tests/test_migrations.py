"""The migrations and the models describe the same schema, and go up and down, on both databases."""

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app import migrations, seed
from app.db import create_engine, create_session_factory
from app.models import metadata
from app.search import service as search_service
from tests.conftest import TEST_DATABASE_URL, make_settings


@pytest.fixture
async def empty_database_url(tmp_path):
    """A fresh, empty database of the kind the suite runs on."""
    if not TEST_DATABASE_URL.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"cocreate_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_settings(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def schema_differences(connection) -> list:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": migrations.include_object}
    )
    return compare_metadata(context, metadata)


def table_names(connection) -> set[str]:
    """Our tables, including the search structures written by hand."""
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def modelled(names: set[str]) -> set[str]:
    return {name for name in names if not name.startswith(migrations.UNMODELLED_PREFIXES)}


async def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_database_url):
    engine = create_engine(make_settings(empty_database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrations.upgrade_on)
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
            assert modelled(await connection.run_sync(table_names)) == set(metadata.tables)
        async with engine.begin() as connection:
            await connection.run_sync(migrations.downgrade_on)
        async with engine.connect() as connection:
            assert await connection.run_sync(table_names) == set()
        async with engine.begin() as connection:
            await connection.run_sync(migrations.upgrade_on)
        async with engine.connect() as connection:
            assert await connection.run_sync(schema_differences) == []
    finally:
        await engine.dispose()


async def _row_counts(engine) -> dict[str, int]:
    async with engine.connect() as connection:
        names = sorted(modelled(await connection.run_sync(table_names)))
        return {
            # The names come from the database's own catalogue, not from input.
            name: (await connection.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar()  # noqa: S608
            for name in names
        }


async def test_going_down_and_up_again_keeps_every_row(empty_database_url):
    """Altering a table on SQLite copies it and drops the old one; with foreign keys enforced that
    drop used to delete every membership and comment. Down two revisions (each alters tables) and
    up again, through the same path as `cocreate migrate`, and nothing is lost: the rows, and the
    search index."""
    await asyncio.to_thread(migrations.upgrade, empty_database_url)
    engine = create_engine(make_settings(empty_database_url))
    try:
        async with create_session_factory(engine)() as session:
            await seed.seed_demo(session=session, with_users=True)
        before = await _row_counts(engine)
        assert before["membership"] > 0 and before["comment"] > 0
        await asyncio.to_thread(migrations.downgrade, empty_database_url, "0008")
        await asyncio.to_thread(migrations.upgrade, empty_database_url)
        after = await _row_counts(engine)
        # 0009 made these tables, so going below it empties them; every other table keeps its rows.
        for made_by_0009 in ("moderation_case", "report", "audit_event"):
            before.pop(made_by_0009), after.pop(made_by_0009)
        assert after == before
        async with create_session_factory(engine)() as session:
            found = await search_service.search_ideas(
                session=session, query="corridor", user=None, staff=True
            )
        assert found.hits
    finally:
        await engine.dispose()

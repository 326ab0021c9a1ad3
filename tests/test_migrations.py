"""The migrations and the models describe the same schema, and go up and down, on both databases."""

import asyncio
import sqlite3
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from app.core import migrations
from app.core.db import create_engine, create_session_factory, unit_of_work
from app.demo import seed
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
        async with unit_of_work(create_session_factory(engine)) as session:
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
        async with unit_of_work(create_session_factory(engine)) as session:
            found = await search_service.search_ideas(
                session=session, query="corridor", user=None, staff=True
            )
        assert found.hits
    finally:
        await engine.dispose()


@pytest.mark.sqlite_only
def test_sqlite_migrations_keep_the_rows_and_triggers_of_rebuilt_tables(tmp_path):
    """0010 rebuilds ``idea`` (SQLite alters a table by copying it): the comments and supports that
    point at it, with ON DELETE CASCADE, survive the copy, and the search index, kept by triggers on
    ``idea``, keeps finding them, an idea posted between 0010 and 0011 included."""
    path = tmp_path / "data.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrations.upgrade(url, "0009")
    with sqlite3.connect(path) as db:
        db.executescript(
            "INSERT INTO user (id, email, display_name, password_hash, locale, time_zone, role, is_active,"
            " created_at, updated_at) VALUES (1, 'a@example.org', 'A', 'x', 'en', 'UTC', 'citizen', 1,"
            " '2026-01-01', '2026-01-01');"
            "INSERT INTO workspace (id, slug, title_en, title_zh, summary_en, summary_zh, visibility,"
            " join_policy, created_at, updated_at, member_count, idea_count, report_threshold)"
            " VALUES (1, 'w', 'W', '', '', '', 'public', 'open', '2026-01-01', '2026-01-01', 0, 1, 3);"
            "INSERT INTO idea (id, workspace_id, author_id, title, body, body_html, place_name, status,"
            " support_count, comment_count, created_at, updated_at, last_activity_at) VALUES (1, 1, 1,"
            " 'Rain gardens', '', '', '', 'proposed', 1, 1, '2026-01-01', '2026-01-01', '2026-01-01');"
            "INSERT INTO comment (idea_id, author_id, depth, body, body_html, created_at)"
            " VALUES (1, 1, 0, 'c', 'c', '2026-01-01');"
            "INSERT INTO support (idea_id, user_id, created_at) VALUES (1, 1, '2026-01-01');"
        )
    migrations.upgrade(url, "0010")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO idea (id, workspace_id, author_id, title, body, body_html, place_name, status,"
            " support_count, comment_count, created_at, updated_at, last_activity_at, lock_reason) VALUES"
            " (2, 1, 1, 'Green roofs', '', '', '', 'proposed', 0, 0, '2026-01-01', '2026-01-01',"
            " '2026-01-01', '')"
        )
    migrations.upgrade(url)
    with sqlite3.connect(path) as db:
        counts = [
            db.execute("SELECT count(*) FROM comment").fetchone()[0],
            db.execute("SELECT count(*) FROM support").fetchone()[0],
        ]
        db.execute("UPDATE idea SET title = 'Rain barrels' WHERE id = 1")
        found = {
            word: [row[0] for row in db.execute("SELECT rowid FROM search_idea WHERE title MATCH ?", (word,))]
            for word in ("roofs", "barrels", "gardens")
        }
    assert counts == [1, 1]
    assert found == {"roofs": [2], "barrels": [1], "gardens": []}

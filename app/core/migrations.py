"""Running Alembic from code: the CLI, the tests and `make run` share these."""

from alembic import command
from alembic.config import Config

from app.core.config import BASE_DIR, MIGRATIONS_DIR

# Search structures are written by hand per database (SQLite FTS5, PostgreSQL pg_trgm) and have no
# model; SQLite also keeps bookkeeping tables of its own. Autogenerate leaves all of these alone.
UNMODELLED_PREFIXES = ("sqlite_", "search_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ in ("table", "index") and name and name.startswith(UNMODELLED_PREFIXES))


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(BASE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def upgrade_on(connection, revision: str = "head") -> None:
    """Upgrade over an open (sync) connection, for callers already inside an event loop. On SQLite
    the caller's connection keeps its foreign keys on: fine for an empty database (the tests'), but a
    database holding data goes through ``upgrade`` (see ``foreign_keys_off`` in migrations/env.py)."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def downgrade_on(connection, revision: str = "base") -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)

"""Search over ideas in English and Chinese: SQLite FTS5 with the trigram tokenizer, PostgreSQL pg_trgm

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 17:25:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    # An external-content index over idea(title, body): the text lives once, in idea.
    "CREATE VIRTUAL TABLE search_idea USING fts5(title, body, content='idea', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER search_idea_insert AFTER INSERT ON idea BEGIN "
    "INSERT INTO search_idea(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_idea_delete AFTER DELETE ON idea BEGIN "
    "INSERT INTO search_idea(search_idea, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_idea_update AFTER UPDATE OF title, body ON idea BEGIN "
    "INSERT INTO search_idea(search_idea, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_idea(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO search_idea(search_idea) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS search_idea_update",
    "DROP TRIGGER IF EXISTS search_idea_delete",
    "DROP TRIGGER IF EXISTS search_idea_insert",
    "DROP TABLE IF EXISTS search_idea",
]
POSTGRESQL_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # Trigram GIN indexes make ILIKE '%...%' fast for any script, Chinese included.
    "CREATE INDEX search_idea_title_trgm ON idea USING gin (title gin_trgm_ops)",
    "CREATE INDEX search_idea_body_trgm ON idea USING gin (body gin_trgm_ops)",
]
POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS search_idea_body_trgm",
    "DROP INDEX IF EXISTS search_idea_title_trgm",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_UP if dialect == "sqlite" else POSTGRESQL_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _run(SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN)

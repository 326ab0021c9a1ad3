"""User ids are never reused (SQLite); the search index follows ideas again (SQLite)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 00:06:00

An account can now be deleted, and its id lives on where no foreign key reaches: the audit log's
actor and target, the keyed hashes of ballot papers. SQLite without AUTOINCREMENT gives a new row
the largest id plus one, so the next account would take the id of a deleted last one. PostgreSQL's
sequences never go back; there is nothing to do there.

0010 rebuilt ``idea`` on SQLite (to add a foreign key), and a rebuilt table loses its triggers: the
three that keep the search index (0004) in step with ideas. They are made again, and the index
rebuilt from the ideas, so ideas posted in between are found too.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SEARCH_TRIGGERS = {
    "search_idea_insert": "CREATE TRIGGER search_idea_insert AFTER INSERT ON idea BEGIN "
    "INSERT INTO search_idea(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "search_idea_delete": "CREATE TRIGGER search_idea_delete AFTER DELETE ON idea BEGIN "
    "INSERT INTO search_idea(search_idea, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "search_idea_update": "CREATE TRIGGER search_idea_update AFTER UPDATE OF title, body ON idea BEGIN "
    "INSERT INTO search_idea(search_idea, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_idea(rowid, title, body) VALUES (new.id, new.title, new.body); END",
}


def _rebuild_user(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "user", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_user(True)
    if op.get_bind().dialect.name == "sqlite":
        for name, statement in SEARCH_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(statement)
        op.execute("INSERT INTO search_idea(search_idea) VALUES ('rebuild')")


def downgrade() -> None:
    # The search triggers stay: 0010 without them was broken.
    _rebuild_user(False)

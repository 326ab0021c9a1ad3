"""User ids are never reused (SQLite)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 00:06:00

An account can now be deleted, and its id lives on where no foreign key reaches: the audit log's
actor and target, the keyed hashes of ballot papers. SQLite without AUTOINCREMENT gives a new row
the largest id plus one, so the next account would take the id of a deleted last one. PostgreSQL's
sequences never go back; there is nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_user(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "user", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _rebuild_user(True)


def downgrade() -> None:
    _rebuild_user(False)

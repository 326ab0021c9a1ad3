"""Hidden and locked ideas, disabled accounts

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 00:00:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The idea table carries the SQLite search index's triggers (migration 0004). Altering it on SQLite
# copies the table, which loses them, so both directions make them again (as they were written in
# 0004: a migration keeps its own frozen copy).
SQLITE_SEARCH_TRIGGERS = [
    "DROP TRIGGER IF EXISTS search_idea_update",
    "DROP TRIGGER IF EXISTS search_idea_delete",
    "DROP TRIGGER IF EXISTS search_idea_insert",
    "CREATE TRIGGER search_idea_insert AFTER INSERT ON idea BEGIN "
    "INSERT INTO search_idea(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_idea_delete AFTER DELETE ON idea BEGIN "
    "INSERT INTO search_idea(search_idea, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_idea_update AFTER UPDATE OF title, body ON idea BEGIN "
    "INSERT INTO search_idea(search_idea, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_idea(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]


def _search_triggers_again() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_SEARCH_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lock_reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_idea_locked_by_id_user'), 'user', ['locked_by_id'], ['id'], ondelete='SET NULL')
    _search_triggers_again()

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_reason', sa.String(length=500), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('disabled_reason')
        batch_op.drop_column('disabled_at')

    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_idea_locked_by_id_user'), type_='foreignkey')
        batch_op.drop_column('lock_reason')
        batch_op.drop_column('locked_by_id')
        batch_op.drop_column('locked_at')
        batch_op.drop_column('hidden_at')
    _search_triggers_again()

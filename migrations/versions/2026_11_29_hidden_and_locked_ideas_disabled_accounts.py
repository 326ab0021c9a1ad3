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


def upgrade() -> None:
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lock_reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.create_foreign_key(batch_op.f('fk_idea_locked_by_id_user'), 'user', ['locked_by_id'], ['id'], ondelete='SET NULL')

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


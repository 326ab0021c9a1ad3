"""Live events: what the live co-creation room streams, kept two days for subscribers to catch up

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('live_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_event')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('live_event', schema=None) as batch_op:
        batch_op.create_index('ix_live_event_channel_id', ['channel', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('live_event', schema=None) as batch_op:
        batch_op.drop_index('ix_live_event_channel_id')

    op.drop_table('live_event')

"""Follows: a user follows a workspace (its new ideas) or an idea (its status changes)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 18:06:51.973408
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('follow',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=True),
    sa.Column('idea_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(workspace_id IS NULL) <> (idea_id IS NULL)', name=op.f('ck_follow_one_target')),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_follow_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_follow_user_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_follow_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow')),
    sa.UniqueConstraint('user_id', 'idea_id', name=op.f('uq_follow_user_id_idea_id')),
    sa.UniqueConstraint('user_id', 'workspace_id', name=op.f('uq_follow_user_id_workspace_id'))
    )
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_idea_id'), ['idea_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_workspace_id'), ['workspace_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('follow', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_workspace_id'))
        batch_op.drop_index(batch_op.f('ix_follow_idea_id'))

    op.drop_table('follow')

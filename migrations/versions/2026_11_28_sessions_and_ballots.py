"""Co-creation sessions (agenda, registrations, session ideas), ballots, options and votes; a
notification may point at a session.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 19:09:08.065057
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cocreation_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('place_name', sa.String(length=200), nullable=False),
    sa.Column('online_url', sa.String(length=500), nullable=False),
    sa.Column('time_zone', sa.String(length=60), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('registered_count', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('current_item_id', sa.Integer(), nullable=True),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('minutes_html', sa.Text(), nullable=False),
    sa.Column('outcomes', sa.Text(), nullable=False),
    sa.Column('outcomes_html', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR capacity > 0', name=op.f('ck_cocreation_session_capacity_positive')),
    sa.CheckConstraint('capacity IS NULL OR registered_count <= capacity', name=op.f('ck_cocreation_session_within_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_cocreation_session_ends_after_start')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_cocreation_session_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_cocreation_session_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cocreation_session'))
    )
    with op.batch_alter_table('cocreation_session', schema=None) as batch_op:
        batch_op.create_index('ix_cocreation_session_workspace_id_starts_at', ['workspace_id', 'starts_at'], unique=False)

    op.create_table('agenda_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['cocreation_session.id'], name=op.f('fk_agenda_item_session_id_cocreation_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_item')),
    sa.UniqueConstraint('session_id', 'position', name=op.f('uq_agenda_item_session_id_position'))
    )
    op.create_table('ballot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('description', sa.String(length=4000), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.Column('dots', sa.Integer(), nullable=True),
    sa.Column('per_option_max', sa.Integer(), nullable=True),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_early_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('results_visibility', sa.String(length=12), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('eligibility', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_ballot_closes_after_opening')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_ballot_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['cocreation_session.id'], name=op.f('fk_ballot_session_id_cocreation_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], name=op.f('fk_ballot_workspace_id_workspace'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot'))
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_ballot_workspace_id_opens_at', ['workspace_id', 'opens_at'], unique=False)

    op.create_table('registration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['cocreation_session.id'], name=op.f('fk_registration_session_id_cocreation_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_registration_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_registration_session_id_user_id'))
    )
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.create_index('ix_registration_session_id_status_queued_at', ['session_id', 'status', 'queued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_user_id'), ['user_id'], unique=False)

    op.create_table('ballot_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_option_ballot_id_ballot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_ballot_option_idea_id_idea'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_option')),
    sa.UniqueConstraint('ballot_id', 'position', name=op.f('uq_ballot_option_ballot_id_position'))
    )
    with op.batch_alter_table('ballot_option', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_option_idea_id'), ['idea_id'], unique=False)

    op.create_table('session_idea',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('idea_id', sa.Integer(), nullable=False),
    sa.Column('agenda_item_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agenda_item_id'], ['agenda_item.id'], name=op.f('fk_session_idea_agenda_item_id_agenda_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['idea_id'], ['idea.id'], name=op.f('fk_session_idea_idea_id_idea'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['cocreation_session.id'], name=op.f('fk_session_idea_session_id_cocreation_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_idea')),
    sa.UniqueConstraint('session_id', 'idea_id', name=op.f('uq_session_idea_session_id_idea_id'))
    )
    with op.batch_alter_table('session_idea', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_idea_idea_id'), ['idea_id'], unique=False)

    op.create_table('vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('voter_key', sa.String(length=64), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=True),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_vote_ballot_id_ballot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['user.id'], name=op.f('fk_vote_voter_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote')),
    sa.UniqueConstraint('ballot_id', 'voter_key', name=op.f('uq_vote_ballot_id_voter_key'))
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_voter_id'), ['voter_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notification_session_id_cocreation_session'), 'cocreation_session', ['session_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_session_id_cocreation_session'), type_='foreignkey')
        batch_op.drop_column('session_id')

    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_voter_id'))

    op.drop_table('vote')
    with op.batch_alter_table('session_idea', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_idea_idea_id'))

    op.drop_table('session_idea')
    with op.batch_alter_table('ballot_option', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_option_idea_id'))

    op.drop_table('ballot_option')
    with op.batch_alter_table('registration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_user_id'))
        batch_op.drop_index('ix_registration_session_id_status_queued_at')

    op.drop_table('registration')
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_index('ix_ballot_workspace_id_opens_at')
        batch_op.drop_index(batch_op.f('ix_ballot_session_id'))

    op.drop_table('ballot')
    op.drop_table('agenda_item')
    with op.batch_alter_table('cocreation_session', schema=None) as batch_op:
        batch_op.drop_index('ix_cocreation_session_workspace_id_starts_at')

    op.drop_table('cocreation_session')

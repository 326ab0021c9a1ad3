"""Pictures carry a description written by their author

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:20:00

The description is the picture's text alternative: what a screen reader reads, and what shows
where the picture cannot load. Until its author writes one, pages say the picture is not described.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.String(length=300), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("description")

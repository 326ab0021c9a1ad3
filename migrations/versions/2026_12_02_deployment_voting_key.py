"""A voting key of the deployment's own, apart from the secret key

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:50:00

Ballot papers were keyed with an HMAC under COCREATE_SECRET_KEY, so rotating that key let everyone
vote again, and on the public development key anyone could attribute anonymous papers. From now on
they are keyed under a voting key kept in ``deployment_secret`` (app/voting/keys.py).

So that no paper cast before is lost or doubled:
- a deployment with a secret key of its own takes that key as its voting key, once: every paper keeps
  its key, and the secret key can be rotated from then on;
- a deployment on the development key gets a new random voting key, and its papers are keyed again:
  by the voter's id where the ballot names voters, and on anonymous ballots by finding, under the
  public development key, which account each paper belongs to (only such a deployment can).
Going down drops the table; the papers keep the keys they have.
"""

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, as the app had it when this migration was written.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105


def _key(secret: str, ballot_id: int, user_id: int) -> str:
    return hmac.new(secret.encode(), f"vote:{ballot_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def _configured_secret() -> str:
    from app.core.config import Settings

    return Settings().secret_key


def upgrade() -> None:
    table = op.create_table(
        "deployment_secret",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_deployment_secret")),
    )
    secret = _configured_secret()
    voting_key = secret if secret != DEVELOPMENT_SECRET_KEY else secrets.token_hex(32)
    op.bulk_insert(table, [{"name": "voting", "value": voting_key, "created_at": datetime.now(UTC)}])
    if voting_key == secret:
        return
    bind = op.get_bind()
    vote = sa.table(
        "vote",
        sa.column("id", sa.Integer),
        sa.column("ballot_id", sa.Integer),
        sa.column("voter_id", sa.Integer),
        sa.column("voter_key", sa.String),
    )
    papers = bind.execute(sa.select(vote.c.id, vote.c.ballot_id, vote.c.voter_id, vote.c.voter_key)).all()
    if not papers:
        return
    user_ids = [row[0] for row in bind.execute(sa.text('SELECT id FROM "user"')).all()]
    owners: dict[tuple[int, str], int] = {}
    for ballot_id in {paper.ballot_id for paper in papers if paper.voter_id is None}:
        for user_id in user_ids:
            owners[(ballot_id, _key(DEVELOPMENT_SECRET_KEY, ballot_id, user_id))] = user_id
    for paper in papers:
        owner = (
            paper.voter_id if paper.voter_id is not None else owners.get((paper.ballot_id, paper.voter_key))
        )
        if owner is None:
            continue  # an account deleted since: no one can cast this paper again
        bind.execute(
            vote.update()
            .where(vote.c.id == paper.id)
            .values(voter_key=_key(voting_key, paper.ballot_id, owner))
        )


def downgrade() -> None:
    op.drop_table("deployment_secret")

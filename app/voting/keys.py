"""The deployment's voting key: what the one-paper-per-voter keys are made with.

A paper's ``voter_key`` is an HMAC of the ballot and the voter under this key. The key is made once
per deployment, at random, and kept in the database (``deployment_secret``), apart from
``COCREATE_SECRET_KEY``: rotating the secret key, which signs cookies and CSRF tokens, changes no
paper's key, so no one can vote twice by it. And a deployment that runs on the public development
secret still has a voting key no one outside it knows, so its anonymous papers cannot be attributed
by computing keys from the published development secret.
"""

import secrets
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.db import UTCDateTime, utcnow

VOTING = "voting"


class DeploymentSecret(SQLModel, table=True):
    __tablename__ = "deployment_secret"

    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def new_key() -> str:
    return secrets.token_hex(32)


async def load_or_create(session: AsyncSession) -> str:
    """The voting key, made on first use; processes starting at once agree on one key."""
    found = (
        await session.exec(select(DeploymentSecret.value).where(DeploymentSecret.name == VOTING))
    ).first()
    if found is not None:
        return found
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = DeploymentSecret.__table__
    await session.exec(
        insert(table)
        .values(name=VOTING, value=new_key(), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=[table.c.name])
    )
    # Another process's key, inserted first, is the one read (the insert waited for its commit).
    return (await session.exec(select(DeploymentSecret.value).where(DeploymentSecret.name == VOTING))).one()

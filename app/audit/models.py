"""The audit log: what moderators, facilitators and admins did, kept as written."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """Append-only: the database refuses UPDATE and DELETE on this table (triggers made by the
    migration); only the daily clean-up lifts them, to delete entries past their retention
    (``app.privacy.service.prune``). Ids are plain numbers, not foreign keys, so deleting a user or
    a workspace changes no row here; the actor's name is kept as it was."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_workspace_id_id", "workspace_id", "id"),)

    id: int | None = Field(
        default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None)
    actor_name: str = Field(default="", max_length=200)
    action: str = Field(max_length=40, index=True)
    workspace_id: int | None = Field(default=None)
    target_kind: str = Field(default="", max_length=20)
    target_id: int | None = Field(default=None)
    reason: str = Field(default="", sa_type=sa.Text)
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)

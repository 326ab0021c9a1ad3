"""In-app notifications: what a user is told, read or not yet read."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_notification_user_id_read_at_created_at", "user_id", "read_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    kind: str = Field(max_length=40)
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id", ondelete="CASCADE")
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="CASCADE")
    comment_id: int | None = Field(default=None, foreign_key="comment.id", ondelete="CASCADE")
    session_id: int | None = Field(default=None, foreign_key="cocreation_session.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Follow(SQLModel, table=True):
    """A user follows a workspace (new ideas there) or an idea (its status changes)."""

    __table_args__ = (
        sa.UniqueConstraint("user_id", "workspace_id"),
        sa.UniqueConstraint("user_id", "idea_id"),
        sa.CheckConstraint("(workspace_id IS NULL) <> (idea_id IS NULL)", name="one_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    workspace_id: int | None = Field(default=None, foreign_key="workspace.id", ondelete="CASCADE", index=True)
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

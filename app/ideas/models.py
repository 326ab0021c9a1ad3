"""NBS ideas: the idea thread, its tags, its status history and its supports."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class IdeaStatus(StrEnum):
    PROPOSED = "proposed"
    UNDER_DISCUSSION = "under-discussion"
    SHORTLISTED = "shortlisted"
    SELECTED = "selected"
    IN_IMPLEMENTATION = "in-implementation"
    IMPLEMENTED = "implemented"
    NOT_PURSUED = "not-pursued"


class Idea(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_idea_workspace_id_created_at", "workspace_id", "created_at"),
        sa.Index("ix_idea_workspace_id_support_count", "workspace_id", "support_count"),
        sa.Index("ix_idea_workspace_id_last_activity_at", "workspace_id", "last_activity_at"),
        sa.Index("ix_idea_workspace_id_comment_count", "workspace_id", "comment_count"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    topic_id: int | None = Field(default=None, foreign_key="topic.id", ondelete="SET NULL", index=True)
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    # The body rendered and sanitised once, when it is saved.
    body_html: str = Field(default="", sa_type=sa.Text)
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    place_name: str = Field(default="", max_length=200)
    status: str = Field(default=IdeaStatus.PROPOSED, max_length=20, index=True)
    support_count: int = Field(default=0)
    comment_count: int = Field(default=0)
    adapted_from_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_activity_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set while a moderator (or enough reports) keeps the idea out of every list, search and count;
    # its author and the workspace's moderators still open it.
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A locked idea takes no new comments, supports or edits; it stays readable.
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    lock_reason: str = Field(default="", max_length=500)

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class IdeaTag(SQLModel, table=True):
    __tablename__ = "idea_tag"
    __table_args__ = (
        sa.UniqueConstraint("idea_id", "tag"),
        sa.Index("ix_idea_tag_tag_idea_id", "tag", "idea_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE")
    tag: str = Field(max_length=40)


class IdeaStatusChange(SQLModel, table=True):
    """A moderator moved an idea from one status to another, with an optional public note."""

    __tablename__ = "idea_status_change"

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    from_status: str = Field(max_length=20)
    to_status: str = Field(max_length=20)
    note: str = Field(default="", max_length=2000)
    changed_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Support(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

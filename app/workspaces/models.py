"""Workspaces where a city (or a group of cities) co-creates: their cities, members and activity."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Visibility(StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"


class JoinPolicy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"


class MemberRole(StrEnum):
    MEMBER = "member"
    MODERATOR = "moderator"


class MemberStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    DECLINED = "declined"
    BANNED = "banned"


class Workspace(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    # One or two languages: at least one title; the reader's language is shown when present.
    title_en: str = Field(default="", max_length=200)
    title_zh: str = Field(default="", max_length=200)
    summary_en: str = Field(default="", sa_type=sa.Text)
    summary_zh: str = Field(default="", sa_type=sa.Text)
    visibility: str = Field(default=Visibility.PUBLIC, max_length=10)
    join_policy: str = Field(default=JoinPolicy.OPEN, max_length=10)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    member_count: int = Field(default=0)
    idea_count: int = Field(default=0)
    # Distinct members' reports that hide a comment until a moderator looks at it.
    report_threshold: int = Field(default=3, sa_column_kwargs={"server_default": "3"})

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class WorkspaceCity(SQLModel, table=True):
    """The cities a workspace serves: one for a city's own workspace, several for a cross-city group."""

    __tablename__ = "workspace_city"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "city_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    city_id: int = Field(foreign_key="city.id", ondelete="CASCADE", index=True)


class Membership(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("workspace_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    role: str = Field(default=MemberRole.MEMBER, max_length=10)
    status: str = Field(default=MemberStatus.ACTIVE, max_length=10)
    message: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # A ban (status "banned") lasts until this moment, or for good when None; the member still reads.
    banned_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ban_reason: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    # The last warning a moderator gave, shown to the member on the workspace's page.
    warning: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})
    warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Activity(SQLModel, table=True):
    """What happened in a workspace, for its feed (newest first)."""

    __table_args__ = (sa.Index("ix_activity_workspace_id_created_at", "workspace_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    kind: str = Field(max_length=30)
    # The member an event is about (joined, was made moderator), when it is not the actor.
    subject_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="CASCADE")
    topic_id: int | None = Field(default=None, foreign_key="topic.id", ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Topics: questions a workspace works on, seeded by facilitators into one workspace or many."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class TopicSeed(SQLModel, table=True):
    """One facilitator's seeding of a topic; every workspace's copy of it points here."""

    __tablename__ = "topic_seed"

    id: int | None = Field(default=None, primary_key=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Topic(SQLModel, table=True):
    """A question a workspace works on, with its co-creation phase, NBS tags and dates."""

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    seed_id: int | None = Field(default=None, foreign_key="topic_seed.id", ondelete="SET NULL", index=True)
    title: str = Field(max_length=200)
    brief: str = Field(default="", sa_type=sa.Text)
    brief_html: str = Field(default="", sa_type=sa.Text)
    phase: str = Field(max_length=30)
    categories: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    challenges: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    opens_on: date | None = Field(default=None)
    closes_on: date | None = Field(default=None)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Threaded comments on ideas."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Comment(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_comment_idea_id_thread_id_id", "idea_id", "thread_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    parent_id: int | None = Field(default=None, foreign_key="comment.id", ondelete="CASCADE")
    # The top-level comment a reply belongs to (itself for a top-level one), so a page of threads
    # is fetched in one query.
    thread_id: int | None = Field(default=None)
    depth: int = Field(default=0)
    body: str = Field(sa_type=sa.Text)
    body_html: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_removed(self) -> bool:
        """Its author deleted their account with their comments, and others had replied: the comment
        keeps its place in the thread, without its words (a comment is never posted empty)."""
        return not self.body

"""Co-creation sessions: workshops with an agenda, registrations with a waiting list, attendance,
minutes, and the ideas that came out of them."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Phase(StrEnum):
    CO_DIAGNOSTIC = "co-diagnostic"
    CO_DESIGN = "co-design"
    CO_IMPLEMENTATION = "co-implementation"
    CO_MONITORING = "co-monitoring"


class Mode(StrEnum):
    IN_PERSON = "in-person"
    ONLINE = "online"
    HYBRID = "hybrid"


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    LIVE = "live"
    CLOSED = "closed"


class RegistrationStatus(StrEnum):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class CocreationSession(SQLModel, table=True):
    __tablename__ = "cocreation_session"
    __table_args__ = (
        sa.Index("ix_cocreation_session_workspace_id_starts_at", "workspace_id", "starts_at"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint("capacity IS NULL OR registered_count <= capacity", name="within_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    description_html: str = Field(default="", sa_type=sa.Text)
    phase: str = Field(max_length=20)
    mode: str = Field(max_length=10)
    place_name: str = Field(default="", max_length=200)
    online_url: str = Field(default="", max_length=500)
    # Start and end are kept in UTC; the zone the session happens in is kept to show its local time.
    time_zone: str = Field(max_length=60)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int | None = Field(default=None)
    registered_count: int = Field(default=0)
    status: str = Field(default=SessionStatus.DRAFT, max_length=10)
    # The agenda item the host is on while the session is live.
    current_item_id: int | None = Field(default=None)
    minutes: str = Field(default="", sa_type=sa.Text)
    minutes_html: str = Field(default="", sa_type=sa.Text)
    outcomes: str = Field(default="", sa_type=sa.Text)
    outcomes_html: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.registered_count, 0)


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"
    __table_args__ = (sa.UniqueConstraint("session_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cocreation_session.id", ondelete="CASCADE")
    position: int
    title: str = Field(max_length=200)
    duration_minutes: int = Field(default=0)


class Registration(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("session_id", "user_id"),
        sa.Index("ix_registration_session_id_status_queued_at", "session_id", "status", "queued_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cocreation_session.id", ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    status: str = Field(max_length=10)
    # When the user last asked for a place: the waiting list is served in this order.
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attended: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SessionIdea(SQLModel, table=True):
    """An idea that came out of a session: added in its live room, or linked in its minutes."""

    __tablename__ = "session_idea"
    __table_args__ = (sa.UniqueConstraint("session_id", "idea_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cocreation_session.id", ondelete="CASCADE")
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

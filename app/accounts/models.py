"""Users and their server-side login sessions."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Role(StrEnum):
    CITIZEN = "citizen"
    FACILITATOR = "facilitator"
    ADMIN = "admin"


class User(SQLModel, table=True):
    # Ids are never reused on SQLite either: a deleted account's id stays in the audit log.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # Kept lower-cased, so the unique constraint is case-insensitive on every database.
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=200)
    locale: str = Field(default="en", max_length=10)
    time_zone: str = Field(default="UTC", max_length=64)
    role: str = Field(default=Role.CITIZEN, max_length=20)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", ondelete="SET NULL", index=True
    )
    is_active: bool = Field(default=True)
    # Set by an admin who disables the account (is_active is then False), with the reason shown to staff.
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class AuthSession(SQLModel, table=True):
    """A login. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip_address: str = Field(default="", max_length=45)
    user_agent: str = Field(default="", max_length=300)

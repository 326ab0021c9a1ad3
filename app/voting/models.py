"""Ballots, their options and the votes cast on them."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Method(StrEnum):
    APPROVAL = "approval"
    SINGLE = "single"
    RANKED = "ranked"
    DOT = "dot"
    SCORE = "score"
    CONSENT = "consent"


class ResultsVisibility(StrEnum):
    LIVE = "live"
    AFTER_VOTE = "after-vote"
    AFTER_CLOSE = "after-close"


class Eligibility(StrEnum):
    MEMBERS = "members"
    ATTENDEES = "attendees"


class BallotState(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"


class Ballot(SQLModel, table=True):
    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        sa.Index("ix_ballot_workspace_id_opens_at", "workspace_id", "opens_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    session_id: int | None = Field(
        default=None, foreign_key="cocreation_session.id", ondelete="CASCADE", index=True
    )
    question: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    method: str = Field(max_length=10)
    # approval: at most this many choices; dot: this many dots in all, at most per_option_max on one.
    max_choices: int | None = Field(default=None)
    dots: int | None = Field(default=None)
    per_option_max: int | None = Field(default=None)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    closed_early_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    results_visibility: str = Field(default=ResultsVisibility.AFTER_CLOSE, max_length=12)
    anonymous: bool = Field(default=False)
    eligibility: str = Field(default=Eligibility.MEMBERS, max_length=10)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    def state(self, now: datetime) -> BallotState:
        """Follows the clock: nothing has to run for a ballot to open or close."""
        if self.closed_early_at is not None or now >= self.closes_at:
            return BallotState.CLOSED
        return BallotState.OPEN if now >= self.opens_at else BallotState.UPCOMING

    @property
    def closed_at(self) -> datetime:
        return self.closed_early_at or self.closes_at


class BallotOption(SQLModel, table=True):
    __tablename__ = "ballot_option"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", ondelete="CASCADE")
    position: int
    label: str = Field(max_length=200)
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="SET NULL", index=True)


class Vote(SQLModel, table=True):
    """One voter's ballot paper. ``voter_key`` is a keyed hash of ballot and voter, so one paper per
    person holds on anonymous ballots too; ``voter_id`` is kept only where the ballot is not anonymous."""

    __table_args__ = (sa.UniqueConstraint("ballot_id", "voter_key"),)

    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id", ondelete="CASCADE")
    voter_key: str = Field(max_length=64)
    voter_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    # The marks, by method: a list of option ids (approval, single, ranked in order) or a map of option
    # id to dots, score or consent choice; with a reason for consent.
    choices: dict = Field(sa_type=sa.JSON)
    cast_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

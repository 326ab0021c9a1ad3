"""Reports of content by members, and the moderation case each reported or hidden thing has."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow
from app.core.i18n import N_

REASON_MAX = 500
NOTE_MAX = 500


class ReportReason(StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off-topic"
    PERSONAL_DATA = "personal-data"
    OTHER = "other"


REASON_LABELS = {
    ReportReason.SPAM: N_("Spam or advertising"),
    ReportReason.OFFENSIVE: N_("Offensive or abusive"),
    ReportReason.OFF_TOPIC: N_("Off topic"),
    ReportReason.PERSONAL_DATA: N_("Shares personal data"),
    ReportReason.OTHER: N_("Something else"),
}


class TargetKind(StrEnum):
    COMMENT = "comment"
    IDEA = "idea"
    # A person reported as a member of one workspace (target_id is the membership): nothing hides; the
    # moderators warn or ban them from the members page.
    MEMBER = "member"


class CaseState(StrEnum):
    OPEN = "open"  # reported, still shown, waiting for a moderator
    HIDDEN = "hidden"  # hidden by a moderator or by enough reports
    REVIEW = "review"  # hidden, and the author asks for another look
    RESTORED = "restored"  # shown again by a moderator
    DISMISSED = "dismissed"  # reports looked at, the content stays


STATE_LABELS = {
    CaseState.OPEN: N_("Reported"),
    CaseState.HIDDEN: N_("Hidden"),
    CaseState.REVIEW: N_("Review asked"),
    CaseState.RESTORED: N_("Restored"),
    CaseState.DISMISSED: N_("Dismissed"),
}


class ModerationCase(SQLModel, table=True):
    """One per piece of content that was reported or hidden: the moderation queue's rows."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        sa.UniqueConstraint("target_kind", "target_id"),
        sa.Index("ix_moderation_case_workspace_id_updated_at", "workspace_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", ondelete="CASCADE")
    target_kind: str = Field(max_length=20)
    target_id: int
    author_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL", index=True)
    state: str = Field(default=CaseState.OPEN, max_length=20)
    report_count: int = Field(default=0)
    # Distinct reports since the last moderator's decision: the content hides when they reach the
    # workspace's threshold.
    open_reports: int = Field(default=0)
    hidden_reason: str = Field(default="", max_length=REASON_MAX)
    hidden_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    review_note: str = Field(default="", max_length=NOTE_MAX)
    decision_reason: str = Field(default="", max_length=REASON_MAX)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_waiting(self) -> bool:
        """Waiting for a moderator's decision: reports came since the last one (the content may be
        shown, or hidden by them), or its author asks for a review. ``service.WAITING`` in SQL."""
        return self.open_reports > 0 or self.state == CaseState.REVIEW


# What a decided case shows in the queue: the decision and who took it.
DECISION_LABELS = {
    CaseState.HIDDEN: N_("Hidden by %(name)s"),
    CaseState.RESTORED: N_("Restored by %(name)s"),
    CaseState.DISMISSED: N_("Reports dismissed by %(name)s"),
}


class Report(SQLModel, table=True):
    """A member's report; one per member and case, so each member counts once."""

    __table_args__ = (sa.UniqueConstraint("case_id", "reporter_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="moderation_case.id", ondelete="CASCADE")
    reporter_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    reason: str = Field(max_length=20)
    note: str = Field(default="", max_length=NOTE_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

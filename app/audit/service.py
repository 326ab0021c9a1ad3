"""Writing the audit log in the caller's transaction, and reading it back for facilitators."""

import io
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.core.exports import SafeCsvWriter
from app.core.i18n import N_
from app.workspaces.models import Workspace

PAGE_SIZE = 50
CSV_MAX_ROWS = 100_000

# action -> how the log page names it
ACTIONS = {
    "report": N_("Reported"),
    "auto_hide": N_("Hidden by reports"),
    "hide": N_("Hidden"),
    "restore": N_("Restored"),
    "dismiss": N_("Reports dismissed"),
    "review_request": N_("Review asked"),
    "threshold": N_("Report threshold changed"),
    "lock": N_("Locked against new comments"),
    "unlock": N_("Unlocked"),
    "warn": N_("Warned"),
    "ban": N_("Banned"),
    "unban": N_("Ban lifted"),
    "role_change": N_("Global role changed"),
    "account_disable": N_("Account disabled"),
    "account_enable": N_("Account enabled again"),
    "account_deleted": N_("Account deleted"),
}


def record(
    session: AsyncSession,
    *,
    action: str,
    actor: User | None,
    workspace_id: int | None = None,
    target_kind: str = "",
    target_id: int | None = None,
    reason: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Adds an event to the caller's transaction: it is kept exactly when the act it records is."""
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else "",
        workspace_id=workspace_id,
        target_kind=target_kind,
        target_id=target_id,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event


@dataclass
class AuditFilter:
    action: str = ""
    workspace_id: int | None = None
    actor_id: int | None = None


@dataclass
class AuditRow:
    event: AuditEvent
    workspace: Workspace | None


def _query(filters: AuditFilter):
    statement = select(AuditEvent, Workspace).outerjoin(
        Workspace, col(Workspace.id) == AuditEvent.workspace_id
    )
    if filters.action:
        statement = statement.where(col(AuditEvent.action) == filters.action)
    if filters.workspace_id is not None:
        statement = statement.where(col(AuditEvent.workspace_id) == filters.workspace_id)
    if filters.actor_id is not None:
        statement = statement.where(col(AuditEvent.actor_id) == filters.actor_id)
    return statement.order_by(col(AuditEvent.id).desc())


async def page_of(
    *, session: AsyncSession, filters: AuditFilter, before_id: int | None = None, per_page: int = PAGE_SIZE
) -> tuple[list[AuditRow], int | None]:
    """Newest first, a page at a time by id (the log only grows, so pages never shift); returns the
    rows and the id to continue before, or None on the last page."""
    statement = _query(filters)
    if before_id is not None:
        statement = statement.where(col(AuditEvent.id) < before_id)
    rows = list((await session.exec(statement.limit(per_page + 1))).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    return [AuditRow(event=e, workspace=w) for e, w in rows], (rows[-1][0].id if more else None)


async def about(
    *,
    session: AsyncSession,
    target_kind: str,
    target_id: int,
    actions: tuple[str, ...],
    since: datetime,
    limit: int = 20,
) -> list[AuditEvent]:
    """The latest events of these actions done to one target since it was made, newest first (found
    through the index on the action, so a rare action stays quick however long the log grows). Events
    from before ``since`` were about another row that had the same id (SQLite gives a deleted row's
    id to the next one)."""
    rows = await session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.action).in_(actions),
            AuditEvent.target_kind == target_kind,
            AuditEvent.target_id == target_id,
            col(AuditEvent.created_at) >= since,
        )
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(rows.all())


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


async def as_csv(*, session: AsyncSession, filters: AuditFilter) -> str:
    """The log (newest first, at most CSV_MAX_ROWS rows) as CSV; user-written cells cannot run as
    spreadsheet formulas."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(
        ["id", "time_utc", "action", "actor_id", "actor", "workspace", "target", "target_id", "reason"]
    )
    rows = await session.exec(_query(filters).limit(CSV_MAX_ROWS))
    for event, workspace in rows.all():
        writer.writerow(
            [
                event.id,
                _iso(event.created_at),
                event.action,
                event.actor_id or "",
                event.actor_name,
                workspace.slug if workspace else (event.workspace_id or ""),
                event.target_kind,
                event.target_id or "",
                event.reason,
            ]
        )
    return out.getvalue()

"""The audit log's part of a person's data (``app.core.personal_data``): its entries about what they
did or what was done about them. The log names people by plain ids, not foreign keys: it keeps its
entries when an account goes (``app.privacy.service.prune`` deletes them past their time)."""

from sqlmodel import and_, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.core.personal_data import ExportContext, PersonalData, iso, register


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    # Ids are never reused, and nothing before the account was made can be about it.
    events = await session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.created_at) >= user.created_at,
            or_(
                col(AuditEvent.actor_id) == user.id,
                and_(col(AuditEvent.target_kind) == "user", col(AuditEvent.target_id) == user.id),
            ),
        )
        .order_by(col(AuditEvent.id))
    )
    return {
        "audit_log": [
            {
                "at": iso(event.created_at),
                "action": event.action,
                "by_you": event.actor_id == user.id,
                "workspace_id": event.workspace_id,
                "target": {"kind": event.target_kind, "id": event.target_id} if event.target_kind else None,
                "reason": event.reason or None,
                "data": event.data,
            }
            for event in events.all()
        ]
    }


PART = register(PersonalData(name="audit", references={}, export_user=export_user))

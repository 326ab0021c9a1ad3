"""The audit log for facilitators and admins: a page to read, filters, and the CSV export."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.deps import user_allowed
from app.accounts.models import User
from app.audit import service as audit_service
from app.core.deps import SessionDep
from app.core.forms import whole_number
from app.core.templating import render
from app.moderation.models import REASON_LABELS
from app.moderation.permissions import can_see_every_queue
from app.workspaces import service as workspace_service

router = APIRouter()


async def _filters(request: Request, session) -> tuple[audit_service.AuditFilter, str]:
    params = request.query_params
    action = params.get("action", "")
    slug = params.get("workspace", "").strip()[:80]
    workspace = await workspace_service.get_by_slug(session=session, slug=slug) if slug else None
    filters = audit_service.AuditFilter(
        action=action if action in audit_service.ACTIONS else "",
        # An unknown workspace matches nothing, rather than everything.
        workspace_id=(workspace.id if workspace else 0) if slug else None,
    )
    return filters, slug


Staff = Annotated[User, user_allowed(can_see_every_queue)]


@router.get("/audit")
async def audit_log(request: Request, session: SessionDep, user: Staff):
    filters, slug = await _filters(request, session)
    before = whole_number(request.query_params.get("before", ""))
    rows, next_before = await audit_service.page_of(session=session, filters=filters, before_id=before)
    query = {key: value for key, value in {"action": filters.action, "workspace": slug}.items() if value}
    return render(
        request,
        "audit/list.html",
        {
            "rows": rows,
            "next_before": next_before,
            "filters": filters,
            "slug": slug,
            "query": query,
            "actions": audit_service.ACTIONS,
            "report_reasons": REASON_LABELS,
        },
    )


@router.get("/audit.csv")
async def audit_csv(request: Request, session: SessionDep, user: Staff):
    filters, _slug = await _filters(request, session)
    body = await audit_service.as_csv(session=session, filters=filters)
    return Response(
        "\ufeff" + body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )

"""The signed-in user's notifications: the list, and marking them read."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from app.deps import CurrentUser, RowId, SessionDep
from app.notifications import service as notification_service
from app.templating import render

router = APIRouter()


@router.get("/notifications")
async def notifications(request: Request, session: SessionDep, user: CurrentUser, page: int = 1):
    page = max(1, min(page, 10_000))
    rows, has_next = await notification_service.list_for(session=session, user_id=user.id, page=page)
    return render(
        request,
        "notifications/list.html",
        {"rows": rows, "page": page, "has_next": has_next, "messages": notification_service.MESSAGES},
    )


@router.post("/notifications/read-all")
async def read_all(session: SessionDep, user: CurrentUser):
    await notification_service.mark_read(session=session, user_id=user.id)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read")
async def read_one(request: Request, session: SessionDep, user: CurrentUser, notification_id: RowId):
    await notification_service.mark_read(session=session, user_id=user.id, notification_id=notification_id)
    return RedirectResponse("/notifications", status_code=303)

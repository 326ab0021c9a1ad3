"""The signed-in user's notifications: the list, and marking them read."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from app.accounts.deps import CurrentUser
from app.core.deps import RowId, SessionDep
from app.core.templating import is_htmx_fragment_request, render
from app.ideas import permissions as idea_permissions
from app.ideas import service as idea_service
from app.notifications import service as notification_service
from app.workspaces.deps import Visible

router = APIRouter()


@router.get("/notifications")
async def notifications(request: Request, session: SessionDep, user: CurrentUser, page: int = 1):
    page = max(1, min(page, 10_000))
    rows, has_next = await notification_service.list_for(session=session, user=user, page=page)
    return render(
        request,
        "notifications/list.html",
        {
            "rows": rows,
            "page": page,
            "has_next": has_next,
            "messages": notification_service.MESSAGES,
            "queue_kinds": notification_service.TO_THE_QUEUE,
        },
    )


@router.post("/notifications/read-all")
async def read_all(session: SessionDep, user: CurrentUser):
    await notification_service.mark_read(session=session, user_id=user.id)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read")
async def read_one(request: Request, session: SessionDep, user: CurrentUser, notification_id: RowId):
    """Another person's notification is not found, as if it did not exist."""
    changed = await notification_service.mark_read(
        session=session, user_id=user.id, notification_id=notification_id
    )
    if not changed and not await notification_service.belongs_to(
        session=session, user_id=user.id, notification_id=notification_id
    ):
        raise HTTPException(status_code=404)
    return RedirectResponse("/notifications", status_code=303)


def _follow_answer(request: Request, *, action: str, following: bool, back: str):
    if is_htmx_fragment_request(request):
        return render(
            request, "notifications/_follow.html", {"follow_action": action, "following": following}
        )
    return RedirectResponse(back, status_code=303)


@router.post("/w/{slug}/follow")
async def follow_workspace(request: Request, session: SessionDep, context: Visible, user: CurrentUser):
    """Follows the workspace (told of its new ideas), or stops following it."""
    workspace = context.workspace
    following = await notification_service.toggle_follow(
        session=session, user_id=user.id, workspace_id=workspace.id
    )
    return _follow_answer(
        request, action=f"/w/{workspace.slug}/follow", following=following, back=f"/w/{workspace.slug}"
    )


@router.post("/w/{slug}/ideas/{idea_id}/follow")
async def follow_idea(
    request: Request, session: SessionDep, context: Visible, user: CurrentUser, idea_id: RowId
):
    """Follows the idea (told when its status changes), or stops following it."""
    workspace = context.workspace
    idea = await idea_service.get(session=session, workspace_id=workspace.id, idea_id=idea_id)
    # A hidden idea is not there for those who may not see it: no following it, nor learning it exists.
    if idea is None or not context.can(idea_permissions.can_see, idea):
        raise HTTPException(status_code=404)
    following = await notification_service.toggle_follow(session=session, user_id=user.id, idea_id=idea.id)
    page = f"/w/{workspace.slug}/ideas/{idea.id}"
    return _follow_answer(request, action=f"{page}/follow", following=following, back=page)

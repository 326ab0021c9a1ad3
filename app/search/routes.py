"""Search pages: across the network, and within one workspace."""

from fastapi import APIRouter, Request

from app.accounts.deps import OptionalUser
from app.core.deps import SessionDep
from app.core.templating import render
from app.search import service as search_service
from app.workspaces import permissions as workspace_permissions
from app.workspaces.deps import Visible

router = APIRouter()


@router.get("/search")
async def search(request: Request, session: SessionDep, user: OptionalUser, q: str = "", page: int = 1):
    results = await search_service.search_ideas(
        session=session,
        query=q,
        user=user,
        staff=workspace_permissions.is_staff(user),
        page=max(1, min(page, 500)),
    )
    return render(request, "search/results.html", {"results": results, "workspace": None}, block="results")


@router.get("/w/{slug}/search")
async def search_workspace(
    request: Request, session: SessionDep, context: Visible, q: str = "", page: int = 1
):
    results = await search_service.search_ideas(
        session=session,
        query=q,
        user=context.user,
        staff=workspace_permissions.is_staff(context.user),
        workspace_id=context.workspace.id,
        page=max(1, min(page, 500)),
    )
    return render(
        request, "search/results.html", {"results": results, "workspace": context.workspace}, block="results"
    )

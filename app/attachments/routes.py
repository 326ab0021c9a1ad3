"""An idea's files: served to whoever may see the idea, and removed by its author. They are added
with the idea's own form (app/web/ideas.py)."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse

from app.accounts.deps import CurrentUser
from app.attachments import permissions
from app.attachments import service as attachment_service
from app.attachments.deps import StorageDep
from app.core.deps import RowId, SessionDep
from app.core.i18n import _
from app.core.templating import flash
from app.ideas.deps import VisibleIdea, visible_idea
from app.ideas.models import Idea
from app.workspaces.deps import WorkspaceContext, allowed_on

router = APIRouter()


def _may_remove(user, context: WorkspaceContext, idea: Idea) -> bool:
    return permissions.can_remove(user, context.workspace, idea, context.membership)


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: the name in UTF-8, and an ASCII stand-in for clients that only read ``filename``."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/w/{slug}/ideas/{idea_id}/attachments/{attachment_id}")
async def download(session: SessionDep, storage: StorageDep, loaded: VisibleIdea, attachment_id: RowId):
    """The file with the type its content was found to be. Images open in the browser; PDFs are
    downloaded, so no document is rendered as a page of this site."""
    _context, idea = loaded
    attachment = await attachment_service.get(session=session, idea_id=idea.id, attachment_id=attachment_id)
    if attachment is None:
        raise HTTPException(status_code=404)
    path = storage.path(attachment.storage_key)
    if not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(
        path,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(
                "inline" if attachment.is_image else "attachment", attachment.filename
            ),
            # Only the reader's own browser keeps a copy: the idea may be members-only.
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.post("/w/{slug}/ideas/{idea_id}/attachments/{attachment_id}/delete")
async def remove(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    loaded: Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_remove)],
    user: CurrentUser,
    attachment_id: RowId,
):
    context, idea = loaded
    attachment = await attachment_service.get(session=session, idea_id=idea.id, attachment_id=attachment_id)
    if attachment is None:
        raise HTTPException(status_code=404)
    await attachment_service.remove(session=session, storage=storage, attachment=attachment)
    response = RedirectResponse(f"/w/{context.workspace.slug}/ideas/{idea.id}/edit", status_code=303)
    flash(request, response, _("The file is removed."), "success")
    return response

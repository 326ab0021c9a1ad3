"""Comment pages: posting, replying, paging and editing, in place with htmx and as plain pages without."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from app.accounts.deps import CurrentUser
from app.comments import permissions
from app.comments import service as comment_service
from app.comments.models import Comment
from app.core.db import utcnow
from app.core.deps import FormStr, RowId, SessionDep, rate_limited
from app.core.forms import FormError, whole_number
from app.core.i18n import _
from app.core.templating import flash, is_htmx_fragment_request, render
from app.ideas import permissions as idea_permissions
from app.ideas.deps import VisibleIdea, visible_idea
from app.ideas.models import Idea
from app.moderation import permissions as moderation_permissions
from app.moderation import service as moderation_service
from app.workspaces.deps import Visible, WorkspaceContext, allowed_on

router = APIRouter()

PAGE_MAX = 10_000
# Larger ids are in no table (PostgreSQL's integer), and would not even fit a query parameter.
ID_MAX = 2**31 - 1


async def visible_comment(
    comment_id: RowId, session: SessionDep, context: Visible
) -> tuple[WorkspaceContext, comment_service.CommentNode]:
    """The comment, when it is on an idea the reader may see, of a workspace they may see; 404
    otherwise."""
    node = None
    if 0 < comment_id <= ID_MAX:
        node = await comment_service.get(
            session=session, workspace_id=context.workspace.id, comment_id=comment_id
        )
    if node is None or not context.can(idea_permissions.can_see, node.idea):
        raise HTTPException(status_code=404)
    return context, node


VisibleComment = Annotated[tuple[WorkspaceContext, comment_service.CommentNode], Depends(visible_comment)]


def _may_comment(user, context: WorkspaceContext, _idea: Idea) -> bool:
    return context.can(permissions.can_comment)


def _may_edit(user, context: WorkspaceContext, node: comment_service.CommentNode) -> bool:
    return permissions.can_edit_comment(user, node.comment, context.workspace, context.membership, utcnow())


IdeaToCommentOn = Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_comment)]
EditableComment = Annotated[
    tuple[WorkspaceContext, comment_service.CommentNode], allowed_on(visible_comment, _may_edit)
]


def comments_context(context: WorkspaceContext, **values) -> dict:
    """What the comment templates need to decide, for this reader, which forms and links to show."""
    node = values.get("node")
    idea = values.get("idea") or (node.idea if node is not None else None)
    return {
        "workspace": context.workspace,
        "can_comment": context.can(permissions.can_comment)
        and (idea is None or idea_permissions.takes_comments(idea)),
        "comment_permissions": permissions,
        "membership": context.membership,
        "now": utcnow(),
        **moderation_permissions.template_helpers(context),
        **values,
    }


def _parent_id(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    # Anything but a plausible id becomes one that no comment has, so the service refuses it.
    return whole_number(raw) or 0


def _idea_url(workspace_slug: str, idea_id: int, page: int = 1) -> str:
    return f"/w/{workspace_slug}/ideas/{idea_id}" + (f"?comments={page}" if page > 1 else "")


async def comment_url(session, workspace_slug: str, comment: Comment) -> str:
    page = await comment_service.page_holding(session=session, comment=comment)
    return f"{_idea_url(workspace_slug, comment.idea_id, page)}#comment-{comment.id}"


@router.post("/w/{slug}/ideas/{idea_id}/comments", dependencies=[rate_limited("comment")])
async def post_comment(
    request: Request,
    session: SessionDep,
    loaded: IdeaToCommentOn,
    user: CurrentUser,
    body: FormStr = "",
    parent_id: FormStr = "",
):
    """Posts a comment or a reply. htmx gets a fresh form and the new comment added in place;
    without JavaScript the browser goes to the comment on the idea page."""
    context, idea = loaded
    parent = _parent_id(parent_id)
    try:
        comment = await comment_service.add(
            session=session, workspace=context.workspace, idea=idea, author=user, body=body, parent_id=parent
        )
    except FormError as error:
        form = {"body": body, "parent_id": parent, "errors": error.errors}
        heading = _("Reply") if parent is not None else _("Add a comment")
        return render(
            request,
            "comments/form.html",
            comments_context(context, idea_id=idea.id, form=form, comment=None, heading=heading),
            status_code=error.status_code,
            block="form",
        )
    if is_htmx_fragment_request(request):
        node = comment_service.CommentNode(comment=comment, author_name=user.display_name)
        return render(request, "comments/_posted.html", comments_context(context, idea=idea, node=node))
    response = RedirectResponse(await comment_url(session, context.workspace.slug, comment), status_code=303)
    flash(request, response, _("Your comment is posted."), "success")
    return response


@router.get("/w/{slug}/ideas/{idea_id}/comments")
async def comment_threads(request: Request, session: SessionDep, loaded: VisibleIdea, page: int = 1):
    """A page of threads for htmx; a plain request goes to that page of the idea."""
    context, idea = loaded
    page = max(1, min(page, PAGE_MAX))
    if not is_htmx_fragment_request(request):
        return RedirectResponse(
            _idea_url(context.workspace.slug, idea.id, page) + "#comments",
            status_code=303,
            headers={"Vary": "HX-Request"},
        )
    threads = await comment_service.page_of_threads(session=session, idea_id=idea.id, page=page)
    await moderation_service.annotate(session=session, nodes=threads.threads, viewer=context.user)
    return render(request, "comments/_threads.html", comments_context(context, idea=idea, threads=threads))


@router.get("/w/{slug}/comments/{comment_id}")
async def show_comment(request: Request, session: SessionDep, loaded: VisibleComment):
    """One comment (htmx puts it back after an edit is cancelled); otherwise a link to it in its thread."""
    context, node = loaded
    if not is_htmx_fragment_request(request):
        return RedirectResponse(
            await comment_url(session, context.workspace.slug, node.comment),
            status_code=303,
            headers={"Vary": "HX-Request"},
        )
    await moderation_service.annotate(session=session, nodes=[node], viewer=context.user)
    return render(request, "comments/_content.html", comments_context(context, node=node))


def _edit_page(
    request: Request, context: WorkspaceContext, comment: Comment, body: str, errors: dict, status_code=200
):
    form = {"body": body, "parent_id": None, "errors": errors}
    return render(
        request,
        "comments/form.html",
        comments_context(
            context, idea_id=comment.idea_id, form=form, comment=comment, heading=_("Edit your comment")
        ),
        block="form",
        status_code=status_code,
    )


@router.get("/w/{slug}/comments/{comment_id}/edit")
async def edit_comment(request: Request, loaded: EditableComment, user: CurrentUser):
    context, node = loaded
    return _edit_page(request, context, node.comment, node.comment.body, {})


@router.post("/w/{slug}/comments/{comment_id}/edit")
async def update_comment(
    request: Request, session: SessionDep, loaded: VisibleComment, user: CurrentUser, body: FormStr = ""
):
    context, node = loaded
    try:
        await comment_service.edit(
            session=session,
            workspace=context.workspace,
            membership=context.membership,
            comment=node.comment,
            editor=user,
            body=body,
        )
    except FormError as error:
        return _edit_page(request, context, node.comment, body, error.errors, status_code=422)
    if is_htmx_fragment_request(request):
        await moderation_service.annotate(session=session, nodes=[node], viewer=context.user)
        return render(request, "comments/_content.html", comments_context(context, node=node))
    response = RedirectResponse(
        await comment_url(session, context.workspace.slug, node.comment), status_code=303
    )
    flash(request, response, _("Your comment is saved."), "success")
    return response

"""Idea pages: posting, the idea thread, editing, status changes and supports (in place with htmx)."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from app.accounts.deps import CurrentUser
from app.attachments import service as attachment_service
from app.attachments.deps import StorageDep
from app.comments import permissions as comment_permissions
from app.comments import service as comment_service
from app.core.db import utcnow
from app.core.deps import FormStr, SessionDep, rate_limited
from app.core.forms import FormError
from app.core.i18n import _
from app.core.taxonomy import taxonomy
from app.core.templating import flash, is_htmx_fragment_request, render
from app.ideas import permissions
from app.ideas import service as idea_service
from app.ideas.deps import EditableIdea, IdeaToJudge, IdeaToSupport, VisibleIdea
from app.ideas.models import Idea
from app.moderation import permissions as moderation_permissions
from app.moderation import service as moderation_service
from app.notifications import service as notification_service
from app.topics import service as topic_service
from app.workspaces import service as workspace_service
from app.workspaces.deps import Visible, WorkspaceContext, allowed

router = APIRouter()


def _fields_and_files(form: FormData) -> tuple[FormData, list[attachment_service.FileInput]]:
    """The text fields (a file sent in their place is ignored), and the files chosen to attach; a
    browser sends one empty, nameless part when none is chosen."""
    fields = FormData([(key, value) for key, value in form.multi_items() if isinstance(value, str)])
    files = [
        attachment_service.FileInput(filename=value.filename or "", file=value.file)
        for value in form.getlist("files")
        if isinstance(value, UploadFile) and (value.filename or value.size)
    ]
    return fields, files


def _input(form) -> idea_service.IdeaInput:
    return idea_service.IdeaInput(
        title=form.get("title", ""),
        body=form.get("body", ""),
        tags=tuple(v for v in form.getlist("tags") if isinstance(v, str))[:50],
        topic_id=form.get("topic_id", ""),
        latitude=form.get("latitude", ""),
        longitude=form.get("longitude", ""),
        place_name=form.get("place_name", ""),
    )


async def _form_page(
    request, session, context: WorkspaceContext, *, form, errors, idea=None, status_code=200
):
    topics = await topic_service.topics_of(session=session, workspace_id=context.workspace.id)
    attachments = await attachment_service.of_idea(session=session, idea_id=idea.id) if idea else []
    cities = (await workspace_service.cities_of(session=session, workspace_ids=[context.workspace.id])).get(
        context.workspace.id, []
    )
    form = {"descriptions": {a.id: a.description for a in attachments}, **form}
    return render(
        request,
        "ideas/form.html",
        {
            "workspace": context.workspace,
            "idea": idea,
            "form": form,
            "errors": errors,
            "taxonomy": taxonomy(),
            "topics": topics,
            "title_max": idea_service.TITLE_MAX,
            "body_max": idea_service.BODY_MAX,
            "attachments": attachments,
            "files_left": attachment_service.MAX_FILES - len(attachments),
            "max_files": attachment_service.MAX_FILES,
            "max_file_mb": attachment_service.MAX_FILE_BYTES // attachment_service.MB,
            "accept": attachment_service.ACCEPT,
            "file_size": attachment_service.size_label,
            "description_max": attachment_service.DESCRIPTION_MAX,
            # The place picker opens on the workspace's (first) city.
            "map_centre": (cities[0].latitude, cities[0].longitude) if cities else None,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/map")
async def ideas_map(request: Request, session: SessionDep, context: Visible):
    """The workspace's ideas that have a place, on a map, each marker linking to its idea; the same
    ideas are listed under it, so the page says everything without the map too."""
    workspace = context.workspace
    ideas = await idea_service.placed_ideas(session=session, workspace_id=workspace.id)
    cities = (await workspace_service.cities_of(session=session, workspace_ids=[workspace.id])).get(
        workspace.id, []
    )
    points = [
        {
            "title": idea["title"],
            "url": f"/w/{workspace.slug}/ideas/{idea['id']}",
            "lat": idea["lat"],
            "lng": idea["lng"],
        }
        for idea in ideas
    ]
    return render(
        request,
        "ideas/map.html",
        {
            "workspace": workspace,
            "ideas": ideas,
            "points": points,
            "cities": cities,
            "most": idea_service.MAP_IDEAS_MAX,
        },
    )


@router.get("/w/{slug}/ideas/new")
async def new_idea(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_post)],
    user: CurrentUser,
    topic: str = "",
):
    form = {"tags": [], "topic_id": topic}
    return await _form_page(request, session, context, form=form, errors={})


@router.post("/w/{slug}/ideas/new", dependencies=[rate_limited("post")])
async def post_idea(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_post)],
    user: CurrentUser,
):
    fields, files = _fields_and_files(await request.form())
    data = _input(fields)
    try:
        async with attachment_service.batch(session=session, storage=storage, files=files) as work:
            idea = await idea_service.create(
                session=session, workspace=context.workspace, author=user, data=data
            )
            await work.attach(idea_id=idea.id, uploader=user)
    except FormError as error:
        return await _form_page(
            request, session, context, form=vars(data), errors=error.errors, status_code=422
        )
    response = RedirectResponse(f"/w/{context.workspace.slug}/ideas/{idea.id}", status_code=303)
    flash(request, response, _("Your idea is posted."), "success")
    return response


def _support_context(context: WorkspaceContext, idea: Idea, supported: bool) -> dict:
    return {
        "workspace": context.workspace,
        "idea": idea,
        "supported": supported,
        "can_support": context.can(permissions.can_support) and idea.hidden_at is None,
    }


@router.get("/w/{slug}/ideas/{idea_id}")
async def idea_page(request: Request, session: SessionDep, loaded: VisibleIdea, comments: int = 1):
    context, idea = loaded
    return await idea_view(request, session, context, idea, comments_page=comments)


async def idea_view(
    request: Request,
    session,
    context: WorkspaceContext,
    idea: Idea,
    *,
    comments_page: int = 1,
    errors: dict | None = None,
    form: dict | None = None,
    notice: str = "",
    status_code: int = 200,
):
    """The idea page; the moderation forms on it come back here with their errors (``errors`` and
    ``form``) or a refusal (``notice``)."""
    workspace = context.workspace
    view = await idea_service.reader_view(session=session, idea=idea, user=context.user)
    tags = await idea_service.tags_of(session=session, idea_ids=[idea.id])
    attachments = await attachment_service.of_idea(session=session, idea_id=idea.id)
    threads = await comment_service.page_of_threads(
        session=session, idea_id=idea.id, page=max(1, min(comments_page, 10_000))
    )
    await moderation_service.annotate(session=session, nodes=threads.threads, viewer=context.user)
    case, reported = await moderation_service.case_of(
        session=session, target=moderation_service.idea_target(idea), viewer=context.user
    )
    return render(
        request,
        "ideas/idea.html",
        {
            **_support_context(context, idea, view.supported),
            "author_name": view.author_name,
            "tags": [taxonomy().tag(key) for key in tags[idea.id] if taxonomy().tag(key)],
            "topic": view.topic,
            "images": [attachment for attachment in attachments if attachment.is_image],
            "documents": [attachment for attachment in attachments if not attachment.is_image],
            "file_size": attachment_service.size_label,
            "preview_size": attachment_service.preview_size,
            "history": await idea_service.status_history(session=session, idea_id=idea.id),
            "status_labels": idea_service.STATUS_LABELS,
            "can_edit": permissions.can_edit(context.user, workspace, idea, context.membership),
            "can_change_status": context.can(permissions.can_change_status),
            "following": context.user is not None
            and await notification_service.is_following(
                session=session, user_id=context.user.id, idea_id=idea.id
            ),
            "status_errors": {},
            "threads": threads,
            "can_comment": context.can(comment_permissions.can_comment) and permissions.takes_comments(idea),
            **moderation_permissions.template_helpers(context),
            "idea_case": case,
            "idea_reported": reported,
            "may_report_idea": context.can(moderation_permissions.can_report_idea, idea),
            "moderation_errors": errors or {},
            "moderation_form": form or {},
            "moderation_notice": notice,
            "comment_permissions": comment_permissions,
            "membership": context.membership,
            "now": utcnow(),
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/ideas/{idea_id}/edit")
async def edit_idea(request: Request, session: SessionDep, loaded: EditableIdea, user: CurrentUser):
    context, idea = loaded
    tags = await idea_service.tags_of(session=session, idea_ids=[idea.id])
    form = {
        **idea.model_dump(),
        "tags": tags[idea.id],
        "topic_id": str(idea.topic_id or ""),
        "latitude": "" if idea.latitude is None else str(idea.latitude),
        "longitude": "" if idea.longitude is None else str(idea.longitude),
    }
    return await _form_page(request, session, context, form=form, errors={}, idea=idea)


@router.post("/w/{slug}/ideas/{idea_id}/edit")
async def update_idea(
    request: Request, session: SessionDep, storage: StorageDep, loaded: EditableIdea, user: CurrentUser
):
    context, idea = loaded
    fields, files = _fields_and_files(await request.form())
    data = _input(fields)
    existing = await attachment_service.count(session=session, idea_id=idea.id) if files else 0
    images = [a for a in await attachment_service.of_idea(session=session, idea_id=idea.id) if a.is_image]
    description_errors: dict[str, str] = {}
    descriptions = attachment_service.clean_descriptions(fields, images, description_errors)
    try:
        async with attachment_service.batch(
            session=session, storage=storage, files=files, existing=existing
        ) as work:
            try:
                await idea_service.update_idea(
                    session=session, workspace=context.workspace, idea=idea, data=data
                )
            except FormError as error:
                raise FormError({**error.errors, **description_errors}) from None
            if description_errors:
                raise FormError(description_errors)
            await attachment_service.describe(session=session, images=images, descriptions=descriptions)
            await work.attach(idea_id=idea.id, uploader=user)
    except FormError as error:
        form = {
            **vars(data),
            "descriptions": {image.id: image.description for image in images} | descriptions,
        }
        return await _form_page(
            request, session, context, form=form, errors=error.errors, idea=idea, status_code=422
        )
    response = RedirectResponse(f"/w/{context.workspace.slug}/ideas/{idea.id}", status_code=303)
    flash(request, response, _("Your idea is saved."), "success")
    return response


@router.post("/w/{slug}/ideas/{idea_id}/status")
async def change_status(
    request: Request,
    session: SessionDep,
    loaded: IdeaToJudge,
    user: CurrentUser,
    status: FormStr = "",
    note: FormStr = "",
):
    context, idea = loaded
    target = f"/w/{context.workspace.slug}/ideas/{idea.id}"
    try:
        await idea_service.change_status(
            session=session, workspace=context.workspace, idea=idea, moderator=user, status=status, note=note
        )
    except FormError as error:
        response = RedirectResponse(target + "#status", status_code=303)
        flash(request, response, next(iter(error.errors.values())), "error")
        return response
    response = RedirectResponse(target, status_code=303)
    flash(request, response, _("The status is changed."), "success")
    return response


@router.post("/w/{slug}/ideas/{idea_id}/support")
async def toggle_support(request: Request, session: SessionDep, loaded: IdeaToSupport, user: CurrentUser):
    """Supports the idea or takes the support back. htmx swaps the button in place; without
    JavaScript the browser comes back to the idea page."""
    context, idea = loaded
    supported, count = await idea_service.toggle_support(session=session, idea=idea, user=user)
    idea.support_count = count
    if is_htmx_fragment_request(request):
        return render(request, "ideas/_support.html", _support_context(context, idea, supported))
    return RedirectResponse(f"/w/{context.workspace.slug}/ideas/{idea.id}", status_code=303)

"""Workspace pages: the list, creating and editing, the workspace itself, joining, members, archiving."""

import functools
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Integer, bindparam
from sqlmodel import select

from app.accounts.deps import CurrentUser, OptionalUser, user_allowed
from app.accounts.models import User
from app.core.deps import FormStr, RowId, SessionDep
from app.core.errors import Refused
from app.core.forms import FormError, form_text
from app.core.i18n import _
from app.core.taxonomy import taxonomy
from app.core.templating import flash, is_htmx_fragment_request, render
from app.ideas import permissions as idea_permissions
from app.ideas import service as idea_service
from app.moderation import permissions as moderation_permissions
from app.moderation import sanctions
from app.moderation import service as moderation_service
from app.moderation.models import REASON_LABELS
from app.network import service as network_service
from app.notifications import service as notification_service
from app.topics import service as topic_service
from app.workspaces import permissions
from app.workspaces import service as workspace_service
from app.workspaces.deps import Editable, Moderated, Visible, WorkspaceContext, allowed
from app.workspaces.models import JoinPolicy, MemberRole, Membership, MemberStatus, Visibility, Workspace

router = APIRouter()

WorkspaceCreator = Annotated[User, user_allowed(permissions.can_create_workspace)]


def _can_appoint_moderators(user, workspace, _membership) -> bool:
    return permissions.can_appoint_moderators(user, workspace)


def _choices():
    return {
        "visibility_options": [
            (Visibility.PUBLIC, _("Public: anyone can read it")),
            (Visibility.MEMBERS, _("Members only: outsiders see nothing of it")),
        ],
        "join_policy_options": [
            (JoinPolicy.OPEN, _("Open: anyone signed in can join")),
            (JoinPolicy.APPROVAL, _("Approval: a moderator approves each request")),
        ],
    }


@router.get("/workspaces")
async def workspace_list(
    request: Request, session: SessionDep, user: OptionalUser, page: int = 1, q: str = ""
):
    page = max(1, min(page, 10_000))
    query = q.strip()[:100]
    listing = await workspace_service.list_visible(
        session=session, user=user, staff=permissions.is_staff(user), page=page, query=query
    )
    return render(
        request,
        "workspaces/index.html",
        {"listing": listing, "query": query, "can_create": permissions.can_create_workspace(user)},
        block="results",
    )


async def _form_page(request, session, *, form, errors, action, workspace=None, status_code=200):
    listings = await network_service.list_networks(session=session)
    cities = {city.id: city for listing in listings for city, _role in listing.members}
    return render(
        request,
        "workspaces/form.html",
        {
            "form": form,
            "errors": errors,
            "action": action,
            "workspace": workspace,
            "cities": sorted(cities.values(), key=lambda c: (c.country_code, c.name_en)),
            **_choices(),
        },
        status_code=status_code,
    )


def _input(form) -> workspace_service.WorkspaceInput:
    return workspace_service.WorkspaceInput(
        title_en=form_text(form, "title_en"),
        title_zh=form_text(form, "title_zh"),
        summary_en=form_text(form, "summary_en"),
        summary_zh=form_text(form, "summary_zh"),
        visibility=form_text(form, "visibility"),
        join_policy=form_text(form, "join_policy"),
        city_ids=tuple(v for v in form.getlist("city_ids") if isinstance(v, str))[:500],
    )


@router.get("/workspaces/new")
async def new_workspace(request: Request, session: SessionDep, user: WorkspaceCreator):
    form = {"visibility": Visibility.PUBLIC, "join_policy": JoinPolicy.OPEN, "city_ids": []}
    return await _form_page(request, session, form=form, errors={}, action="/workspaces/new")


@router.post("/workspaces/new")
async def create_workspace(request: Request, session: SessionDep, user: WorkspaceCreator):
    data = _input(await request.form())
    try:
        workspace = await workspace_service.create(session=session, creator=user, data=data)
    except FormError as error:
        return await _form_page(
            request, session, form=vars(data), errors=error.errors, action="/workspaces/new", status_code=422
        )
    response = RedirectResponse(f"/w/{workspace.slug}", status_code=303)
    flash(request, response, _("The workspace is created."), "success")
    return response


@router.get("/w/{slug}")
async def workspace_page(
    request: Request,
    session: SessionDep,
    context: Visible,
    topic: str = "",
    tag: str = "",
    status: str = "",
    sort: str = "newest",
    page: int = 1,
):
    workspace = context.workspace
    filters = idea_service.filters_from_query(topic=topic, tag=tag, status=status, sort=sort, page=page)
    ideas = await idea_service.list_ideas(
        session=session, workspace=workspace, filters=filters, user=context.user
    )
    topics = await topic_service.topics_of(session=session, workspace_id=workspace.id)
    if is_htmx_fragment_request(request):
        return render(
            request, "workspaces/workspace.html", _ideas_context(workspace, ideas, topics), block="ideas"
        )
    cities = await workspace_service.cities_of(session=session, workspace_ids=[workspace.id])
    can_moderate = context.can(permissions.can_moderate)
    return render(
        request,
        "workspaces/workspace.html",
        {
            **_ideas_context(workspace, ideas, topics),
            "membership": context.membership,
            "cities": cities[workspace.id],
            "feed": await idea_service.feed(session=session, workspace_id=workspace.id),
            "activity_messages": workspace_service.ACTIVITY_MESSAGES,
            "can_join": context.can(permissions.can_join),
            "can_leave": context.can(permissions.can_leave),
            "can_moderate": can_moderate,
            "can_edit": permissions.can_edit(context.user, workspace),
            "can_post": context.can(idea_permissions.can_post),
            **await _reader_counts(session, workspace, context.user, can_moderate=can_moderate),
        },
    )


@functools.cache
def _reader_counts_statement(*, moderates: bool):
    """Whether the reader follows the workspace and, for its moderators, how many ask to join and how
    many cases wait: one statement of the domains' parts, built once, the ids bound."""
    reader_id, workspace_id = bindparam("reader_id", type_=Integer), bindparam("workspace_id", type_=Integer)
    parts = [notification_service.follows_workspace(reader_id, workspace_id)]
    if moderates:
        parts += [
            workspace_service.pending_statement(workspace_id).scalar_subquery(),
            moderation_service.waiting_in(workspace_id).scalar_subquery(),
        ]
    return select(*parts)


async def _reader_counts(session, workspace: Workspace, user: User | None, *, can_moderate: bool) -> dict:
    if user is None:
        return {"following": False, "pending": 0, "to_moderate": 0}
    params = {"reader_id": user.id, "workspace_id": workspace.id}
    row = (await session.exec(_reader_counts_statement(moderates=can_moderate), params=params)).one()
    # One column comes back as a value, three as a row.
    following, pending, to_moderate = row if can_moderate else (row, 0, 0)
    return {"following": bool(following), "pending": pending, "to_moderate": to_moderate}


def _ideas_context(workspace: Workspace, ideas: idea_service.IdeaListing, topics: list) -> dict:
    return {
        "workspace": workspace,
        "ideas": ideas,
        "topics": topics,
        "taxonomy": taxonomy(),
        "status_labels": idea_service.STATUS_LABELS,
        "sorts": idea_service.SORTS,
    }


@router.get("/w/{slug}/edit")
async def edit_workspace(request: Request, session: SessionDep, context: Editable):
    workspace = context.workspace
    cities = await workspace_service.cities_of(session=session, workspace_ids=[workspace.id])
    form = {**workspace.model_dump(), "city_ids": [str(c.id) for c in cities[workspace.id]]}
    return await _form_page(
        request, session, form=form, errors={}, action=f"/w/{workspace.slug}/edit", workspace=workspace
    )


@router.post("/w/{slug}/edit")
async def update_workspace(request: Request, session: SessionDep, context: Editable):
    workspace = context.workspace
    data = _input(await request.form())
    try:
        await workspace_service.update_details(session=session, workspace=workspace, data=data)
    except FormError as error:
        return await _form_page(
            request,
            session,
            form=vars(data),
            errors=error.errors,
            action=f"/w/{workspace.slug}/edit",
            workspace=workspace,
            status_code=422,
        )
    response = RedirectResponse(f"/w/{workspace.slug}", status_code=303)
    flash(request, response, _("The workspace is saved."), "success")
    return response


def _back(request: Request, to: str, message: str, category: str = "success"):
    """Back to a workspace page with a message. ``to`` is worked out before the service call: a failed
    call rolls the session back, and the workspace's attributes are then unloaded."""
    response = RedirectResponse(to, status_code=303)
    flash(request, response, message, category)
    return response


@router.post("/w/{slug}/join")
async def join_workspace(
    request: Request, session: SessionDep, context: Visible, user: CurrentUser, message: FormStr = ""
):
    workspace = context.workspace
    page = f"/w/{workspace.slug}"
    try:
        membership = await workspace_service.join(
            session=session, workspace=workspace, user=user, message=message
        )
    except Refused as refused:
        return _back(request, page, refused.message, "error")
    if membership.status == MemberStatus.PENDING:
        return _back(request, page, _("Your request is sent. A moderator will decide on it."))
    return _back(request, page, _("Welcome! You are now a member."))


@router.post("/w/{slug}/leave")
async def leave_workspace(request: Request, session: SessionDep, context: Visible, user: CurrentUser):
    workspace = context.workspace
    page = f"/w/{workspace.slug}"
    target = page if workspace.is_public else "/workspaces"
    try:
        await workspace_service.leave(session=session, workspace=workspace, user=user)
    except Refused as refused:
        return _back(request, page, refused.message, "error")
    return _back(request, target, _("You left the workspace."), "info")


@router.get("/w/{slug}/members")
async def members_page(request: Request, session: SessionDep, context: Visible, page: int = 1):
    return await members_view(request, session, context, page=page)


async def members_view(
    request: Request, session, context: WorkspaceContext, *, page: int = 1, errors=None, status_code=200
):
    """The members page; moderators also see the requests waiting and the banned members, with the
    forms to warn and ban."""
    workspace = context.workspace
    page = max(1, min(page, 10_000))
    can_moderate = context.can(permissions.can_moderate)
    active, has_next = await workspace_service.members(
        session=session, workspace_id=workspace.id, status=MemberStatus.ACTIVE, page=page
    )
    pending, banned = [], []
    if can_moderate:
        pending, _more = await workspace_service.members(
            session=session, workspace_id=workspace.id, status=MemberStatus.PENDING, page_size=200
        )
        banned, _more = await workspace_service.members(
            session=session, workspace_id=workspace.id, status=MemberStatus.BANNED, page_size=200
        )
    return render(
        request,
        "workspaces/members.html",
        {
            "workspace": workspace,
            "membership": context.membership,
            "active": active,
            "pending": pending,
            "banned": banned,
            "page": page,
            "has_next": has_next,
            "can_moderate": can_moderate and not workspace.is_archived,
            "can_appoint": permissions.can_appoint_moderators(context.user, workspace),
            "can_sanction": functools.partial(
                permissions.can_sanction, context.user, workspace, context.membership
            ),
            "ban_lengths": sanctions.BAN_LENGTH_LABELS,
            "may_report_member": functools.partial(
                moderation_permissions.can_report_member, context.user, workspace, context.membership
            ),
            "report_reasons": REASON_LABELS,
            "errors": errors or {},
        },
        status_code=status_code,
    )


async def _target_membership(session, workspace: Workspace, membership_id: int) -> Membership:
    membership = await workspace_service.get_membership(
        session=session, workspace_id=workspace.id, membership_id=membership_id
    )
    if membership is None:
        raise HTTPException(status_code=404)
    return membership


@router.post("/w/{slug}/members/{membership_id}/decide")
async def decide_request(
    request: Request, session: SessionDep, context: Moderated, membership_id: RowId, decision: FormStr = ""
):
    workspace = context.workspace
    members = f"/w/{workspace.slug}/members"
    membership = await _target_membership(session, workspace, membership_id)
    if decision not in ("approve", "decline"):
        raise HTTPException(status_code=422)
    try:
        await workspace_service.decide(
            session=session,
            workspace=workspace,
            membership=membership,
            moderator=context.user,
            approve=decision == "approve",
        )
    except Refused as refused:
        return _back(request, members, refused.message, "error")
    message = _("Request approved.") if decision == "approve" else _("Request declined.")
    return _back(request, members, message)


@router.post("/w/{slug}/members/{membership_id}/role")
async def change_role(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(_can_appoint_moderators)],
    user: CurrentUser,
    membership_id: RowId,
    role: FormStr = "",
):
    workspace = context.workspace
    members = f"/w/{workspace.slug}/members"
    membership = await _target_membership(session, workspace, membership_id)
    try:
        await workspace_service.set_role(
            session=session, workspace=workspace, membership=membership, role=role, by=user
        )
    except Refused as refused:
        return _back(request, members, refused.message, "error")
    message = _("They are now a moderator.") if role == MemberRole.MODERATOR else _("They are now a member.")
    return _back(request, members, message)


@router.post("/w/{slug}/archive")
async def archive_workspace(
    request: Request, session: SessionDep, context: Editable, archived: FormStr = "1"
):
    workspace = context.workspace
    await workspace_service.set_archived(
        session=session, workspace=workspace, archived=archived == "1", by=context.user
    )
    message = (
        _("The workspace is archived: readable, but closed to anything new.")
        if archived == "1"
        else _("The workspace is open again.")
    )
    return _back(request, f"/w/{workspace.slug}", message)

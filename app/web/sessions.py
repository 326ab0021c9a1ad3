"""Session pages: the list and calendar feed, scheduling, registration and the waiting list,
attendance, minutes and outcomes, and each session's .ics file."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.datastructures import FormData

from app.accounts.deps import CurrentUser
from app.cocreation import calendar, permissions
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession, SessionStatus
from app.core import live
from app.core.deps import FormStr, RowId, SessionDep, SettingsDep, rate_limited
from app.core.errors import Refused
from app.core.forms import FormError, form_text, local_datetime_input, whole_number, whole_numbers
from app.core.i18n import N_, _, get_time_zone, time_zones
from app.core.templating import flash, is_htmx_fragment_request, render
from app.ideas import service as idea_service
from app.voting import routes as voting_routes
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting import views as voting_views
from app.web import room
from app.workspaces import service as workspace_service
from app.workspaces.deps import Visible, WorkspaceContext, allowed, allowed_on

router = APIRouter()

AGENDA_ROWS_FREE = 3
# Rows the form takes and shows at most: a full agenda and a few empty ones.
AGENDA_ROWS_MAX = session_service.AGENDA_MAX + AGENDA_ROWS_FREE


async def visible_session(
    session_id: RowId, session: SessionDep, context: Visible
) -> tuple[WorkspaceContext, CocreationSession]:
    cs = await session_service.get(session=session, workspace_id=context.workspace.id, session_id=session_id)
    if cs is None or not permissions.can_view(context.user, context.workspace, context.membership, cs):
        raise HTTPException(status_code=404)
    return context, cs


def _may(predicate):
    """A session rule (``permissions.can_manage``, ``can_register``, ...) as ``allowed_on`` asks it."""

    def check(user, context: WorkspaceContext, cs: CocreationSession) -> bool:
        return context.can(predicate)

    return check


SessionOf = tuple[WorkspaceContext, CocreationSession]
VisibleSession = Annotated[SessionOf, Depends(visible_session)]
ManagedSession = Annotated[SessionOf, allowed_on(visible_session, _may(permissions.can_manage))]
SessionToJoin = Annotated[SessionOf, allowed_on(visible_session, _may(permissions.can_register))]
LiveSession = Annotated[SessionOf, allowed_on(visible_session, _may(permissions.can_take_part_live))]


def _url(context: WorkspaceContext, cs: CocreationSession | None = None, tail: str = "") -> str:
    base = f"/w/{context.workspace.slug}/sessions"
    return f"{base}/{cs.id}{tail}" if cs is not None else base + tail


@router.get("/w/{slug}/sessions")
async def sessions_page(request: Request, session: SessionDep, context: Visible, past: int = 0):
    can_manage = context.can(permissions.can_manage)
    sessions = await session_service.list_sessions(
        session=session, workspace_id=context.workspace.id, include_drafts=can_manage, past=bool(past)
    )
    return render(
        request,
        "cocreation/index.html",
        {
            "workspace": context.workspace,
            "sessions": sessions,
            "past": bool(past),
            "can_manage": can_manage,
            "labels": session_service,
        },
    )


@router.get("/w/{slug}/sessions.ics")
async def workspace_calendar(session: SessionDep, settings: SettingsDep, context: Visible):
    sessions = await session_service.calendar_sessions(session=session, workspace_id=context.workspace.id)
    body = calendar.feed(settings=settings, workspace=context.workspace, sessions=sessions)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{context.workspace.slug}-sessions.ics"'},
    )


def _form_input(form: FormData) -> session_service.SessionInput:
    titles, minutes = form.getlist("agenda_title"), form.getlist("agenda_minutes")
    agenda = [
        session_service.AgendaInput(title=str(title), minutes=str(minutes[i]) if i < len(minutes) else "")
        for i, title in enumerate(titles[:AGENDA_ROWS_MAX])
    ]
    return session_service.SessionInput(
        **{
            name: form_text(form, name)
            for name in (
                "title",
                "description",
                "phase",
                "mode",
                "place_name",
                "online_url",
                "time_zone",
                "starts_at",
                "ends_at",
                "capacity",
            )
        },
        agenda=agenda,
    )


def _form_page(
    request,
    context,
    *,
    data: session_service.SessionInput,
    errors,
    cs=None,
    status_code=200,
    free_rows=AGENDA_ROWS_FREE,
    added_row=False,
):
    agenda = list(data.agenda) + [session_service.AgendaInput() for _ in range(free_rows)]
    agenda = agenda[: max(AGENDA_ROWS_MAX, len(data.agenda))]
    return render(
        request,
        "cocreation/form.html",
        {
            "workspace": context.workspace,
            "cs": cs,
            "form": data,
            "agenda": agenda,
            "agenda_rows_max": AGENDA_ROWS_MAX,
            "added_row": added_row,
            "errors": errors,
            "phases": list(session_service.PHASE_LABELS.items()),
            "modes": list(session_service.MODE_LABELS.items()),
            "time_zones": time_zones(),
            "title_max": session_service.TITLE_MAX,
            "description_max": session_service.DESCRIPTION_MAX,
        },
        status_code=status_code,
    )


def _with_a_row_added(request, context, data: session_service.SessionInput, cs=None):
    """The form's 'add a row' button without JavaScript: the same form, as typed, with one empty row
    more; nothing is saved."""
    return _form_page(request, context, data=data, errors={}, cs=cs, free_rows=1, added_row=True)


@router.get("/w/{slug}/sessions/new")
async def new_session(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_manage)],
    user: CurrentUser,
):
    """A new session starts in the time zone of the workspace's (first) city, else the moderator's."""
    cities = (await workspace_service.cities_of(session=session, workspace_ids=[context.workspace.id]))[
        context.workspace.id
    ]
    zone = next((z for z in (session_service.zone_of_country(c.country_code) for c in cities) if z), None)
    data = session_service.SessionInput(
        phase="co-design", mode="in-person", time_zone=zone or get_time_zone()
    )
    return _form_page(request, context, data=data, errors={})


@router.post("/w/{slug}/sessions/new")
async def create_session(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_manage)],
    user: CurrentUser,
):
    form = await request.form()
    data = _form_input(form)
    if "add_row" in form:
        return _with_a_row_added(request, context, data)
    try:
        cs = await session_service.create(
            session=session, workspace=context.workspace, author=user, data=data
        )
    except FormError as error:
        return _form_page(request, context, data=data, errors=error.errors, status_code=422)
    response = RedirectResponse(_url(context, cs), status_code=303)
    flash(request, response, _("The session is saved as a draft. Publish it when it is ready."), "success")
    return response


@router.get("/w/{slug}/sessions/{session_id}/edit")
async def edit_session(request: Request, session: SessionDep, loaded: ManagedSession):
    context, cs = loaded
    agenda = await session_service.agenda_of(session=session, session_id=cs.id)
    data = session_service.SessionInput(
        title=cs.title,
        description=cs.description,
        phase=cs.phase,
        mode=cs.mode,
        place_name=cs.place_name,
        online_url=cs.online_url,
        time_zone=cs.time_zone,
        starts_at=local_datetime_input(cs.starts_at, cs.time_zone),
        ends_at=local_datetime_input(cs.ends_at, cs.time_zone),
        capacity="" if cs.capacity is None else str(cs.capacity),
        agenda=[session_service.AgendaInput(item.title, str(item.duration_minutes)) for item in agenda],
    )
    return _form_page(request, context, data=data, errors={}, cs=cs)


@router.post("/w/{slug}/sessions/{session_id}/edit")
async def update_session(request: Request, session: SessionDep, loaded: ManagedSession, user: CurrentUser):
    context, cs = loaded
    if cs.status == SessionStatus.CLOSED:
        raise Refused(_("A closed session can no longer be changed."), 403)
    form = await request.form()
    data = _form_input(form)
    if "add_row" in form:
        return _with_a_row_added(request, context, data, cs=cs)
    try:
        await session_service.update_session(session=session, cs=cs, data=data, by=user)
    except FormError as error:
        return _form_page(request, context, data=data, errors=error.errors, cs=cs, status_code=422)
    response = RedirectResponse(_url(context, cs), status_code=303)
    flash(request, response, _("The session is saved."), "success")
    return response


async def _session_context(session, context: WorkspaceContext, cs: CocreationSession) -> dict:
    registration = await session_service.registration_of(session=session, session_id=cs.id, user=context.user)
    position = None
    if registration is not None and registration.status == "waitlisted":
        position = await session_service.waitlist_position(session=session, registration=registration)
    can_manage = context.can(permissions.can_manage)
    return {
        "workspace": context.workspace,
        "cs": cs,
        "agenda": await session_service.agenda_of(session=session, session_id=cs.id),
        "registration": registration,
        "waitlist_position": position,
        "waitlist_count": await session_service.waitlist_count(session=session, session_id=cs.id),
        "can_manage": can_manage,
        "ended": session_service.has_ended(cs),
        "can_register": context.can(permissions.can_register) and session_service.can_register_now(cs),
        "is_member": context.can(permissions.can_register),
        "ideas": await session_service.ideas_of(session=session, session_id=cs.id),
        "ballots": await voting_storage.list_ballots(
            session=session, workspace_id=cs.workspace_id, session_id=cs.id
        ),
        "labels": session_service,
        "status_labels": idea_service.STATUS_LABELS,
        "ballot_states": voting_views.STATE_LABELS,
        "now": voting_service.now(),
    }


@router.get("/w/{slug}/sessions/{session_id}")
async def session_page(request: Request, session: SessionDep, loaded: VisibleSession):
    context, cs = loaded
    return render(request, "cocreation/session.html", await _session_context(session, context, cs))


@router.get("/w/{slug}/sessions/{session_id}/session.ics")
async def session_ics(session: SessionDep, settings: SettingsDep, loaded: VisibleSession):
    """The online link goes only to those the session page shows it to: moderators and people with a place."""
    context, cs = loaded
    registration = await session_service.registration_of(session=session, session_id=cs.id, user=context.user)
    with_link = context.can(permissions.can_manage) or (
        registration is not None and registration.status == "registered"
    )
    body = calendar.feed(settings=settings, workspace=context.workspace, sessions=[cs], with_links=with_link)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="session-{cs.id}.ics"'},
    )


async def _rule_error(request, session, context, cs, message: str):
    """The session page again with the reason, and nothing changed."""
    page = await _session_context(session, context, cs)
    return render(request, "cocreation/session.html", {**page, "error": message}, status_code=422)


@router.post("/w/{slug}/sessions/{session_id}/register")
async def register(request: Request, session: SessionDep, loaded: SessionToJoin, user: CurrentUser):
    context, cs = loaded
    try:
        registration = await session_service.register(session=session, cs=cs, user=user)
    except Refused as error:
        return await _rule_error(request, session, context, cs, error.message)
    response = RedirectResponse(_url(context, cs), status_code=303)
    if registration.status == "registered":
        flash(request, response, _("You are registered. See you there!"), "success")
    else:
        flash(request, response, _("The session is full: you are on the waiting list."), "success")
    return response


@router.post("/w/{slug}/sessions/{session_id}/cancel")
async def cancel_registration(
    request: Request, session: SessionDep, loaded: VisibleSession, user: CurrentUser
):
    context, cs = loaded
    try:
        await session_service.cancel(session=session, cs=cs, user=user)
    except Refused as error:
        return await _rule_error(request, session, context, cs, error.message)
    response = RedirectResponse(_url(context, cs), status_code=303)
    flash(request, response, _("Your registration is cancelled."), "success")
    return response


STATUS_MESSAGES = {
    SessionStatus.SCHEDULED: N_("The session is published: members can register."),
    SessionStatus.LIVE: N_("The session is live."),
    SessionStatus.CLOSED: N_("The session is closed."),
    SessionStatus.DRAFT: N_("The session is back to draft."),
}


@router.post("/w/{slug}/sessions/{session_id}/status")
async def change_status(
    request: Request, session: SessionDep, loaded: ManagedSession, user: CurrentUser, status: FormStr = ""
):
    context, cs = loaded
    if status not in SessionStatus.__members__.values():
        return await _rule_error(
            request, session, context, cs, _("This session cannot move to that state now.")
        )
    try:
        await session_service.set_status(session=session, cs=cs, status=SessionStatus(status), by=user)
    except Refused as error:
        return await _rule_error(request, session, context, cs, error.message)
    target = _url(context, cs, "/live" if status == SessionStatus.LIVE else "")
    response = RedirectResponse(target, status_code=303)
    flash(request, response, _(STATUS_MESSAGES[SessionStatus(status)]), "success")
    return response


@router.get("/w/{slug}/sessions/{session_id}/attendance")
async def attendance_page(request: Request, session: SessionDep, loaded: ManagedSession):
    context, cs = loaded
    return render(
        request,
        "cocreation/attendance.html",
        {
            "workspace": context.workspace,
            "cs": cs,
            "people": await session_service.registrations(session=session, session_id=cs.id),
        },
    )


@router.post("/w/{slug}/sessions/{session_id}/attendance")
async def save_attendance(request: Request, session: SessionDep, loaded: ManagedSession):
    context, cs = loaded
    form = await request.form()
    present = set(whole_numbers(form.getlist("present")))
    count = await session_service.set_attendance(session=session, cs=cs, attended_user_ids=present)
    response = RedirectResponse(_url(context, cs), status_code=303)
    flash(request, response, _("Attendance is saved: %(num)s present.", num=count), "success")
    return response


async def _minutes_page(request, session, context, cs, *, form, errors, status_code=200):
    ideas = await session_service.linkable_ideas(session=session, cs=cs, chosen=form["idea_ids"])
    return render(
        request,
        "cocreation/minutes.html",
        {"workspace": context.workspace, "cs": cs, "form": form, "errors": errors, "ideas": ideas},
        status_code=status_code,
    )


@router.get("/w/{slug}/sessions/{session_id}/minutes")
async def minutes_page(request: Request, session: SessionDep, loaded: ManagedSession):
    context, cs = loaded
    linked = [board.idea.id for board in await session_service.ideas_of(session=session, session_id=cs.id)]
    form = {"minutes": cs.minutes, "outcomes": cs.outcomes, "idea_ids": linked}
    return await _minutes_page(request, session, context, cs, form=form, errors={})


@router.post("/w/{slug}/sessions/{session_id}/minutes")
async def save_minutes(
    request: Request,
    session: SessionDep,
    loaded: ManagedSession,
    minutes: FormStr = "",
    outcomes: FormStr = "",
):
    context, cs = loaded
    form = await request.form()
    idea_ids = whole_numbers(form.getlist("idea_ids"))
    try:
        await session_service.save_minutes(
            session=session, cs=cs, minutes=minutes, outcomes=outcomes, idea_ids=idea_ids[:500]
        )
    except FormError as error:
        data = {"minutes": minutes, "outcomes": outcomes, "idea_ids": idea_ids}
        return await _minutes_page(
            request, session, context, cs, form=data, errors=error.errors, status_code=422
        )
    response = RedirectResponse(_url(context, cs), status_code=303)
    flash(request, response, _("The minutes are saved."), "success")
    return response


async def _room_page(
    request, session, settings, context: WorkspaceContext, cs: CocreationSession, status_code=200, **extra
):
    # The last event id first: whatever commits while the page is read is then replayed by the stream.
    last_event_id = await live.latest_event_id(session, channel=session_service.channel(cs.id))
    agenda = await session_service.agenda_of(session=session, session_id=cs.id)
    board_ideas = await session_service.ideas_of(session=session, session_id=cs.id)
    groups = [{"key": item.id, "title": item.title, "ideas": []} for item in agenda]
    groups.append({"key": "none", "title": _("Other ideas") if agenda else _("Ideas"), "ideas": []})
    by_key = {group["key"]: group for group in groups}
    for board in board_ideas:
        by_key.get(board.agenda_item_id or "none", by_key["none"])["ideas"].append(board.idea)
    ballots = [
        await voting_routes.ballot_context(session, settings, context, ballot)
        for ballot in await voting_storage.list_ballots(
            session=session, workspace_id=cs.workspace_id, session_id=cs.id, limit=10
        )
        if ballot.state(voting_service.now()) != "upcoming"
    ]
    return render(
        request,
        "cocreation/live.html",
        {
            "workspace": context.workspace,
            "cs": cs,
            "status": cs.status,
            "agenda": agenda,
            "current_item_id": cs.current_item_id,
            "board": groups,
            "ballots": ballots,
            "can_manage": context.can(permissions.can_manage),
            "can_take_part": context.can(permissions.can_take_part_live),
            "last_event_id": last_event_id,
            **extra,
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/sessions/{session_id}/live")
async def live_room(request: Request, session: SessionDep, settings: SettingsDep, loaded: VisibleSession):
    context, cs = loaded
    if cs.status not in (SessionStatus.LIVE, SessionStatus.CLOSED):
        return RedirectResponse(_url(context, cs), status_code=303)
    return await _room_page(request, session, settings, context, cs)


@router.get("/w/{slug}/sessions/{session_id}/live/events")
async def live_events(request: Request, session: SessionDep, loaded: VisibleSession):
    """The room's Server-Sent Events; a reconnecting browser resumes after its last event id.

    The request's database session is closed before the stream starts: a stream lasts as long as the
    tab is open, and must not hold a pooled connection (or, on SQLite, a read snapshot) all that time."""
    context, cs = loaded
    await session.close()
    hub: live.Hub = request.app.state.live
    stream = room.RoomStream(request, cs=cs, context=context)
    last_event_id = live.parse_last_event_id(request)

    async def messages():
        async with hub.subscribe(session_service.channel(cs.id), last_event_id=last_event_id) as events:
            async for event in events:
                message = await stream.message(event)
                if message is not None:
                    yield message

    return StreamingResponse(
        live.sse_stream(
            request, messages(), allowed=stream.still_allowed, farewell=room.closed_message(request)
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _back_to_room(context, cs) -> RedirectResponse:
    return RedirectResponse(_url(context, cs, "/live"), status_code=303)


@router.post("/w/{slug}/sessions/{session_id}/live/agenda")
async def move_agenda(request: Request, session: SessionDep, loaded: ManagedSession, item_id: FormStr = ""):
    context, cs = loaded
    try:
        item = whole_number(item_id) or 0
        await session_service.move_agenda(session=session, cs=cs, item_id=item)
    except Refused as error:
        if is_htmx_fragment_request(request):
            return Response(error.message, status_code=422)
        response = _back_to_room(context, cs)
        flash(request, response, error.message, "error")
        return response
    if is_htmx_fragment_request(request):
        return Response(status_code=204)
    return _back_to_room(context, cs)


# The room's quick ideas are ideas like any other, and count against the same limit.
@router.post("/w/{slug}/sessions/{session_id}/live/ideas", dependencies=[rate_limited("post")])
async def add_live_idea(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    loaded: LiveSession,
    user: CurrentUser,
    title: FormStr = "",
    body: FormStr = "",
):
    context, cs = loaded
    if cs.status != SessionStatus.LIVE:
        return await _room_page(
            request, session, settings, context, cs, error=_("The session is not live."), status_code=422
        )
    try:
        idea = await idea_service.create(
            session=session,
            workspace=context.workspace,
            author=user,
            data=idea_service.IdeaInput(title=title, body=body),
        )
    except FormError as error:
        if is_htmx_fragment_request(request):
            return Response(next(iter(error.errors.values())), status_code=422)
        return await _room_page(
            request,
            session,
            settings,
            context,
            cs,
            idea_errors=error.errors,
            idea_form={"title": title, "body": body},
            status_code=422,
        )
    await session.refresh(cs)
    await session_service.link_idea(session=session, cs=cs, idea=idea)
    if is_htmx_fragment_request(request):
        return Response(status_code=204)
    return _back_to_room(context, cs)


@router.post("/w/{slug}/sessions/{session_id}/live/ideas/{idea_id}/support")
async def support_live_idea(
    request: Request, session: SessionDep, loaded: LiveSession, user: CurrentUser, idea_id: RowId
):
    context, cs = loaded
    idea = await idea_service.get(session=session, workspace_id=context.workspace.id, idea_id=idea_id)
    if idea is None or not await session_service.on_board(session=session, session_id=cs.id, idea_id=idea_id):
        raise HTTPException(status_code=404)
    if idea.hidden_at is not None:
        # As on the idea's own page: a hidden idea takes no support, from anyone.
        raise Refused(_("A hidden idea takes no support."), 403)
    _supported, count = await idea_service.toggle_support(session=session, idea=idea, user=user)
    await session_service.publish_support(session=session, cs=cs, idea_id=idea.id, count=count)
    if is_htmx_fragment_request(request):
        return Response(status_code=204)
    return _back_to_room(context, cs)

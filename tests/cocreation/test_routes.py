"""Scheduling sessions, registering with a waiting list, attendance, minutes and calendar files."""

from datetime import timedelta

from sqlmodel import func, select

from app.cocreation import service as session_service
from app.cocreation.models import AgendaItem, CocreationSession, Registration
from app.core.db import utcnow
from app.ideas.models import Idea
from app.main import create_app
from app.notifications.models import Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import MemberRole, Membership, MemberStatus
from tests.conftest import client_for, log_in, make_settings, make_user, post_form


def local(delta: timedelta) -> str:
    return (utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


FORM = {
    "title": "Co-design walk along the river",
    "description": "Bring **boots**.",
    "phase": "co-design",
    "mode": "hybrid",
    "place_name": "Campanhã station",
    "online_url": "https://meet.example.org/walk",
    "time_zone": "UTC",
    "starts_at": local(timedelta(days=3)),
    "ends_at": local(timedelta(days=3, hours=2)),
    "capacity": "1",
    "agenda_title": ["Welcome", "Walk", "", "Map the ideas"],
    "agenda_minutes": ["10", "60", "", "30"],
}


async def count(session, model, *conditions) -> int:
    return (await session.exec(select(func.count()).select_from(model).where(*conditions))).one()


async def member_of(session, workspace, **kwargs):
    user = await make_user(session, **kwargs)
    await workspace_service.join(session=session, workspace=workspace, user=user)
    return user


async def schedule(client, workspace, **changes) -> CocreationSession | None:
    response = await post_form(client, f"/w/{workspace.slug}/sessions/new", {**FORM, **changes})
    return response


async def published_session(
    session, workspace, facilitator, *, capacity: int | None = 1
) -> CocreationSession:
    data = session_service.SessionInput(**{k: v for k, v in FORM.items() if not k.startswith("agenda")})
    data.capacity = "" if capacity is None else str(capacity)
    cs = await session_service.create(session=session, workspace=workspace, author=facilitator, data=data)
    await session_service.set_status(session=session, cs=cs, status="scheduled", by=facilitator)
    return cs


async def test_a_moderator_schedules_a_draft_with_its_agenda_then_publishes_it(
    client, session, porto, facilitator
):
    await log_in(client, facilitator)
    response = await schedule(client, porto)
    assert response.status_code == 303
    cs = (await session.exec(select(CocreationSession))).one()
    assert (cs.status, cs.capacity, cs.time_zone) == ("draft", 1, "UTC")
    agenda = (await session.exec(select(AgendaItem).order_by(AgendaItem.position))).all()
    assert [(item.title, item.duration_minutes) for item in agenda] == [
        ("Welcome", 10),
        ("Walk", 60),
        ("Map the ideas", 30),
    ]
    response = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/status", {"status": "scheduled"})
    assert response.status_code == 303
    page = await client.get(f"/w/{porto.slug}/sessions/{cs.id}")
    assert "Scheduled" in page.text and "Map the ideas" in page.text and "<strong>boots</strong>" in page.text


async def test_a_draft_is_hidden_from_members(client, session, porto, facilitator):
    data = session_service.SessionInput(**{k: v for k, v in FORM.items() if not k.startswith("agenda")})
    cs = await session_service.create(session=session, workspace=porto, author=facilitator, data=data)
    citizen = await member_of(session, porto)
    await log_in(client, citizen)
    assert (await client.get(f"/w/{porto.slug}/sessions/{cs.id}")).status_code == 404
    assert cs.title not in (await client.get(f"/w/{porto.slug}/sessions")).text


async def test_bad_session_input_is_answered_with_the_form_and_nothing_is_stored(
    client, session, porto, facilitator
):
    await log_in(client, facilitator)
    cases = {
        "ends_at": {"ends_at": local(timedelta(days=2))},
        "capacity": {"capacity": "-1"},
        "phase": {"phase": "co-dreaming"},
        "online_url": {"online_url": "javascript:alert(1)"},
        "time_zone": {"time_zone": "Mars/Olympus"},
    }
    for field, change in cases.items():
        response = await schedule(client, porto, **change)
        assert response.status_code == 422, field
        assert 'aria-invalid="true"' in response.text or "has-error" in response.text
        assert FORM["title"] in response.text  # what was typed comes back
    assert (
        "The session must end after it starts."
        in (await schedule(client, porto, ends_at=FORM["starts_at"])).text
    )
    assert await count(session, CocreationSession) == 0


async def test_a_citizen_cannot_schedule_a_session(client, session, porto):
    citizen = await member_of(session, porto)
    await log_in(client, citizen)
    assert (await client.get(f"/w/{porto.slug}/sessions/new")).status_code == 403
    assert (await schedule(client, porto)).status_code == 403


async def test_when_full_people_wait_in_order_and_a_cancellation_promotes_the_first(
    client, other_client, session, porto, facilitator
):
    cs = await published_session(session, porto, facilitator, capacity=1)
    first, second = await member_of(session, porto), await member_of(session, porto)
    await log_in(client, first)
    await log_in(other_client, second)
    assert (await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/register")).status_code == 303
    response = await post_form(
        other_client, f"/w/{porto.slug}/sessions/{cs.id}/register", follow_redirects=True
    )
    assert "waiting list" in response.text
    assert "You are number 1 on the waiting list" in response.text

    again = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/register")
    assert again.status_code == 422 and "already registered" in again.text

    await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/cancel")
    registrations = {r.user_id: r.status for r in (await session.exec(select(Registration))).all()}
    assert registrations == {first.id: "cancelled", second.id: "registered"}
    await session.refresh(cs)
    assert cs.registered_count == 1
    told = await count(
        session, Notification, Notification.user_id == second.id, Notification.kind == "session_place_offered"
    )
    assert told == 1
    notifications = await other_client.get("/notifications")
    assert "A place opened up for you" in notifications.text and f"/sessions/{cs.id}" in notifications.text


async def test_raising_the_capacity_gives_places_to_the_waiting_list(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator, capacity=1)
    people = [await member_of(session, porto) for _ in range(3)]
    for person in people:
        await session_service.register(session=session, cs=cs, user=person)
    await log_in(client, facilitator)
    response = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/edit", {**FORM, "capacity": "2"})
    assert response.status_code == 303
    statuses = [
        (await session_service.registration_of(session=session, session_id=cs.id, user=p)).status
        for p in people
    ]
    assert statuses == ["registered", "registered", "waitlisted"]
    lowered = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/edit", {**FORM, "capacity": "1"})
    assert lowered.status_code == 422 and "cannot be lower" in lowered.text


async def test_outsiders_and_banned_members_cannot_register(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator)
    outsider = await make_user(session)
    await log_in(client, outsider)
    assert (await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/register")).status_code == 403
    banned = await member_of(session, porto)
    membership = (await session.exec(select(Membership).where(Membership.user_id == banned.id))).one()
    membership.status = MemberStatus.BANNED
    session.add(membership)
    await session.commit()
    await log_in(client, banned)
    assert (await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/register")).status_code == 403
    assert await count(session, Registration) == 0


async def test_attendance_and_minutes_with_linked_ideas(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator, capacity=None)
    came, stayed_home = await member_of(session, porto), await member_of(session, porto)
    for person in (came, stayed_home):
        await session_service.register(session=session, cs=cs, user=person)
    idea = Idea(workspace_id=porto.id, author_id=came.id, title="Rain garden at the school")
    session.add(idea)
    await session.commit()
    await log_in(client, facilitator)
    response = await post_form(
        client, f"/w/{porto.slug}/sessions/{cs.id}/attendance", {"present": [str(came.id)]}
    )
    assert response.status_code == 303
    attended = {r.user_id: r.attended for r in (await session.exec(select(Registration))).all()}
    assert attended == {came.id: True, stayed_home.id: False}
    response = await post_form(
        client,
        f"/w/{porto.slug}/sessions/{cs.id}/minutes",
        {"minutes": "We walked.", "outcomes": "Pilot **two** gardens.", "idea_ids": [str(idea.id)]},
    )
    assert response.status_code == 303
    page = await client.get(f"/w/{porto.slug}/sessions/{cs.id}")
    assert "Pilot <strong>two</strong> gardens." in page.text and "Rain garden at the school" in page.text
    foreign = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/minutes", {"idea_ids": ["999999"]})
    assert foreign.status_code == 422


async def test_a_session_ics_file_and_the_workspace_feed(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator)
    response = await client.get(f"/w/{porto.slug}/sessions/{cs.id}/session.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Co-design walk along the river" in response.text
    assert f"DTSTART:{cs.starts_at.strftime('%Y%m%dT%H%M%S')}Z" in response.text
    feed = await client.get(f"/w/{porto.slug}/sessions.ics")
    assert feed.text.count("BEGIN:VEVENT") == 1


async def test_a_moderator_of_the_workspace_may_run_sessions(client, session, porto, facilitator):
    official = await member_of(session, porto)
    membership = (await session.exec(select(Membership).where(Membership.user_id == official.id))).one()
    await workspace_service.set_role(
        session=session, workspace=porto, membership=membership, role=MemberRole.MODERATOR, by=facilitator
    )
    await log_in(client, official)
    assert (await schedule(client, porto)).status_code == 303


async def test_a_new_session_starts_in_the_time_zone_of_the_workspace_city(client, porto, facilitator):
    await log_in(client, facilitator)
    page = await client.get(f"/w/{porto.slug}/sessions/new")
    assert '<option value="Europe/Lisbon" selected>' in page.text


async def test_the_online_link_reaches_calendars_only_of_people_with_a_place(
    client, other_client, session, porto, facilitator
):
    cs = await published_session(session, porto, facilitator)
    assert "meet.example.org" not in (await client.get(f"/w/{porto.slug}/sessions/{cs.id}/session.ics")).text
    assert "meet.example.org" not in (await client.get(f"/w/{porto.slug}/sessions.ics")).text
    person = await member_of(session, porto)
    await session_service.register(session=session, cs=cs, user=person)
    await log_in(other_client, person)
    assert (
        "meet.example.org" in (await other_client.get(f"/w/{porto.slug}/sessions/{cs.id}/session.ics")).text
    )


async def test_registrations_of_an_ended_session_cannot_be_cancelled(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator)
    person = await member_of(session, porto)
    await session_service.register(session=session, cs=cs, user=person)
    cs.starts_at, cs.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    session.add(cs)
    await session.commit()
    await log_in(client, person)
    response = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/cancel")
    assert response.status_code == 422 and "has ended" in response.text
    registration = await session_service.registration_of(session=session, session_id=cs.id, user=person)
    assert registration.status == "registered"


async def test_garbage_numbers_in_session_forms_are_refused_never_a_server_error(
    client, session, porto, facilitator
):
    cs = await published_session(session, porto, facilitator)
    await log_in(client, facilitator)
    base = f"/w/{porto.slug}/sessions/{cs.id}"
    assert (await post_form(client, base + "/attendance", {"present": ["²", "9" * 5000]})).status_code == 303
    assert (await post_form(client, base + "/minutes", {"idea_ids": ["²"]})).status_code == 303
    bad_agenda = await schedule(client, porto, agenda_title=["Walk"], agenda_minutes=["9" * 5000])
    assert bad_agenda.status_code == 422
    await session_service.set_status(session=session, cs=cs, status="live", by=facilitator)
    assert (await post_form(client, base + "/live/agenda", {"item_id": "²"})).status_code == 303


async def test_calendar_urls_come_from_the_configured_base_url_never_from_the_host_header(
    database_url, session_factory, session, porto, facilitator
):
    cs = await published_session(session, porto, facilitator)
    settings = make_settings(database_url, base_url="https://cocreate.example.org/")
    async with client_for(create_app(settings, session_factory)) as client:
        forged = {"Host": "evil.example"}
        one = await client.get(f"/w/{porto.slug}/sessions/{cs.id}/session.ics", headers=forged)
        feed = await client.get(f"/w/{porto.slug}/sessions.ics", headers=forged)
    for calendar in (one.text, feed.text):
        assert "evil.example" not in calendar
        assert f"URL:https://cocreate.example.org/w/{porto.slug}/sessions/{cs.id}" in calendar
        assert f"UID:session-{cs.id}@cocreate.example.org" in calendar


def agenda_rows(page: str) -> int:
    """The agenda rows of the form (not the script's template for new ones)."""
    return page.split('<template id="agenda-row-template">')[0].count('name="agenda_title"')


async def test_add_a_row_without_javascript_gives_one_more_agenda_row_and_keeps_what_was_typed(
    client, session, porto, facilitator
):
    await log_in(client, facilitator)
    typed = {
        **FORM,
        "agenda_title": ["Welcome", "Walk", "Map the ideas"],
        "agenda_minutes": ["10", "60", "30"],
        "add_row": "1",
    }
    response = await post_form(client, f"/w/{porto.slug}/sessions/new", typed)
    assert response.status_code == 200
    assert agenda_rows(response.text) == 4
    for value in ("Welcome", "Walk", "Map the ideas", FORM["title"], FORM["place_name"]):
        assert f'value="{value}"' in response.text
    # Nothing is saved until the moderator saves.
    assert await count(session, CocreationSession) == 0
    typed["agenda_title"] = [*typed["agenda_title"], "Wrap up"]
    typed["agenda_minutes"] = [*typed["agenda_minutes"], "5"]
    del typed["add_row"]
    assert (await post_form(client, f"/w/{porto.slug}/sessions/new", typed)).status_code == 303
    agenda = (await session.exec(select(AgendaItem).order_by(AgendaItem.position))).all()
    assert [item.title for item in agenda] == ["Welcome", "Walk", "Map the ideas", "Wrap up"]


async def test_add_a_row_on_the_edit_form_keeps_the_saved_session_unchanged(
    client, session, porto, facilitator
):
    await log_in(client, facilitator)
    await schedule(client, porto)
    cs = (await session.exec(select(CocreationSession))).one()
    changed = {**FORM, "title": "A new title", "add_row": "1"}
    response = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/edit", changed)
    assert response.status_code == 200
    assert 'value="A new title"' in response.text
    assert agenda_rows(response.text) == len(FORM["agenda_title"]) + 1
    await session.refresh(cs)
    assert cs.title == FORM["title"]


async def test_a_closed_session_can_no_longer_be_changed_and_says_so(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator)
    await session_service.set_status(session=session, cs=cs, status="closed", by=facilitator)
    await log_in(client, facilitator)
    changed = {**FORM, "title": "A new title"}
    response = await post_form(client, f"/w/{porto.slug}/sessions/{cs.id}/edit", changed)
    assert response.status_code == 403 and "A closed session can no longer be changed." in response.text
    await session.refresh(cs)
    assert cs.title == FORM["title"]

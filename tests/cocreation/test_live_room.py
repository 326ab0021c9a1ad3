"""The live room without JavaScript (plain forms and a reload), and what its event stream sends to
each reader. The stream itself, in a browser and across server processes, is tested in tests/e2e and
test_live_processes.py."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlmodel import select
from starlette.datastructures import FormData

from app.admin import service as admin_service
from app.cocreation import service as session_service
from app.cocreation.models import AgendaItem, SessionIdea
from app.core import live
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.web import room
from app.workspaces import service as workspace_service
from app.workspaces.deps import WorkspaceContext
from app.workspaces.models import MemberStatus, Visibility
from tests.cocreation.test_routes import FORM, member_of, published_session
from tests.conftest import TEST_SECRET_KEY, client_for, log_in, make_user, post_form
from tests.moderation.test_ideas_and_members import hidden_by_a_moderator
from tests.security.test_rate_limits import limited_app
from tests.voting.test_routes import make_ballot
from tests.workspaces.conftest import make_workspace


async def live_session(session, porto, facilitator):
    cs = await published_session(session, porto, facilitator, capacity=None)
    data = session_service.SessionInput(**{k: v for k, v in FORM.items() if not k.startswith("agenda")})
    data.capacity = ""
    data.agenda = [session_service.AgendaInput("Welcome", "10"), session_service.AgendaInput("Ideas", "30")]
    await session_service.update_session(session=session, cs=cs, data=data, by=facilitator)
    await session_service.set_status(session=session, cs=cs, status="live", by=facilitator)
    return cs


async def test_the_room_works_with_plain_forms_and_a_reload(
    client, other_client, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    _welcome, ideas = (await session.exec(select(AgendaItem).order_by(AgendaItem.position))).all()
    room_url = f"/w/{porto.slug}/sessions/{cs.id}/live"
    await log_in(client, facilitator)
    moved = await post_form(client, room_url + "/agenda", {"item_id": str(ideas.id)})
    assert moved.status_code == 303 and moved.headers["location"] == room_url

    citizen = await member_of(session, porto)
    await log_in(other_client, citizen)
    added = await post_form(other_client, room_url + "/ideas", {"title": "Bioswale by the bus stop"})
    assert added.status_code == 303
    link = (await session.exec(select(SessionIdea))).one()
    assert link.agenda_item_id == ideas.id  # filed under the item the host is on
    await post_form(client, f"{room_url}/ideas/{link.idea_id}/support")

    page = (await other_client.get(room_url)).text
    assert 'class="current" aria-current="step">Ideas' in page
    assert "Bioswale by the bus stop" in page
    assert f'sse-swap="support-{link.idea_id}" hx-swap="innerHTML">1<' in page
    assert (
        f"last_event_id={await live.latest_event_id(session, channel=session_service.channel(cs.id))}" in page
    )

    empty = await post_form(other_client, room_url + "/ideas", {"title": ""})
    assert empty.status_code == 422 and "This field is required." in empty.text


async def test_only_members_take_part_and_only_moderators_move_the_agenda(
    client, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    item = (await session.exec(select(AgendaItem))).first()
    room_url = f"/w/{porto.slug}/sessions/{cs.id}/live"
    outsider = await make_user(session)
    await log_in(client, outsider)
    assert (await client.get(room_url)).status_code == 200  # a public workspace's room can be watched
    assert (await post_form(client, room_url + "/ideas", {"title": "Mine"})).status_code == 403
    assert (await post_form(client, room_url + "/agenda", {"item_id": str(item.id)})).status_code == 403
    member = await member_of(session, porto)
    await log_in(client, member)
    assert (await post_form(client, room_url + "/agenda", {"item_id": str(item.id)})).status_code == 403


def reader_request(app, user):
    """What the stream needs of a request: the app (templates, sessions, settings) and a CSRF token."""
    return SimpleNamespace(app=app, state=SimpleNamespace(csrf_token="t"), user=user, cookies={})


async def test_each_reader_gets_tallies_only_when_they_may_see_them(app, session, porto, facilitator):
    cs = await live_session(session, porto, facilitator)
    ballot = await make_ballot(session, porto, facilitator, cs=cs, results_visibility="after-vote")
    voter, watcher = await member_of(session, porto), await member_of(session, porto)
    options = await voting_storage.options_of(session=session, ballot_id=ballot.id)
    await voting_service.cast_vote(
        session=session,
        ballot=ballot,
        option_ids=[option.id for option in options],
        user=voter,
        member=True,
        form=FormData([("option", str(options[0].id))]),
        secret_key=TEST_SECRET_KEY,
    )
    event = live.ChannelEvent(
        id=10_000, channel="x", kind="tally", data={"ballot_id": ballot.id}, created_at=cs.created_at
    )

    def stream(user):
        context = WorkspaceContext(workspace=porto, membership=None, user=user)
        return room.RoomStream(reader_request(app, user), cs=cs, context=context)

    seen = await stream(voter).message(event)
    hidden = await stream(watcher).message(event)
    assert seen.startswith("id: 10000\nevent: tally-") and "1 ballot counted" in seen
    assert hidden == "id: 10000\nevent: ping\ndata: \n\n"


async def test_a_new_ballot_arrives_whole_for_each_reader_and_shared_renders_carry_no_token(
    app, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    attendee, other = await member_of(session, porto), await member_of(session, porto)
    await session_service.register(session=session, cs=cs, user=attendee)
    ballot = await make_ballot(session, porto, facilitator, cs=cs, eligibility="attendees")

    def stream(user, token):
        membership = SimpleNamespace(status="active", role="member")
        request = SimpleNamespace(app=app, state=SimpleNamespace(csrf_token=token), user=user, cookies={})
        return room.RoomStream(request, cs=cs, context=WorkspaceContext(porto, membership, user))

    event = live.ChannelEvent(
        id=1, channel="x", kind="ballot", data={"ballot_id": ballot.id}, created_at=cs.created_at
    )
    for_attendee = await stream(attendee, "attendee-token").message(event)
    for_other = await stream(other, "other-token").message(event)
    assert "event: ballot" in for_attendee and 'class="card vote-form"' in for_attendee
    assert "attendee-token" in for_attendee
    assert "vote-form" not in for_other and "Only people with a place in the session may vote" in for_other

    idea = await idea_service.create(
        session=session, workspace=porto, author=attendee, data=idea_service.IdeaInput(title="Green roof")
    )
    shared = live.ChannelEvent(
        id=2, channel="x", kind="idea", data={"idea_id": idea.id}, created_at=cs.created_at
    )
    first = await stream(attendee, "attendee-token").message(shared)
    second = await stream(other, "other-token").message(shared)
    assert "Green roof" in first and "attendee-token" not in first + second


async def test_a_reader_leaving_mid_render_never_leaves_the_others_waiting():
    cache = room.RenderCache()
    release = asyncio.Event()

    async def slow_render():
        await release.wait()
        return "<li>idea</li>"

    first = asyncio.ensure_future(cache.get(("idea", 1), slow_render))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(cache.get(("idea", 1), slow_render))
    await asyncio.sleep(0)
    first.cancel()  # the first reader closes their tab while the render is running
    release.set()
    assert await asyncio.wait_for(second, 2) == "<li>idea</li>"
    assert await asyncio.wait_for(cache.get(("idea", 1), slow_render), 2) == "<li>idea</li>"


async def test_a_new_ballot_is_announced_at_the_top_of_the_room_with_a_link_to_it(
    app, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    ballot = await make_ballot(session, porto, facilitator, cs=cs, question="Which <b>roof</b> first?")
    reader = await member_of(session, porto)
    context = WorkspaceContext(workspace=porto, membership=None, user=reader)
    stream = room.RoomStream(reader_request(app, reader), cs=cs, context=context)
    event = live.ChannelEvent(
        id=7, channel="x", kind="ballot", data={"ballot_id": ballot.id}, created_at=cs.created_at
    )

    message = await stream.message(event)

    ballot_part, notice_part = message.split("\n\n")[:2]
    assert "event: ballot\n" in ballot_part and f'id="room-ballot-{ballot.id}"' in ballot_part
    assert notice_part.startswith("id: 7\nevent: ballot-notice\n")
    assert "A ballot has opened: Which &lt;b&gt;roof&lt;/b&gt; first?" in notice_part
    assert f'href="#room-ballot-{ballot.id}"' in notice_part


async def test_the_room_says_it_updates_itself_only_where_it_does(client, session, porto, facilitator):
    cs = await live_session(session, porto, facilitator)
    room_url = f"/w/{porto.slug}/sessions/{cs.id}/live"
    page = (await client.get(room_url)).text
    # Without the script only the reload hint shows; the script unhides the other one instead.
    assert '<p class="muted live-hint" data-live-hint hidden>This page updates automatically.</p>' in page
    assert '<noscript><p class="muted live-hint">Reload the page to see what is new.</p></noscript>' in page
    assert 'aria-live="polite" sse-swap="ballot-notice,closed"' in page
    await session_service.set_status(session=session, cs=cs, status="closed", by=facilitator)
    page = (await client.get(room_url)).text
    assert "updates automatically" not in page and "Reload the page" not in page


async def test_a_hidden_idea_on_the_board_takes_no_support(client, session, porto, facilitator):
    cs = await live_session(session, porto, facilitator)
    room_url = f"/w/{porto.slug}/sessions/{cs.id}/live"
    citizen = await member_of(session, porto)
    await log_in(client, citizen)
    await post_form(client, room_url + "/ideas", {"title": "Bioswale by the bus stop"})
    link = (await session.exec(select(SessionIdea))).one()
    idea = await session.get(Idea, link.idea_id)
    await hidden_by_a_moderator(session, porto, idea)
    answer = await post_form(client, f"{room_url}/ideas/{idea.id}/support")
    assert answer.status_code == 403 and "A hidden idea takes no support." in answer.text
    await session.refresh(idea)
    assert idea.support_count == 0


async def test_the_rooms_quick_ideas_count_against_the_posting_limit(
    database_url, session_factory, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    app = limited_app(database_url, session_factory, "post=2/400/3600")
    room_url = f"/w/{porto.slug}/sessions/{cs.id}/live"
    async with client_for(app) as client:
        await log_in(client, await member_of(session, porto))
        answers = [await post_form(client, room_url + "/ideas", {"title": f"Idea {n}"}) for n in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 429]
    assert "Try again in" in answers[2].text
    assert len((await session.exec(select(Idea))).all()) == 2


async def signed_in_stream(app, client, session, cs, workspace, user) -> room.RoomStream:
    """The stream a signed-in reader opens: with their session cookie, rechecked at once when asked."""
    await log_in(client, user)
    token = client.cookies.get(app.state.settings.session_cookie_name)
    membership = await workspace_service.membership_of(session=session, workspace_id=workspace.id, user=user)
    request = SimpleNamespace(
        app=app,
        state=SimpleNamespace(csrf_token="t"),
        cookies={app.state.settings.session_cookie_name: token},
    )
    context = WorkspaceContext(workspace=workspace, membership=membership, user=user)
    stream = room.RoomStream(request, cs=cs, context=context)
    stream.next_check = 0
    return stream


async def asks_again(stream: room.RoomStream) -> bool:
    stream.next_check = 0
    return await stream.still_allowed()


async def test_an_open_stream_is_closed_after_its_reader_signs_out(app, client, session, porto, facilitator):
    cs = await live_session(session, porto, facilitator)
    stream = await signed_in_stream(app, client, session, cs, porto, await member_of(session, porto))
    assert await asks_again(stream)
    assert (await post_form(client, "/logout")).status_code == 303
    assert not await asks_again(stream)


async def test_an_open_stream_is_closed_when_the_account_is_disabled(
    app, client, session, porto, facilitator, admin
):
    cs = await live_session(session, porto, facilitator)
    reader = await member_of(session, porto)
    stream = await signed_in_stream(app, client, session, cs, porto, reader)
    await admin_service.disable(session=session, target=reader, admin=admin, reason="Spam")
    assert not await asks_again(stream)


async def test_an_open_stream_is_closed_when_the_reader_leaves_a_members_only_workspace(
    app, client, session, network, facilitator
):
    private = await make_workspace(
        session, facilitator, [network["Porto"]], title="Private", visibility=Visibility.MEMBERS
    )
    cs = await live_session(session, private, facilitator)
    reader = await member_of(session, private)
    stream = await signed_in_stream(app, client, session, cs, private, reader)
    assert await asks_again(stream) and stream.can_take_part
    await workspace_service.leave(session=session, workspace=private, user=reader)
    assert not await asks_again(stream)


async def test_an_anonymous_stream_is_closed_when_the_workspace_becomes_members_only(
    app, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    stream = room.RoomStream(
        reader_request(app, None),
        cs=cs,
        context=WorkspaceContext(workspace=porto, membership=None, user=None),
    )
    assert await asks_again(stream)
    porto.visibility = Visibility.MEMBERS
    session.add(porto)
    await session.commit()
    assert not await asks_again(stream)


async def test_a_banned_member_keeps_watching_but_no_longer_takes_part(
    app, client, session, porto, facilitator
):
    cs = await live_session(session, porto, facilitator)
    reader = await member_of(session, porto)
    stream = await signed_in_stream(app, client, session, cs, porto, reader)
    assert stream.can_take_part
    membership = await workspace_service.membership_of(session=session, workspace_id=porto.id, user=reader)
    membership.status = MemberStatus.BANNED
    membership.banned_until = datetime.now(UTC) + timedelta(days=7)
    session.add(membership)
    await session.commit()
    assert await asks_again(stream) and not stream.can_take_part


async def test_between_rechecks_no_query_is_made(app, session, porto, facilitator, query_counter):
    cs = await live_session(session, porto, facilitator)
    stream = room.RoomStream(
        reader_request(app, None),
        cs=cs,
        context=WorkspaceContext(workspace=porto, membership=None, user=None),
    )
    stream.next_check = float("inf")
    before = query_counter.count
    for _ in range(50):
        assert await stream.still_allowed()
    assert query_counter.count == before

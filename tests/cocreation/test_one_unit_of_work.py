"""A request's acts are kept together or not at all: the live room's idea and its place on the board,
a support and its live event, an idea and its files (``app.core.db.UnitOfWork``)."""

import pytest
from sqlmodel import func, select

from app.cocreation import service as session_service
from app.cocreation.models import SessionIdea
from app.core import live
from app.core.live import LiveEvent
from app.ideas.models import Idea, Support
from tests.cocreation.test_live_room import live_session
from tests.cocreation.test_routes import member_of
from tests.conftest import log_in, post_form


async def count(session, model, *where) -> int:
    return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def test_a_live_idea_and_its_place_on_the_board_are_kept_together_or_not_at_all(
    client, session, porto, facilitator, monkeypatch
):
    """Adding an idea in the live room writes the idea, its link to the session and the room's event:
    when the link fails, the idea is not left behind without it."""
    cs = await live_session(session, porto, facilitator)
    citizen = await member_of(session, porto)
    await log_in(client, citizen)
    room = f"/w/{porto.slug}/sessions/{cs.id}/live"
    events_before = await count(session, LiveEvent)

    async def broken_link(**_kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(session_service, "link_idea", broken_link)
    with pytest.raises(ConnectionError):
        await post_form(client, room + "/ideas", {"title": "Rain garden by the school"})
    assert await count(session, Idea, Idea.title == "Rain garden by the school") == 0
    assert await count(session, LiveEvent) == events_before

    monkeypatch.undo()
    added = await post_form(client, room + "/ideas", {"title": "Rain garden by the school"})
    assert added.status_code == 303
    (idea,) = (await session.exec(select(Idea).where(Idea.title == "Rain garden by the school"))).all()
    assert await count(session, SessionIdea, SessionIdea.idea_id == idea.id) == 1
    assert await count(session, LiveEvent) == events_before + 1


async def test_a_live_support_and_its_event_are_kept_together_or_not_at_all(
    client, session, porto, facilitator, monkeypatch
):
    """``live.publish`` promises that an event exists only if its change commits, and the other way
    round: a support whose event cannot be written is not kept."""
    cs = await live_session(session, porto, facilitator)
    citizen = await member_of(session, porto)
    await log_in(client, citizen)
    room = f"/w/{porto.slug}/sessions/{cs.id}/live"
    assert (await post_form(client, room + "/ideas", {"title": "Shade trees"})).status_code == 303
    idea = (await session.exec(select(Idea).where(Idea.title == "Shade trees"))).one()
    events_before = await count(session, LiveEvent)

    async def broken_publish(*_args, **_kwargs):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(live, "publish", broken_publish)
    with pytest.raises(ConnectionError):
        await post_form(client, f"{room}/ideas/{idea.id}/support")
    assert await count(session, Support, Support.idea_id == idea.id) == 0
    monkeypatch.undo()
    assert (await post_form(client, f"{room}/ideas/{idea.id}/support")).status_code == 303
    assert await count(session, Support, Support.idea_id == idea.id) == 1
    assert await count(session, LiveEvent) == events_before + 1


async def test_a_refused_request_keeps_nothing_it_wrote(client, session, porto, facilitator):
    """An answer of 400 or more rolls the request's writes back, even those a service had flushed
    before the refusal; the same request answered below 400 commits them."""
    citizen = await member_of(session, porto)
    await log_in(client, citizen)
    # Too many files: the idea is written, then its files are refused (422, the form again).
    files = [("files", (f"plan{n}.txt", b"a plan", "text/plain")) for n in range(12)]
    refused = await post_form(
        client, f"/w/{porto.slug}/ideas/new", {"title": "Green roofs", "body": "On the school."}, files=files
    )
    assert refused.status_code == 422
    assert await count(session, Idea, Idea.title == "Green roofs") == 0
    posted = await post_form(
        client, f"/w/{porto.slug}/ideas/new", {"title": "Green roofs", "body": "On the school."}
    )
    assert posted.status_code == 303
    assert await count(session, Idea, Idea.title == "Green roofs") == 1

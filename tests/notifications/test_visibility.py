"""A notification is listed, and counted in the header's unread badge, only while its reader may still
see what it is about: the workspace (members-only ones to their members) and the idea (a hidden one to
its author and the moderators). Followers who may no longer see a workspace are not told of it."""

import re

from sqlmodel import select

from app.ideas import service as idea_service
from app.moderation import service as moderation_service
from app.notifications import service as notification_service
from app.notifications.models import Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import Visibility
from tests.comments.test_routes import make_idea, member
from tests.conftest import client_for, log_in, make_user, post_form
from tests.moderation.test_moderation import make_moderator
from tests.workspaces.conftest import make_workspace

UNREAD = re.compile(r'<span class="unread-count" aria-hidden="true">(\d+)</span>')


async def inbox(app, reader) -> tuple[str, int]:
    """The reader's notifications page and the unread count its header shows."""
    async with client_for(app) as client:
        await log_in(client, reader)
        page = await client.get("/notifications")
    assert page.status_code == 200
    found = UNREAD.search(page.text)
    return page.text, int(found.group(1)) if found else 0


async def follow(app, reader, workspace, idea=None):
    async with client_for(app) as client:
        await log_in(client, reader)
        path = f"/w/{workspace.slug}" + (f"/ideas/{idea.id}" if idea else "")
        assert (await post_form(client, f"{path}/follow")).status_code == 303


async def rename(session, workspace, idea, title):
    await idea_service.update_idea(
        session=session, workspace=workspace, idea=idea, data=idea_service.IdeaInput(title=title)
    )


async def stored_for(session, reader) -> list[str]:
    rows = await session.exec(select(Notification.kind).where(Notification.user_id == reader.id))
    return list(rows.all())


async def test_a_follower_who_left_a_members_only_workspace_reads_nothing_new_of_it(
    app, session, facilitator, network
):
    shenzhen = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Shenzhen sponge city",
        visibility=Visibility.MEMBERS,
    )
    leaver = await member(session, shenzhen, name="Lee Leaver")
    stayer = await member(session, shenzhen, name="Sam Stayer")
    for reader in (leaver, stayer):
        await follow(app, reader, shenzhen)
    poster = await member(session, shenzhen, name="Poster")
    old = await make_idea(session, shenzhen, poster, title="Permeable pavements")
    await workspace_service.leave(session=session, workspace=shenzhen, user=leaver)
    await make_idea(session, shenzhen, poster, title="Secret wetland plan")
    await rename(session, shenzhen, old, "Renamed after you left")

    text, unread = await inbox(app, leaver)
    assert "Secret wetland plan" not in text and "Renamed after you left" not in text
    assert "Permeable pavements" not in text
    assert unread == 0
    # Nobody tells a former member of the idea posted after they left.
    assert await stored_for(session, leaver) == ["followed_workspace_idea"]

    text, unread = await inbox(app, stayer)
    assert "Secret wetland plan" in text and "Renamed after you left" in text
    assert unread == 2


async def test_followers_lose_a_workspace_that_became_members_only(app, session, porto, facilitator):
    outsider = await make_user(session, display_name="Olga Outsider")
    inside = await member(session, porto, name="Ines Inside")
    for reader in (outsider, inside):
        await follow(app, reader, porto)
    before = await make_idea(session, porto, facilitator, title="Bee hotel")
    porto.visibility = Visibility.MEMBERS
    session.add(porto)
    await session.commit()
    await make_idea(session, porto, facilitator, title="Members only now")
    await rename(session, porto, before, "Bee hotel, renamed")

    text, unread = await inbox(app, outsider)
    assert "Members only now" not in text and "Bee hotel" not in text
    assert unread == 0
    text, unread = await inbox(app, inside)
    assert "Members only now" in text and "Bee hotel, renamed" in text
    assert unread == 2


async def test_followers_of_a_hidden_idea_do_not_read_its_renames(app, session, porto, facilitator):
    author = await member(session, porto, name="Ana Author")
    follower = await member(session, porto, name="Fay Follower")
    idea = await make_idea(session, porto, author, title="Rain gardens")
    await follow(app, follower, porto, idea)
    moderator = await make_moderator(session, porto)
    await idea_service.change_status(
        session=session, workspace=porto, idea=idea, moderator=moderator, status="shortlisted", note=""
    )
    assert "Rain gardens" in (await inbox(app, follower))[0]
    await moderation_service.hide(
        session=session,
        workspace=porto,
        target=moderation_service.idea_target(idea),
        moderator=moderator,
        reason="Adverts",
    )
    await rename(session, porto, idea, "Buy my watches")

    text, unread = await inbox(app, follower)
    assert "Buy my watches" not in text and "Rain gardens" not in text
    assert unread == 0
    # Its author and the moderators still read what happened to it.
    text, _unread = await inbox(app, author)
    assert "Buy my watches" in text


async def test_the_list_costs_the_same_queries_whatever_it_hides(
    app, session, porto, facilitator, query_counter
):
    reader = await member(session, porto, name="Rita Reader")
    await follow(app, reader, porto)
    await make_idea(session, porto, facilitator, title="Seen")
    async with client_for(app) as client:
        await log_in(client, reader)
        query_counter.count = 0
        assert (await client.get("/notifications")).status_code == 200
        one = query_counter.count
        for n in range(10):
            await make_idea(session, porto, facilitator, title=f"Idea {n}")
        hidden = await make_idea(session, porto, facilitator, title="Soon hidden")
        await moderation_service.hide(
            session=session,
            workspace=porto,
            target=moderation_service.idea_target(hidden),
            moderator=facilitator,
            reason="Spam",
        )
        query_counter.count = 0
        assert (await client.get("/notifications")).status_code == 200
        assert query_counter.count == one


async def test_the_service_counts_what_it_lists(session, porto, facilitator):
    reader = await member(session, porto, name="Rita Reader")
    idea = await make_idea(session, porto, facilitator, title="Counted")
    notification_service.notify(
        session=session,
        user_ids=[reader.id],
        kind="followed_idea_status",
        actor_id=facilitator.id,
        workspace_id=porto.id,
        idea_id=idea.id,
    )
    await session.commit()
    rows, _more = await notification_service.list_for(session=session, user=reader)
    assert len(rows) == 1
    assert await notification_service.unread_count(session=session, user=reader) == 1

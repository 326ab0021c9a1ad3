"""Posting, reading, editing, moving and supporting ideas."""

from sqlmodel import func, select

from app.core.taxonomy import taxonomy
from app.ideas import service as idea_service
from app.ideas.models import Idea, IdeaStatusChange, IdeaTag, Support
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility
from tests.conftest import log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace

GOOD = {
    "title": "建设绿色走廊连接社区",
    "body": (
        "Plant **native trees** along the stream.\n\n"
        "<script>alert('x')</script>\n\n[link](javascript:alert(1))"
    ),
    "tags": ["territorial", "biodiversity"],
    "place_name": "Rio Torto",
    "latitude": "41.1579",
    "longitude": "-8.6291",
}


async def count(session, model, *conditions) -> int:
    return (await session.exec(select(func.count()).select_from(model).where(*conditions))).one()


async def member(session, workspace):
    user = await make_user(session)
    await workspace_service.join(session=session, workspace=workspace, user=user)
    return user


async def test_a_member_posts_an_idea_with_tags_and_a_place(client, session, porto):
    author = await member(session, porto)
    await log_in(client, author)
    response = await post_form(client, f"/w/{porto.slug}/ideas/new", GOOD)
    assert response.status_code == 303
    idea = (await session.exec(select(Idea))).one()
    assert response.headers["location"] == f"/w/{porto.slug}/ideas/{idea.id}"
    page = await client.get(response.headers["location"])
    assert "建设绿色走廊连接社区" in page.text and "<strong>native trees</strong>" in page.text
    assert "<script>alert('x')" not in page.text and 'href="javascript' not in page.text
    assert "&lt;script&gt;alert" in page.text
    assert "Territorial NBS" in page.text and "Biodiversity enhancement" in page.text
    assert "Rio Torto" in page.text and 'data-lat="41.1579"' in page.text
    assert {t.tag for t in (await session.exec(select(IdeaTag))).all()} == {"territorial", "biodiversity"}
    await session.refresh(porto)
    assert porto.idea_count == 1
    listing = await client.get(f"/w/{porto.slug}")
    assert "建设绿色走廊连接社区" in listing.text


async def test_bad_ideas_come_back_with_messages_and_nothing_saved(client, session, porto):
    await log_in(client, await member(session, porto))
    cases = [
        ({"title": ""}, "This field is required."),
        ({"title": "t" * 500}, "Use at most 200 characters"),
        ({"body": "b" * 20_001}, "Use at most 20000 characters"),
        ({"tags": ["not-a-tag"]}, "Choose tags from the list."),
        ({"latitude": "95", "longitude": "0"}, "Latitude is a number from -90 to 90."),
        ({"latitude": "10", "longitude": "abc"}, "Longitude is a number from -180 to 180."),
        ({"topic_id": "999999"}, "Choose a topic of this workspace."),
    ]
    for changes, message in cases:
        response = await post_form(client, f"/w/{porto.slug}/ideas/new", {**GOOD, **changes})
        assert response.status_code == 422, changes
        assert message in response.text, changes
        assert "Rio Torto" in response.text
    assert await count(session, Idea) == 0


async def test_only_members_post_and_outsiders_see_nothing_of_members_only_ideas(
    client, session, facilitator, network, porto
):
    outsider = await make_user(session)
    await log_in(client, outsider)
    assert (await client.get(f"/w/{porto.slug}/ideas/new")).status_code == 403
    assert (await post_form(client, f"/w/{porto.slug}/ideas/new", GOOD)).status_code == 403
    secret = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Secret pilot",
        visibility=Visibility.MEMBERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    idea = await idea_service.create(
        session=session,
        workspace=secret,
        author=facilitator,
        data=idea_service.IdeaInput(title="Hidden idea"),
    )
    assert (await client.get(f"/w/{secret.slug}/ideas/{idea.id}")).status_code == 404
    # The same id through a workspace the reader can see is not found either.
    assert (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).status_code == 404
    assert (await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/support")).status_code == 404


async def test_the_author_edits_and_others_cannot(client, other_client, session, porto):
    author = await member(session, porto)
    idea = await idea_service.create(
        session=session,
        workspace=porto,
        author=author,
        data=idea_service.IdeaInput(title="First", tags=("biodiversity",)),
    )
    await log_in(client, author)
    response = await post_form(
        client,
        f"/w/{porto.slug}/ideas/{idea.id}/edit",
        {"title": "Better title", "body": "_more_", "tags": ["air-quality"]},
    )
    assert response.status_code == 303
    await session.refresh(idea)
    assert (idea.title, idea.body_html.strip()) == ("Better title", "<p><em>more</em></p>")
    assert [t.tag for t in (await session.exec(select(IdeaTag))).all()] == ["air-quality"]
    await log_in(other_client, await member(session, porto))
    assert (await other_client.get(f"/w/{porto.slug}/ideas/{idea.id}/edit")).status_code == 403
    refused = await post_form(other_client, f"/w/{porto.slug}/ideas/{idea.id}/edit", {"title": "Hijack"})
    assert refused.status_code == 403


async def test_moderators_move_ideas_with_a_public_note_and_the_author_is_told(
    client, other_client, session, porto, facilitator
):
    author = await member(session, porto)
    idea = await idea_service.create(
        session=session, workspace=porto, author=author, data=idea_service.IdeaInput(title="Rain garden")
    )
    await log_in(client, author)
    assert (
        await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/status", {"status": "selected"})
    ).status_code == 403
    await log_in(other_client, facilitator)
    response = await post_form(
        other_client,
        f"/w/{porto.slug}/ideas/{idea.id}/status",
        {"status": "shortlisted", "note": "Strong support at the workshop."},
    )
    assert response.status_code == 303
    page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
    assert "Shortlisted" in page.text and "Strong support at the workshop." in page.text
    assert "Proposed → Shortlisted" in page.text
    assert "changed the status of your idea “Rain garden”" in (await client.get("/notifications")).text
    bad = await post_form(other_client, f"/w/{porto.slug}/ideas/{idea.id}/status", {"status": "done"})
    assert bad.status_code == 303
    assert await count(session, IdeaStatusChange) == 1


async def test_support_toggles_in_place_with_htmx_and_without_javascript(client, session, porto):
    idea = await idea_service.create(
        session=session,
        workspace=porto,
        author=await member(session, porto),
        data=idea_service.IdeaInput(title="Green roofs"),
    )
    supporter = await member(session, porto)
    await log_in(client, supporter)
    page = await client.get(f"/w/{porto.slug}/ideas/{idea.id}")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post(
        f"/w/{porto.slug}/ideas/{idea.id}/support",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert (
        "<html" not in response.text
        and "1 support" in response.text
        and 'aria-pressed="true"' in response.text
    )
    plain = await client.post(f"/w/{porto.slug}/ideas/{idea.id}/support", data={"csrf_token": token})
    assert plain.status_code == 303
    await session.refresh(idea)
    assert idea.support_count == 0
    assert await count(session, Support) == 0


async def test_support_counts_stay_right(session, porto):
    idea = await idea_service.create(
        session=session,
        workspace=porto,
        author=await member(session, porto),
        data=idea_service.IdeaInput(title="X"),
    )
    people = [await member(session, porto) for _ in range(3)]
    for person in people:
        assert await idea_service.toggle_support(session=session, idea=idea, user=person) == (
            True,
            len(people[: people.index(person) + 1]),
        )
    assert await idea_service.toggle_support(session=session, idea=idea, user=people[0]) == (False, 2)


async def test_no_support_on_an_archived_workspace(client, session, porto, facilitator):
    supporter = await member(session, porto)
    idea = await idea_service.create(
        session=session, workspace=porto, author=supporter, data=idea_service.IdeaInput(title="X")
    )
    await workspace_service.set_archived(session=session, workspace=porto, archived=True, by=facilitator)
    await log_in(client, supporter)
    assert (await post_form(client, f"/w/{porto.slug}/ideas/{idea.id}/support")).status_code == 403
    assert (await post_form(client, f"/w/{porto.slug}/ideas/new", GOOD)).status_code == 403
    assert (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).status_code == 200


async def test_filters_sorting_and_paging(client, session, porto):
    author = await member(session, porto)
    for n in range(25):
        await idea_service.create(
            session=session,
            workspace=porto,
            author=author,
            data=idea_service.IdeaInput(title=f"Idea {n:02}", tags=("air-quality",) if n % 5 == 0 else ()),
        )
    page = await client.get(f"/w/{porto.slug}")
    assert "Idea 24" in page.text and "Idea 04" not in page.text and "page=2" in page.text
    tagged = await client.get(f"/w/{porto.slug}?tag=air-quality")
    assert tagged.text.count('class="badge badge-tag"') == 5
    fragment = await client.get(f"/w/{porto.slug}?sort=newest&page=2", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Idea 04" in fragment.text
    junk = await client.get(f"/w/{porto.slug}?sort=evil&status=nope&tag=zzz&topic=abc&page=-3")
    assert junk.status_code == 200


async def test_workspace_and_idea_pages_run_a_fixed_number_of_queries(client, session, porto, query_counter):
    author = await member(session, porto)
    reader = await member(session, porto)
    await log_in(client, reader)
    first = await idea_service.create(
        session=session,
        workspace=porto,
        author=author,
        data=idea_service.IdeaInput(title="First", tags=("air-quality",)),
    )

    async def queries(path: str) -> int:
        query_counter.count = 0
        assert (await client.get(path)).status_code == 200
        return query_counter.count

    paths = (f"/w/{porto.slug}", f"/w/{porto.slug}/ideas/{first.id}")
    few = {path: await queries(path) for path in paths}
    for n in range(30):
        idea = await idea_service.create(
            session=session,
            workspace=porto,
            author=await make_user(session),
            data=idea_service.IdeaInput(title=f"More {n}", tags=("biodiversity", "air-quality")),
        )
        await idea_service.toggle_support(session=session, idea=idea, user=reader)
        await idea_service.toggle_support(session=session, idea=first, user=await member(session, porto))
    many = {path: await queries(path) for path in paths}
    assert many == few


async def test_a_card_shows_its_tags_in_the_order_they_were_given(client, session, porto):
    """The listing reads each idea's tags in one aggregate, which keeps no order: the cards still show
    them as the author gave them, and each idea only its own."""
    author = await member(session, porto)
    given = ("water-management", "biodiversity", "air-quality")
    for title, tags in (("Ordered", given), ("Reversed", tuple(reversed(given))), ("Bare", ())):
        await idea_service.create(
            session=session,
            workspace=porto,
            author=author,
            data=idea_service.IdeaInput(title=title, tags=tags),
        )
    page = (await client.get(f"/w/{porto.slug}")).text
    labels = {key: taxonomy().tag(key).label for key in given}

    def card(title: str) -> str:
        return page.split(f">{title}</a>", 1)[1].split("</li>", 1)[0]

    def shown(title: str) -> list[str]:
        text = card(title)
        return sorted((key for key in given if labels[key] in text), key=lambda key: text.index(labels[key]))

    assert shown("Ordered") == list(given)
    assert shown("Reversed") == list(reversed(given))
    assert shown("Bare") == []


async def test_ids_out_of_range_are_refused_not_a_500(client, session, porto, facilitator):
    await log_in(client, facilitator)
    for path in (
        f"/w/{porto.slug}/ideas/99999999999999999999",
        f"/w/{porto.slug}/ideas/-1",
        f"/w/{porto.slug}/comments/99999999999999999999",
        "/topics/seeds/99999999999999999999",
    ):
        response = await client.get(path)
        assert response.status_code == 422, path
    response = await post_form(client, "/notifications/99999999999999999999/read")
    assert response.status_code == 422


async def test_a_new_idea_is_not_marked_edited_until_it_is(client, session, porto):
    author = await member(session, porto)
    idea = await idea_service.create(
        session=session, workspace=porto, author=author, data=idea_service.IdeaInput(title="Fresh")
    )
    assert "edited" not in (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text
    await idea_service.update_idea(
        session=session, workspace=porto, idea=idea, data=idea_service.IdeaInput(title="Fresher")
    )
    assert "edited" in (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text

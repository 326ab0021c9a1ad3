"""Workspaces as people use them: open one, join or ask to join, moderate requests, archive."""

from sqlmodel import func, select

from app.accounts.models import Role
from app.notifications.models import Notification
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Membership, MemberStatus, Visibility, Workspace
from tests.conftest import log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace


async def count(session, model, *conditions) -> int:
    return (await session.exec(select(func.count()).select_from(model).where(*conditions))).one()


async def test_facilitator_opens_a_workspace_for_a_group_of_cities(client, session, facilitator, network):
    await log_in(client, facilitator)
    response = await post_form(
        client,
        "/workspaces/new",
        {
            "title_en": "Guangdong and Porto: rivers",
            "title_zh": "广东与波尔图：河流",
            "summary_en": "Rivers as green corridors.",
            "visibility": "public",
            "join_policy": "open",
            "city_ids": [str(network["Shenzhen"].id), str(network["Porto"].id)],
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/w/guangdong-and-porto-rivers"
    page = await client.get(response.headers["location"])
    assert "Guangdong and Porto: rivers" in page.text and "Porto" in page.text and "Shenzhen" in page.text
    assert "You are a moderator here." in page.text
    assert "Ingrid opened this workspace." in page.text
    chinese = await client.get(response.headers["location"], headers={"Accept-Language": "zh"})
    assert "广东与波尔图：河流" in chinese.text


async def test_workspace_form_rejects_bad_input_and_keeps_it(client, session, facilitator, network):
    await log_in(client, facilitator)
    response = await post_form(
        client,
        "/workspaces/new",
        {
            "title_en": "",
            "title_zh": "",
            "summary_en": "kept text",
            "visibility": "secret",
            "join_policy": "open",
            "city_ids": ["999999"],
        },
    )
    assert response.status_code == 422
    for message in (
        "Give the workspace a title",
        "Choose who can see the workspace",
        "Choose at least one city",
    ):
        assert message in response.text
    assert "kept text" in response.text
    long = await post_form(
        client,
        "/workspaces/new",
        {
            "title_en": "x" * 500,
            "visibility": "public",
            "join_policy": "open",
            "city_ids": [str(network["Porto"].id)],
        },
    )
    assert long.status_code == 422 and "Use at most 200 characters" in long.text
    assert await count(session, Workspace) == 0


async def test_citizens_cannot_open_workspaces(client, session, user):
    await log_in(client, user)
    assert (await client.get("/workspaces/new")).status_code == 403
    response = await post_form(client, "/workspaces/new", {"title_en": "Mine"})
    assert response.status_code == 403


async def test_joining_an_open_workspace(client, session, porto, user):
    await log_in(client, user)
    response = await post_form(client, f"/w/{porto.slug}/join")
    assert response.status_code == 303
    page = await client.get(f"/w/{porto.slug}")
    assert "Welcome! You are now a member." in page.text
    assert "2 members" in page.text and "Test Citizen joined." in page.text
    again = await post_form(client, f"/w/{porto.slug}/join")
    assert "already belong" in (await client.get(again.headers["location"])).text
    await session.refresh(porto)
    assert porto.member_count == 2


async def test_asking_to_join_and_being_approved(client, other_client, session, facilitator, network, user):
    workspace = await make_workspace(
        session, facilitator, [network["Hefei"]], title="Hefei parks", join_policy=JoinPolicy.APPROVAL
    )
    await log_in(client, user)
    await post_form(client, f"/w/{workspace.slug}/join", {"message": "I live by the lake."})
    assert "Your request to join is waiting" in (await client.get(f"/w/{workspace.slug}")).text

    await log_in(other_client, facilitator)
    home = await other_client.get("/")
    assert "1 unread" in home.text
    members = await other_client.get(f"/w/{workspace.slug}/members")
    assert "I live by the lake." in members.text
    membership = (await session.exec(select(Membership).where(Membership.user_id == user.id))).one()
    response = await post_form(
        other_client, f"/w/{workspace.slug}/members/{membership.id}/decide", {"decision": "approve"}
    )
    assert response.status_code == 303
    await session.refresh(membership)
    assert membership.status == MemberStatus.ACTIVE

    notifications = await client.get("/notifications")
    assert "You are now a member of Hefei parks." in notifications.text
    twice = await post_form(
        other_client, f"/w/{workspace.slug}/members/{membership.id}/decide", {"decision": "decline"}
    )
    assert "already decided" in (await other_client.get(twice.headers["location"])).text
    await session.refresh(workspace)
    assert workspace.member_count == 2


async def test_a_declined_request_is_told_and_may_ask_again(
    client, other_client, session, facilitator, network, user
):
    workspace = await make_workspace(
        session, facilitator, [network["Hefei"]], join_policy=JoinPolicy.APPROVAL
    )
    await log_in(client, user)
    await post_form(client, f"/w/{workspace.slug}/join")
    membership = (await session.exec(select(Membership).where(Membership.user_id == user.id))).one()
    await log_in(other_client, facilitator)
    await post_form(
        other_client, f"/w/{workspace.slug}/members/{membership.id}/decide", {"decision": "decline"}
    )
    assert "was declined" in (await client.get("/notifications")).text
    assert "You may ask again" in (await client.get(f"/w/{workspace.slug}")).text
    await post_form(client, f"/w/{workspace.slug}/join")
    await session.refresh(membership)
    assert membership.status == MemberStatus.PENDING


async def test_only_moderators_decide_and_only_in_their_workspace(
    client, session, facilitator, network, user
):
    first = await make_workspace(session, facilitator, [network["Hefei"]], join_policy=JoinPolicy.APPROVAL)
    second = await make_workspace(session, facilitator, [network["Porto"]], title="Second")
    requester = await make_user(session)
    await workspace_service.join(session=session, workspace=first, user=requester)
    membership = (await session.exec(select(Membership).where(Membership.user_id == requester.id))).one()
    await workspace_service.join(session=session, workspace=second, user=user)
    await log_in(client, user)
    response = await post_form(
        client, f"/w/{first.slug}/members/{membership.id}/decide", {"decision": "approve"}
    )
    assert response.status_code == 403
    # A moderator of the second workspace cannot reach a request of the first through it.
    second_membership = (await session.exec(select(Membership).where(Membership.user_id == user.id))).one()
    second_membership.role = "moderator"
    session.add(second_membership)
    await session.commit()
    response = await post_form(
        client, f"/w/{second.slug}/members/{membership.id}/decide", {"decision": "approve"}
    )
    assert response.status_code == 404
    await session.refresh(membership)
    assert membership.status == MemberStatus.PENDING


async def test_members_only_workspaces_show_nothing_to_outsiders(client, session, facilitator, network, user):
    secret = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Shenzhen pilot",
        visibility=Visibility.MEMBERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    for path in (f"/w/{secret.slug}", f"/w/{secret.slug}/members"):
        assert (await client.get(path)).status_code == 404
    assert "Shenzhen pilot" not in (await client.get("/workspaces")).text
    await log_in(client, user)
    assert (await client.get(f"/w/{secret.slug}")).status_code == 404
    assert "Shenzhen pilot" not in (await client.get("/workspaces?q=shenzhen")).text
    assert (await post_form(client, f"/w/{secret.slug}/join")).status_code == 404
    member = await make_user(session)
    await session.exec(select(Membership))
    session.add(Membership(workspace_id=secret.id, user_id=member.id, status=MemberStatus.ACTIVE))
    await session.commit()
    await log_in(client, member)
    assert (await client.get(f"/w/{secret.slug}")).status_code == 200
    assert "Shenzhen pilot" in (await client.get("/workspaces")).text


async def test_an_archived_workspace_is_readable_and_accepts_nothing(
    client, other_client, session, porto, facilitator, user
):
    await log_in(other_client, facilitator)
    response = await post_form(other_client, f"/w/{porto.slug}/archive", {"archived": "1"})
    assert response.status_code == 303
    page = await client.get(f"/w/{porto.slug}")
    assert page.status_code == 200 and "This workspace is archived" in page.text
    await log_in(client, user)
    refused = await post_form(client, f"/w/{porto.slug}/join")
    assert "archived and accepts nothing new" in (await client.get(refused.headers["location"])).text
    assert await count(session, Membership, Membership.user_id == user.id) == 0
    await post_form(other_client, f"/w/{porto.slug}/archive", {"archived": "0"})
    await post_form(client, f"/w/{porto.slug}/join")
    assert await count(session, Membership, Membership.user_id == user.id) == 1


async def test_only_facilitators_archive_edit_and_appoint(client, session, porto, user):
    await workspace_service.join(session=session, workspace=porto, user=user)
    membership = (await session.exec(select(Membership).where(Membership.user_id == user.id))).one()
    membership.role = "moderator"
    session.add(membership)
    await session.commit()
    await log_in(client, user)
    assert (await post_form(client, f"/w/{porto.slug}/archive", {"archived": "1"})).status_code == 403
    assert (await client.get(f"/w/{porto.slug}/edit")).status_code == 403
    response = await post_form(client, f"/w/{porto.slug}/members/{membership.id}/role", {"role": "member"})
    assert response.status_code == 403


async def test_facilitator_makes_a_member_moderator_who_is_told(
    client, other_client, session, porto, facilitator, user
):
    await workspace_service.join(session=session, workspace=porto, user=user)
    membership = (await session.exec(select(Membership).where(Membership.user_id == user.id))).one()
    await log_in(other_client, facilitator)
    await post_form(other_client, f"/w/{porto.slug}/members/{membership.id}/role", {"role": "moderator"})
    await session.refresh(membership)
    assert membership.role == "moderator"
    await log_in(client, user)
    assert "You are now a moderator of Porto green corridors." in (await client.get("/notifications")).text
    bad = await post_form(other_client, f"/w/{porto.slug}/members/{membership.id}/role", {"role": "owner"})
    assert bad.status_code == 303
    await session.refresh(membership)
    assert membership.role == "moderator"


async def test_facilitator_edits_a_workspace(client, session, porto, facilitator, network):
    await log_in(client, facilitator)
    form = await client.get(f"/w/{porto.slug}/edit")
    assert 'value="Porto green corridors"' in form.text
    response = await post_form(
        client,
        f"/w/{porto.slug}/edit",
        {
            "title_en": "Porto rivers",
            "title_zh": "波尔图河流",
            "visibility": "members",
            "join_policy": "approval",
            "city_ids": [str(network["Porto"].id), str(network["Hefei"].id)],
        },
    )
    assert response.status_code == 303
    await session.refresh(porto)
    assert (porto.title_en, porto.visibility, porto.join_policy) == ("Porto rivers", "members", "approval")
    page = await client.get(f"/w/{porto.slug}")
    assert "Hefei" in page.text


async def test_notifications_are_marked_read(client, session, porto, facilitator, user):
    await log_in(client, user)
    other = await make_user(session, role=Role.CITIZEN)
    for kind in ("membership_approved", "membership_declined"):
        session.add(Notification(user_id=user.id, kind=kind, workspace_id=porto.id, actor_id=facilitator.id))
    session.add(Notification(user_id=other.id, kind="membership_approved", workspace_id=porto.id))
    await session.commit()
    assert "2 unread" in (await client.get("/")).text
    theirs = (await session.exec(select(Notification).where(Notification.user_id == other.id))).one()
    await post_form(client, f"/notifications/{theirs.id}/read")
    await session.refresh(theirs)
    assert theirs.read_at is None
    mine = (await session.exec(select(Notification).where(Notification.user_id == user.id))).first()
    await post_form(client, f"/notifications/{mine.id}/read")
    assert "1 unread" in (await client.get("/")).text
    await post_form(client, "/notifications/read-all")
    assert "unread" not in (await client.get("/")).text.split("<main")[0]


async def test_list_and_member_pages_run_a_fixed_number_of_queries(
    client, session, facilitator, network, user, query_counter
):
    await log_in(client, user)
    first = await make_workspace(session, facilitator, [network["Porto"]], title="First")

    async def queries(path: str) -> int:
        query_counter.count = 0
        assert (await client.get(path)).status_code == 200
        return query_counter.count

    few = {
        path: await queries(path) for path in ("/workspaces", f"/w/{first.slug}", f"/w/{first.slug}/members")
    }
    for n in range(30):
        workspace = await make_workspace(
            session, facilitator, [network["Porto"], network["Hefei"]], title=f"W {n}"
        )
        await workspace_service.join(session=session, workspace=workspace, user=user)
        await workspace_service.join(session=session, workspace=first, user=await make_user(session))
    many = {path: await queries(path) for path in few}
    assert many == few


async def test_editing_with_bad_input_keeps_the_form_and_the_workspace(client, session, porto, facilitator):
    await log_in(client, facilitator)
    response = await post_form(
        client,
        f"/w/{porto.slug}/edit",
        {
            "title_en": "",
            "title_zh": "",
            "summary_en": "new words",
            "visibility": "public",
            "join_policy": "open",
            "city_ids": [],
        },
    )
    assert response.status_code == 422
    assert "new words" in response.text and "Choose at least one city" in response.text
    await session.refresh(porto)
    assert porto.title_en == "Porto green corridors"


async def test_the_workspace_search_box_swaps_only_the_results(client, session, porto):
    response = await client.get("/workspaces", params={"q": "porto"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and "Porto green corridors" in response.text


async def test_withdrawing_a_request_takes_back_its_notification(client, session, facilitator, network, user):
    workspace = await make_workspace(
        session, facilitator, [network["Hefei"]], join_policy=JoinPolicy.APPROVAL
    )
    await log_in(client, user)
    await post_form(client, f"/w/{workspace.slug}/join")
    assert await count(session, Notification, Notification.user_id == facilitator.id) == 1
    await post_form(client, f"/w/{workspace.slug}/leave")
    assert await count(session, Notification, Notification.user_id == facilitator.id) == 0
    assert await count(session, Membership, Membership.user_id == user.id) == 0


async def test_a_file_sent_as_the_title_is_refused_on_the_field(client, session, porto, facilitator, network):
    await log_in(client, facilitator)
    response = await post_form(
        client,
        f"/w/{porto.slug}/edit",
        {"visibility": "public", "join_policy": "open", "city_ids": [str(network["Porto"].id)]},
        files={"title_en": ("title.txt", b"Porto rivers", "text/plain")},
    )
    assert response.status_code == 422
    assert "Give the workspace a title, in English or Chinese or both." in response.text
    await session.refresh(porto)
    assert porto.title_en == "Porto green corridors"

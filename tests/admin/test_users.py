"""The list of accounts (search, filters, pages, a fixed number of queries) and one account's page."""

import re
from datetime import timedelta

from app.accounts.models import Role
from app.admin import service as admin_service
from app.audit.models import AuditEvent
from app.core.db import utcnow
from app.network.models import Organisation
from app.workspaces import service as workspace_service
from tests.admin.conftest import add_users
from tests.conftest import client_for, log_in, make_user
from tests.workspaces.conftest import make_workspace

ROW = re.compile(r'<tr id="user-(\d+)">')


def listed_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(user_id) for user_id in ROW.findall(response.text)]


async def test_search_finds_part_of_a_name_or_an_address_whatever_the_case(client, session, admin):
    ana, bo, chen = await add_users(session, 3)
    ana.display_name, ana.email = "Ana Ribeiro", "ana.ribeiro@porto.example"
    bo.display_name, bo.email = "Bo Larsen", "bo@ribeira.example"
    chen.display_name, chen.email = "陈小林", "chen@example.org"
    session.add_all([ana, bo, chen])
    await session.commit()
    await log_in(client, admin)
    assert set(listed_ids(await client.get("/admin/users?q=RIBEI"))) == {ana.id, bo.id}
    assert listed_ids(await client.get("/admin/users?q=%20Larsen%20")) == [bo.id]
    assert listed_ids(await client.get("/admin/users?q=小林")) == [chen.id]
    assert listed_ids(await client.get("/admin/users?q=porto.EXAMPLE")) == [ana.id]
    # LIKE's wildcards are searched for as themselves.
    assert listed_ids(await client.get("/admin/users?q=%25")) == []
    assert listed_ids(await client.get("/admin/users?q=_")) == []
    nothing = await client.get("/admin/users?q=nobody-like-this")
    assert "No account matches." in nothing.text and "0 accounts" in nothing.text


async def test_filters_by_role_and_state_and_ignores_unknown_values(client, session, admin):
    citizens = await add_users(session, 2)
    facilitators = await add_users(session, 2, prefix="facilitator", role=Role.FACILITATOR)
    gone = await add_users(session, 1, prefix="gone", is_active=False, disabled_at=utcnow())
    await log_in(client, admin)
    assert set(listed_ids(await client.get("/admin/users?role=facilitator"))) == {u.id for u in facilitators}
    assert listed_ids(await client.get("/admin/users?state=disabled")) == [gone[0].id]
    active_citizens = set(listed_ids(await client.get("/admin/users?role=citizen&state=active")))
    assert {u.id for u in citizens} <= active_citizens and gone[0].id not in active_citizens
    assert listed_ids(await client.get("/admin/users?role=admin")) == [admin.id]
    everyone = listed_ids(await client.get("/admin/users"))
    assert listed_ids(await client.get("/admin/users?role=king&state=asleep")) == everyone
    page = await client.get("/admin/users?state=disabled")
    assert "Disabled" in page.text and "1 account" in page.text


async def test_pages_go_from_the_newest_account_to_the_oldest(client, session, admin):
    people = await add_users(session, admin_service.PAGE_SIZE + 5, prefix="pager")
    await log_in(client, admin)
    first = await client.get("/admin/users?q=pager")
    first_ids = listed_ids(first)
    assert first_ids == [u.id for u in reversed(people)][: admin_service.PAGE_SIZE]
    older = re.search(r'href="(/admin/users\?q=pager&amp;before=\d+)"', first.text)
    assert older, "no link to the older page"
    second_ids = listed_ids(await client.get(older.group(1).replace("&amp;", "&")))
    assert second_ids == [u.id for u in reversed(people[:5])]
    assert "55 accounts" in first.text
    # A page number that is not one shows the first page.
    assert listed_ids(await client.get("/admin/users?q=pager&before=abc")) == first_ids


async def test_the_list_runs_the_same_number_of_queries_however_many_accounts(
    client, session, admin, query_counter
):
    await log_in(client, admin)
    await add_users(session, 3, prefix="few", last_login_at=utcnow())

    async def queries() -> int:
        query_counter.count = 0
        assert (await client.get("/admin/users")).status_code == 200
        return query_counter.count

    few = await queries()
    await add_users(session, 45, prefix="many", last_login_at=utcnow())
    await add_users(session, 5, prefix="gone", is_active=False, role=Role.FACILITATOR)
    assert await queries() == few


async def test_the_list_shows_role_state_and_last_login_and_escapes_names(client, session, admin):
    (person,) = await add_users(session, 1, prefix="shown", last_login_at=utcnow() - timedelta(days=1))
    person.display_name = "<script>alert(1)</script>"
    session.add(person)
    await session.commit()
    await log_in(client, admin)
    page = await client.get("/admin/users")
    row = page.text.split(f'<tr id="user-{person.id}">')[1].split("</tr>")[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in row and "<script>alert" not in page.text
    assert "shown-0@example.org" in row and "Citizen" in row and "Active" in row
    assert "<time" in row.split('data-label="Last login"')[1]
    admin_row = page.text.split(f'<tr id="user-{admin.id}">')[1].split("</tr>")[0]
    assert "Administrator" in admin_row


async def test_the_account_page_shows_who_they_are_and_where_they_belong(app, client, session, admin, porto):
    organisation = Organisation(name="Câmara Municipal do Porto", kind="city-authority")
    session.add(organisation)
    await session.commit()
    person = await make_user(session, display_name="Rita", email="rita@porto.example")
    person.organisation_id = organisation.id
    session.add(person)
    await session.commit()
    await workspace_service.join(session=session, workspace=porto, user=person)
    for _device in range(2):
        async with client_for(app) as device:
            await log_in(device, person)
    await log_in(client, admin)
    page = await client.get(f"/admin/users/{person.id}")
    assert page.status_code == 200
    text = page.text
    assert "rita@porto.example" in text and "Câmara Municipal do Porto" in text
    assert "2 devices" in text and "Porto green corridors" in text and f'href="/w/{porto.slug}"' in text
    assert "Never" not in text.split("Last login")[1].split("</dd>")[0]
    assert "Change the role" in text and "Disable the account" in text and "Enable the account" not in text

    person.is_active, person.disabled_at, person.disabled_reason = (
        False,
        utcnow(),
        "Sent spam to <b>everyone</b>",
    )
    session.add(person)
    await session.commit()
    page = await client.get(f"/admin/users/{person.id}")
    assert "Disabled on" in page.text and "Sent spam to &lt;b&gt;everyone&lt;/b&gt;" in page.text
    assert "Enable the account" in page.text and "Disable the account" not in page.text


async def test_an_admin_reads_their_own_page_without_forms_to_change_it(client, session, admin):
    await log_in(client, admin)
    page = await client.get(f"/admin/users/{admin.id}")
    assert page.status_code == 200
    assert "This is your own account" in page.text
    assert f'action="/admin/users/{admin.id}/role"' not in page.text
    assert f'action="/admin/users/{admin.id}/disable"' not in page.text


async def test_a_missing_or_impossible_account_id_is_404_or_422(client, session, admin):
    await log_in(client, admin)
    assert (await client.get("/admin/users/999999")).status_code == 404
    assert (await client.get("/admin/users/abc")).status_code == 422
    assert (await client.get("/admin/users/0")).status_code == 422
    assert (await client.get("/admin/users/99999999999999999999")).status_code == 422


async def test_the_account_page_runs_the_same_number_of_queries_however_many_workspaces_and_changes(
    client, session, admin, facilitator, network, query_counter
):
    person = await make_user(session, display_name="Busy")
    await log_in(client, admin)

    async def queries() -> int:
        query_counter.count = 0
        assert (await client.get(f"/admin/users/{person.id}")).status_code == 200
        return query_counter.count

    async def join_and_change(n: int):
        workspace = await make_workspace(session, facilitator, [network["Porto"]], title=f"Workspace {n}")
        await workspace_service.join(session=session, workspace=workspace, user=person)
        role = Role.FACILITATOR if n % 2 else Role.CITIZEN
        await admin_service.change_role(
            session=session, target=person, admin=admin, role=role, reason=f"n{n}"
        )

    await join_and_change(1)
    few = await queries()
    for n in range(2, 7):
        await join_and_change(n)
    page = await client.get(f"/admin/users/{person.id}")
    assert page.text.count("Global role changed") == 6 and "Workspace 6" in page.text
    assert await queries() == few


async def test_the_history_leaves_out_what_was_done_to_an_earlier_account_with_the_same_id(
    client, session, admin, user
):
    # SQLite gives a deleted account's id to the next account; the log still names the old one by it.
    session.add_all(
        AuditEvent(
            created_at=user.created_at + timedelta(seconds=seconds),
            action="account_disable",
            actor_id=admin.id,
            actor_name="Admin",
            target_kind="user",
            target_id=user.id,
            reason=reason,
        )
        for seconds, reason in ((-60, "About the account deleted before"), (1, "About this account"))
    )
    await session.commit()
    await log_in(client, admin)
    page = await client.get(f"/admin/users/{user.id}")
    assert "About this account" in page.text and "About the account deleted before" not in page.text

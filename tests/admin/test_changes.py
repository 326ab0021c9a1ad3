"""Changing an account's global role, disabling it (which logs it out everywhere at once) and enabling it
again: each with a reason, written to the audit log, and refused with a clear message when the rules
say no."""

import pytest
from sqlmodel import col, select

from app.accounts.models import AuthSession, Role, User
from app.admin import service as admin_service
from app.audit import service as audit_service
from app.audit.models import AuditEvent
from tests.conftest import PASSWORD, client_for, log_in, make_user, post_form


async def events(session, user, action: str) -> list[AuditEvent]:
    """The log's events of ``action`` about ``user``, oldest first."""
    found = await audit_service.about(
        session=session, target_kind="user", target_id=user.id, actions=(action,), since=user.created_at
    )
    return found[::-1]


async def test_an_admin_changes_a_role_with_a_reason_and_the_log_keeps_before_and_after(
    app, client, session, admin, user
):
    await log_in(client, admin)
    response = await post_form(
        client, f"/admin/users/{user.id}/role", {"role": "facilitator", "reason": "Joins IKED's team"}
    )
    assert response.status_code == 303 and response.headers["location"] == f"/admin/users/{user.id}"
    page = await client.get(response.headers["location"])
    assert f"{user.display_name} is now: Network facilitator." in page.text
    assert "Global role changed" in page.text and "from Citizen to Network facilitator" in page.text
    await session.refresh(user)
    assert user.role == Role.FACILITATOR
    (event,) = await events(session, user, "role_change")
    assert event.actor_id == admin.id and event.reason == "Joins IKED's team"
    assert event.data == {"before": {"role": "citizen"}, "after": {"role": "facilitator"}}
    # The new role counts from the person's very next request.
    async with client_for(app) as theirs:
        await log_in(theirs, user)
        assert (await theirs.get("/moderation")).status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "king", "reason": "Why not"}, "role", "Choose one of the roles offered."),
        ({"role": "", "reason": "Why not"}, "role", "Choose one of the roles offered."),
        ({"role": "admin", "reason": "   "}, "reason", "This field is required."),
        ({"role": "admin"}, "reason", "This field is required."),
        ({"role": "admin", "reason": "x" * 501}, "reason", "Use at most 500 characters"),
    ],
)
async def test_bad_role_input_comes_back_with_its_message_and_changes_nothing(
    client, session, admin, user, data, field, message
):
    await log_in(client, admin)
    response = await post_form(client, f"/admin/users/{user.id}/role", data)
    assert response.status_code == 422
    assert message in response.text and f'id="role-{field}-error"' in response.text
    if data.get("reason", "").strip():
        assert data["reason"][:50] in response.text  # what was typed is kept
    await session.refresh(user)
    assert user.role == Role.CITIZEN
    assert await events(session, user, "role_change") == []


async def test_an_admin_cannot_change_their_own_role(client, session, admin):
    await log_in(client, admin)
    response = await post_form(client, f"/admin/users/{admin.id}/role", {"role": "citizen", "reason": "Oops"})
    assert response.status_code == 403
    assert "You cannot change your own role. Another admin can." in response.text
    await session.refresh(admin)
    assert admin.role == Role.ADMIN
    assert await events(session, admin, "role_change") == []


async def test_giving_the_role_someone_already_has_changes_nothing(client, session, admin, user):
    await log_in(client, admin)
    response = await post_form(client, f"/admin/users/{user.id}/role", {"role": "citizen", "reason": "Same"})
    assert response.status_code == 409 and "already has this role" in response.text
    assert await events(session, user, "role_change") == []


async def test_another_admin_can_be_demoted_while_one_admin_stays(client, session, admin):
    other = await make_user(session, role=Role.ADMIN, display_name="Other admin")
    await log_in(client, admin)
    response = await post_form(client, f"/admin/users/{other.id}/role", {"role": "citizen", "reason": "Left"})
    assert response.status_code == 303
    await session.refresh(other)
    assert other.role == Role.CITIZEN


async def test_disabling_logs_the_account_out_everywhere_at_once_and_it_cannot_log_in(
    app, client, session, admin, user
):
    async with client_for(app) as phone, client_for(app) as laptop:
        await log_in(phone, user)
        await log_in(laptop, user)
        assert (await phone.get("/profile")).status_code == 200
        await log_in(client, admin)
        response = await post_form(
            client, f"/admin/users/{user.id}/disable", {"reason": "Posted other people's phone numbers"}
        )
        assert response.status_code == 303
        confirmed = await client.get(response.headers["location"])
        assert "The account is disabled and 2 login sessions were ended." in confirmed.text
        # The very next request of each device is logged out.
        for device in (phone, laptop):
            after = await device.get("/profile")
            assert after.status_code == 303 and after.headers["location"].startswith("/login")
        await session.refresh(user)
        assert not user.is_active and user.disabled_at is not None
        assert user.disabled_reason == "Posted other people's phone numbers"
        sessions = (await session.exec(select(AuthSession).where(AuthSession.user_id == user.id))).all()
        assert len(sessions) == 2 and all(s.revoked_at is not None for s in sessions)
        (event,) = await events(session, user, "account_disable")
        assert event.actor_id == admin.id and event.reason == "Posted other people's phone numbers"
        assert event.data["before"] == {"is_active": True} and event.data["after"]["is_active"] is False
        assert event.data["sessions_ended"] == 2

        refused = await post_form(phone, "/login", {"email": user.email, "password": PASSWORD})
        assert refused.status_code == 403 and "This account is disabled." in refused.text
        assert "phone numbers" not in refused.text  # the reason is for staff

        response = await post_form(client, f"/admin/users/{user.id}/enable", {"reason": "Apologised"})
        assert response.status_code == 303
        await session.refresh(user)
        assert user.is_active and user.disabled_at is None and user.disabled_reason == ""
        (enabled,) = await events(session, user, "account_enable")
        assert enabled.data["before"]["disabled_reason"] == "Posted other people's phone numbers"
        assert enabled.data["after"] == {"is_active": True}
        # The old sessions stay ended: enabling the account logs nobody back in.
        assert (await laptop.get("/profile")).status_code == 303
        await log_in(laptop, user)
        assert (await laptop.get("/profile")).status_code == 200


async def test_an_admin_cannot_disable_themselves(client, session, admin):
    await log_in(client, admin)
    response = await post_form(client, f"/admin/users/{admin.id}/disable", {"reason": "Tired"})
    assert response.status_code == 403 and "You cannot disable your own account." in response.text
    await session.refresh(admin)
    assert admin.is_active
    assert (await client.get("/profile")).status_code == 200


async def test_another_admin_can_be_disabled_while_one_admin_stays(app, client, session, admin):
    other = await make_user(session, role=Role.ADMIN, display_name="Other admin")
    async with client_for(app) as theirs:
        await log_in(theirs, other)
        await log_in(client, admin)
        response = await post_form(client, f"/admin/users/{other.id}/disable", {"reason": "Account stolen"})
        assert response.status_code == 303
        # A disabled admin administers nothing any more.
        assert (await theirs.get("/admin/users")).status_code == 303
    admins = await session.exec(select(User.id).where(User.role == Role.ADMIN, col(User.is_active)))
    assert admins.all() == [admin.id]


@pytest.mark.parametrize("reason", ["", " \n ", "x" * (admin_service.REASON_MAX + 1)])
async def test_disabling_needs_a_reason_of_a_sensible_length(client, session, admin, user, reason):
    await log_in(client, admin)
    response = await post_form(client, f"/admin/users/{user.id}/disable", {"reason": reason})
    assert response.status_code == 422 and 'id="disable-reason-error"' in response.text
    await session.refresh(user)
    assert user.is_active
    assert await events(session, user, "account_disable") == []


async def test_disabling_twice_or_enabling_an_active_account_is_refused(client, session, admin, user):
    await log_in(client, admin)
    assert (await post_form(client, f"/admin/users/{user.id}/enable", {"reason": "?"})).status_code == 409
    assert (await post_form(client, f"/admin/users/{user.id}/disable", {"reason": "Spam"})).status_code == 303
    again = await post_form(client, f"/admin/users/{user.id}/disable", {"reason": "Spam again"})
    assert again.status_code == 409 and "This account is already disabled." in again.text
    enable_empty = await post_form(client, f"/admin/users/{user.id}/enable", {"reason": ""})
    assert enable_empty.status_code == 422 and 'id="enable-reason-error"' in enable_empty.text
    assert len(await events(session, user, "account_disable")) == 1
    assert await events(session, user, "account_enable") == []


async def test_forms_for_a_missing_account_are_404_and_bad_ids_422(client, session, admin):
    await log_in(client, admin)
    for name in ("role", "disable", "enable"):
        assert (
            await post_form(client, f"/admin/users/999999/{name}", {"role": "admin", "reason": "x"})
        ).status_code == 404
        assert (await post_form(client, f"/admin/users/abc/{name}", {"reason": "x"})).status_code == 422


async def test_the_forms_need_the_csrf_token(client, session, admin, user):
    await log_in(client, admin)
    response = await client.post(f"/admin/users/{user.id}/disable", data={"reason": "No token"})
    assert response.status_code == 403
    await session.refresh(user)
    assert user.is_active


async def test_the_audit_log_filters_the_new_actions_and_links_to_the_account(client, session, admin, user):
    await log_in(client, admin)
    await post_form(client, f"/admin/users/{user.id}/disable", {"reason": "Spam"})
    await post_form(client, f"/admin/users/{user.id}/enable", {"reason": "Sorted out"})
    page = await client.get("/audit?action=account_disable")
    assert page.status_code == 200
    assert '<option value="account_disable" selected>Account disabled</option>' in page.text
    assert f'href="/admin/users/{user.id}"' in page.text and "Spam" in page.text
    assert "Sorted out" not in page.text
    assert "Sorted out" in (await client.get("/audit?action=account_enable")).text

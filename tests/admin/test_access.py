"""Who reaches the admins' account pages: admins only. Anonymous visitors are sent to log in, everyone
else gets 403, and a refused form changes nothing."""

import pytest

from app.accounts.models import Role
from app.accounts.models import User as UserModel
from app.admin import permissions
from tests.conftest import log_in, make_user, post_form

FORMS = {
    "role": {"role": "admin", "reason": "Promote me"},
    "disable": {"reason": "Go away"},
    "enable": {"reason": "Come back"},
}


def person(role: Role | None, user_id: int = 1, active: bool = True) -> UserModel | None:
    if role is None:
        return None
    return UserModel(
        id=user_id,
        email=f"{user_id}@example.org",
        display_name="X",
        password_hash="-",
        role=role,
        is_active=active,
    )


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(None, False), (Role.CITIZEN, False), (Role.FACILITATOR, False), (Role.ADMIN, True)],
)
def test_only_admins_manage_accounts_and_never_their_own(role, allowed):
    user = person(role)
    other, other_disabled = person(Role.CITIZEN, 2), person(Role.CITIZEN, 3, active=False)
    assert permissions.can_manage_accounts(user) is allowed
    assert permissions.can_change_role(user, other) is allowed
    assert permissions.can_disable(user, other) is allowed
    assert permissions.can_enable(user, other_disabled) is allowed
    assert permissions.can_disable(user, other_disabled) is False
    assert permissions.can_enable(user, other) is False
    if user is not None:
        assert not permissions.can_change_role(user, user)
        assert not permissions.can_disable(user, user)


async def test_anonymous_visitors_are_sent_to_log_in(client, session, user):
    listed = await client.get("/admin/users?q=ana")
    page = await client.get(f"/admin/users/{user.id}")
    assert listed.status_code == page.status_code == 303
    assert listed.headers["location"] == "/login?next=/admin/users%3Fq%3Dana"
    assert page.headers["location"] == f"/login?next=/admin/users/{user.id}"
    for name, data in FORMS.items():
        response = await post_form(client, f"/admin/users/{user.id}/{name}", data)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await session.refresh(user)
    assert user.role == Role.CITIZEN and user.is_active


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.FACILITATOR])
async def test_citizens_and_facilitators_are_refused(client, session, role):
    visitor = await make_user(session, role=role)
    target = await make_user(session, display_name="Target")
    target.is_active = False
    session.add(target)
    await session.commit()
    await log_in(client, visitor)
    assert (await client.get("/admin/users")).status_code == 403
    assert (await client.get(f"/admin/users/{target.id}")).status_code == 403
    # A missing account answers the same, so nothing is learnt about which ids exist.
    assert (await client.get("/admin/users/999999")).status_code == 403
    for name, data in FORMS.items():
        for who in (visitor, target):
            assert (await post_form(client, f"/admin/users/{who.id}/{name}", data)).status_code == 403
    await session.refresh(visitor)
    await session.refresh(target)
    assert visitor.role == role and visitor.is_active
    assert target.role == Role.CITIZEN and not target.is_active
    assert 'href="/admin/users"' not in (await client.get("/")).text


async def test_admins_are_allowed_and_see_the_link(client, session, admin, user):
    await log_in(client, admin)
    home = await client.get("/")
    assert 'href="/admin/users"' in home.text
    assert (await client.get("/admin/users")).status_code == 200
    assert (await client.get(f"/admin/users/{user.id}")).status_code == 200
    response = await post_form(
        client, f"/admin/users/{user.id}/role", {"role": "facilitator", "reason": "IKED"}
    )
    assert response.status_code == 303

"""Who may administer the platform, as a table of role against permission."""

import pytest

from app.accounts.models import Role, User
from app.accounts.permissions import can_administer


@pytest.mark.parametrize(
    ("role", "allowed"), [(None, False), (Role.CITIZEN, False), (Role.FACILITATOR, False), (Role.ADMIN, True)]
)
def test_can_administer(role, allowed):
    user = (
        None if role is None else User(email="x@example.org", display_name="X", password_hash="-", role=role)
    )
    assert can_administer(user) is allowed


async def test_only_admins_see_the_admin_link(client, session, admin):
    from tests.conftest import log_in, make_user

    facilitator = await make_user(session, role=Role.FACILITATOR)
    await log_in(client, facilitator)
    assert 'href="/admin/users"' not in (await client.get("/")).text
    await log_in(client, admin)
    assert 'href="/admin/users"' in (await client.get("/")).text

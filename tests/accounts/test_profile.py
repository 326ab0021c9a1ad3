"""The profile: name, language, time zone, organisation, password change and other sessions."""

from sqlmodel import select

from app.accounts import service as account_service
from app.accounts.models import AuthSession
from app.network import service as network_service
from app.network.models import OrganisationKind
from tests.conftest import PASSWORD, log_in, post_form


async def test_profile_needs_login(client):
    response = await client.get("/profile")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/profile"


async def test_update_profile(client, session, user):
    organisation = await network_service.upsert_organisation(
        session=session, name="IKED", name_zh="IKED", kind=OrganisationKind.FACILITATOR, city=None, website=""
    )
    await session.commit()
    await log_in(client, user)
    response = await post_form(
        client,
        "/profile",
        {
            "display_name": "  Lina  ",
            "locale": "zh",
            "time_zone": "Asia/Shanghai",
            "organisation_id": str(organisation.id),
        },
    )
    assert response.status_code == 303
    await session.refresh(user)
    assert (user.display_name, user.locale, user.time_zone, user.organisation_id) == (
        "Lina",
        "zh",
        "Asia/Shanghai",
        organisation.id,
    )
    page = await client.get("/profile")
    assert "你的资料已保存。" in page.text


async def test_profile_bad_input_is_kept_and_nothing_saved(client, session, user):
    await log_in(client, user)
    response = await post_form(
        client,
        "/profile",
        {"display_name": "x" * 10_000, "locale": "fr", "time_zone": "Mars/Olympus", "organisation_id": "999"},
    )
    assert response.status_code == 422
    for message in ("Use at most 80 characters", "Choose one of the languages", "Choose a time zone"):
        assert message in response.text
    assert "Choose an organisation from the list." in response.text
    assert 'value="Mars/Olympus"' in response.text
    await session.refresh(user)
    assert (user.display_name, user.locale, user.time_zone) == ("Test Citizen", "en", "UTC")


async def test_non_numeric_organisation_is_a_field_error(client, user):
    await log_in(client, user)
    response = await post_form(
        client,
        "/profile",
        {"display_name": "A", "locale": "en", "time_zone": "UTC", "organisation_id": "1 OR 1=1"},
    )
    assert response.status_code == 422 and "Choose an organisation" in response.text


async def test_password_change_ends_the_other_sessions(client, other_client, session, user):
    await log_in(client, user)
    await log_in(other_client, user)
    response = await post_form(
        client,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": "rivers and reeds",
            "confirm_password": "rivers and reeds",
        },
    )
    assert response.status_code == 303
    assert (await client.get("/profile")).status_code == 200
    assert (await other_client.get("/profile")).status_code == 303
    await post_form(client, "/logout")
    wrong = await post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert wrong.status_code == 422
    await log_in(client, user, "rivers and reeds")


async def test_password_change_errors(client, session, user):
    await log_in(client, user)
    before = user.password_hash
    response = await post_form(
        client,
        "/profile/password",
        {"current_password": "nope nope", "new_password": "short", "confirm_password": "short"},
    )
    assert response.status_code == 422
    assert "This is not your current password." in response.text
    assert "Use at least 8 characters." in response.text
    mismatch = await post_form(
        client,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": "rivers and reeds",
            "confirm_password": "rivers and roads",
        },
    )
    assert "The two new passwords are not the same." in mismatch.text
    await session.refresh(user)
    assert user.password_hash == before


async def test_log_out_other_devices(client, other_client, session, user):
    await log_in(client, user)
    await log_in(other_client, user)
    page = await client.get("/profile")
    assert "This device" in page.text and "Log out all other devices" in page.text
    response = await post_form(client, "/profile/sessions/end-others")
    assert response.status_code == 303
    assert (await other_client.get("/profile")).status_code == 303
    live = (
        await session.exec(
            select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at == None)  # noqa: E711
        )
    ).all()
    assert len(live) == 1


async def test_an_htmx_request_without_login_is_sent_to_the_login_page(client):
    response = await client.get("/profile", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login?next=/profile"


def test_devices_are_named_from_their_user_agent():
    from app.accounts.devices import describe_device

    chrome_linux = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
    )
    wechat = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Mobile/15E148 MicroMessenger/8.0.47"
    )
    assert describe_device(chrome_linux) == "Chrome on Linux"
    assert describe_device(wechat) == "WeChat on iOS"
    assert describe_device("") == "Unknown device"


def test_headless_chrome_is_still_chrome():
    from app.accounts.devices import describe_device

    agent = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/156.0 Safari/537.36"
    )
    assert describe_device(agent) == "Chrome on Linux"


async def test_wrong_current_passwords_are_limited_like_logins(client, session, user):
    """Someone with only the session (a phone left unlocked) cannot guess the password on: five wrong
    ones in a quarter of an hour, then a 429 on the profile page, even for the right one; the
    deletion form counts the same guesses."""
    await log_in(client, user)
    change = {"new_password": "rivers and reeds", "confirm_password": "rivers and reeds"}
    for n in range(account_service.RECHECK_LIMIT_PER_ACCOUNT - 1):
        wrong = await post_form(client, "/profile/password", {"current_password": f"guess {n}", **change})
        assert wrong.status_code == 422
    assert (await post_form(client, "/profile/delete", {"password": "one more guess"})).status_code == 422
    refused = await post_form(client, "/profile/password", {"current_password": PASSWORD, **change})
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords. Try again in 15 minutes." in refused.text
    assert 'name="current_password"' in refused.text
    before = user.password_hash
    await session.refresh(user)
    assert user.password_hash == before


async def test_the_right_current_password_clears_the_wrong_ones(client, user):
    await log_in(client, user)
    change = {"new_password": "rivers and reeds", "confirm_password": "rivers and reeds"}
    for n in range(account_service.RECHECK_LIMIT_PER_ACCOUNT - 1):
        await post_form(client, "/profile/password", {"current_password": f"guess {n}", **change})
    mismatch = {"new_password": "rivers and reeds", "confirm_password": "rivers and roads"}
    assert (
        await post_form(client, "/profile/password", {"current_password": PASSWORD, **mismatch})
    ).status_code == 422
    for n in range(account_service.RECHECK_LIMIT_PER_ACCOUNT - 1):
        wrong = await post_form(client, "/profile/password", {"current_password": f"again {n}", **change})
        assert wrong.status_code == 422

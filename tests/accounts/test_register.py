"""Registration: a new account is created and logged in; bad input comes back with messages."""

import pytest
from sqlmodel import func, select

from app.accounts.models import User
from tests.conftest import PASSWORD, make_user, post_form

GOOD = {
    "email": "Maria@Example.org",
    "display_name": "Maria",
    "password": "planting trees together",
}


async def user_count(session) -> int:
    return (await session.exec(select(func.count()).select_from(User))).one()


async def test_register_creates_account_and_logs_in(client, session):
    response = await post_form(client, "/register", GOOD)
    assert response.status_code == 303
    user = (await session.exec(select(User).where(User.email == "maria@example.org"))).one()
    assert user.display_name == "Maria"
    assert user.password_hash.startswith("$argon2id$")
    home = await client.get(response.headers["location"])
    assert "Welcome to cocreate, Maria!" in home.text
    profile = await client.get("/profile")
    assert profile.status_code == 200
    assert "maria@example.org" in profile.text
    assert "Welcome to cocreate" not in profile.text


async def test_register_in_chinese_keeps_language_and_guesses_zone(client, session):
    client.cookies.set("cocreate_lang", "zh")
    await post_form(client, "/register", GOOD)
    user = (await session.exec(select(User).where(User.email == "maria@example.org"))).one()
    assert (user.locale, user.time_zone) == ("zh", "Asia/Shanghai")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your email address."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"password": "short"}, "password", "Use at least 8 characters."),
        ({"password": "password123"}, "password", "too common"),
        ({"password": "x" * 129}, "password", "Use at most 128 characters."),
        ({"display_name": "n" * 10_000}, "display_name", "Use at most 80 characters"),
        ({"display_name": "   "}, "display_name", "This field is required."),
    ],
)
async def test_register_rejects_bad_input_with_form_kept(client, session, changes, field, message):
    before = await user_count(session)
    response = await post_form(client, "/register", {**GOOD, **changes})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="f-{field}-error"' in response.text
    assert 'aria-describedby="' in response.text
    if field != "email":
        assert 'value="Maria@Example.org"' in response.text or 'value="maria@example.org"' in response.text
    assert await user_count(session) == before


async def test_registering_a_taken_address_is_answered_as_a_login_and_never_says_it_is_taken(client, session):
    await make_user(session, email="taken@example.org", display_name="Owner")
    response = await post_form(client, "/register", {**GOOD, "email": "TAKEN@Example.ORG"})
    assert response.status_code == 422
    assert "That email and password do not match an account." in response.text
    assert "already exists" not in response.text
    assert await user_count(session) == 1
    assert (await client.get("/profile")).status_code in (303, 401, 403)


async def test_the_owner_registering_again_with_their_password_is_signed_in(client, session):
    owner = await make_user(session, email="taken@example.org", display_name="Owner")
    response = await post_form(
        client, "/register", {**GOOD, "email": "taken@example.org", "password": PASSWORD}
    )
    assert response.status_code == 303
    profile = await client.get("/profile")
    assert profile.status_code == 200 and "taken@example.org" in profile.text
    assert "Welcome to cocreate" not in (await client.get("/")).text
    assert await user_count(session) == 1
    await session.refresh(owner)
    assert owner.display_name == "Owner"  # the form's name changes nothing


async def test_guessing_through_the_registration_form_counts_against_the_login_limit(client, session):
    await make_user(session, email="taken@example.org")
    for n in range(5):
        wrong = await post_form(
            client, "/register", {**GOOD, "email": "taken@example.org", "password": f"guess {n} of many"}
        )
        assert wrong.status_code == 422
    limited = await post_form(
        client, "/register", {**GOOD, "email": "taken@example.org", "password": PASSWORD}
    )
    assert limited.status_code == 429 and "Too many failed attempts" in limited.text
    login = await post_form(client, "/login", {"email": "taken@example.org", "password": PASSWORD})
    assert login.status_code == 429


async def test_a_taken_address_with_other_mistakes_gets_only_those_mistakes(client, session):
    await make_user(session, email="taken@example.org")
    response = await post_form(
        client, "/register", {**GOOD, "email": "taken@example.org", "display_name": ""}
    )
    assert response.status_code == 422
    assert 'id="f-display_name-error"' in response.text
    assert "already exists" not in response.text and 'id="f-email-error"' not in response.text


async def test_register_without_form_fields_is_422_not_500(client):
    response = await post_form(client, "/register", {})
    assert response.status_code == 422
    assert "Enter your email address." in response.text


async def test_register_page_redirects_a_signed_in_user(client, session, user):
    from tests.conftest import log_in

    await log_in(client, user)
    response = await client.get("/register")
    assert response.status_code == 303

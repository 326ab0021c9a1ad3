"""The privacy page is public, linked from every page, in both languages, and gives the times the
code keeps things for; the profile leads to the download and the deletion."""

from app.core import i18n
from tests.conftest import log_in


async def test_the_privacy_page_is_public_and_linked_in_the_footer(client):
    home = await client.get("/")
    assert '<a href="/privacy">Privacy</a>' in home.text
    page = await client.get("/privacy")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "A session ends after 7 days without use." in text
    assert "It ends 30 days after you logged in at the latest." in text
    assert "The record of an ended session is deleted 1 day later." in text
    assert "Entries are kept 5 years" in text
    assert "cdn.jsdelivr.net" not in text and "tile.openstreetmap.org" in text  # the tests serve htmx locally
    assert "Log in to download your data" in text


async def test_the_privacy_page_in_chinese(client):
    client.cookies.set(i18n.LANGUAGE_COOKIE, "zh")
    page = await client.get("/privacy")
    assert "<h1>隐私</h1>" in page.text and "how long" not in page.text.lower()


async def test_the_profile_offers_the_download_and_the_deletion(client, user):
    await log_in(client, user)
    profile = await client.get("/profile")
    assert 'action="/profile/data" hx-boost="false"' in profile.text
    assert 'href="/profile/delete"' in profile.text

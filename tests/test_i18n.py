"""Two languages: negotiation, the switch, complete catalogs, and dates in the reader's zone."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from babel import dates as babel_dates
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.core import i18n
from app.core.config import BASE_DIR
from tests.conftest import log_in, make_user, post_form

ZH_CATALOG = BASE_DIR / "app/translations/zh_Hans/LC_MESSAGES/messages.po"


def extracted_messages() -> set:
    with (BASE_DIR / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(BASE_DIR), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_ui_string_has_a_chinese_translation():
    with ZH_CATALOG.open("rb") as po:
        catalog = read_po(po, locale="zh_Hans_CN")
    translated = {
        message.id
        for message in catalog
        if message.id
        and "fuzzy" not in message.flags
        and (all(message.string) if isinstance(message.id, tuple) else message.string)
    }
    missing = extracted_messages() - translated
    assert not missing, f"untranslated (run `make messages`, then translate): {sorted(map(str, missing))}"
    problems = [(message.id, errors) for message, errors in catalog.check()]
    assert not problems, problems


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-GB,en;q=0.9,zh;q=0.8", "en"),
        ("fr-FR,zh-TW;q=0.5", "zh"),
        ("zh-Hans", "zh"),
        ("de,fr;q=0.8", "en"),
        ("", "en"),
        ("zh;q=0, en;q=0.1", "en"),
        ("zh;q=abc", "en"),
    ],
)
def test_accept_language(header, expected):
    assert i18n.negotiate(user_language=None, cookie=None, accept_language=header) == expected


async def test_accept_language_chooses_chinese(client):
    response = await client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in response.text
    assert "与你的城市共创基于自然的解决方案" in response.text


async def test_the_cookie_beats_accept_language(client):
    client.cookies.set("cocreate_lang", "en")
    response = await client.get("/", headers={"Accept-Language": "zh-CN"})
    assert "Co-create nature-based solutions with your city" in response.text


async def test_switching_language_sets_the_cookie_and_returns_to_the_page(client):
    response = await post_form(client, "/language", {"language": "zh", "next": "/network"})
    assert response.status_code == 303 and response.headers["location"] == "/network"
    page = await client.get("/network")
    assert "城市网络" in page.text


async def test_switch_ignores_an_unknown_language_and_an_outside_target(client):
    response = await post_form(client, "/language", {"language": "xx", "next": "https://evil.example/"})
    assert response.headers["location"] == "/"
    assert client.cookies.get("cocreate_lang") == "en"


async def test_the_users_setting_beats_the_cookie_and_the_switch_saves_it(client, session):
    user = await make_user(session, locale="zh")
    client.cookies.set("cocreate_lang", "en")
    await log_in(client, user)
    assert "个人资料" in (await client.get("/profile")).text
    await post_form(client, "/language", {"language": "en"})
    await session.refresh(user)
    assert user.locale == "en"
    assert "Your profile" in (await client.get("/profile")).text


def test_dates_follow_the_language_and_time_zone():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    i18n.set_context("en", "Europe/Lisbon")
    assert i18n.format_datetime(moment, "medium") == "1 Mar 2026, 23:30:00"
    i18n.set_context("zh", "Asia/Shanghai")
    assert i18n.format_datetime(moment, "medium") == "2026年3月2日 07:30:00"
    assert i18n.format_date(moment) == "2026年3月2日"
    assert i18n.format_country("PT") == "葡萄牙"
    i18n.set_context("en", "Not/AZone")
    assert i18n.get_time_zone() == "UTC"


async def test_profile_shows_times_in_the_users_zone(client, session):
    user = await make_user(session, time_zone="Asia/Shanghai", locale="zh")
    await log_in(client, user)
    page = await client.get("/profile")
    assert "加入" in page.text and "年" in page.text


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "Europe/Lisbon", "America/New_York"])
def test_dates_read_as_babel_writes_them_at_every_standard_length(language, zone):
    """The date patterns are looked up once per language: the text is still Babel's own, for moments
    over thirty years, across daylight saving changes, in both languages."""
    rng = random.Random(f"{language}{zone}")
    i18n.set_context(language, zone)
    try:
        for format in ("short", "medium", "long", "full"):
            for _ in range(200):
                moment = datetime(1996, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10**9))
                local = i18n.in_zone(moment)
                expected = babel_dates.format_datetime(
                    local, format=format, tzinfo=local.tzinfo, locale=i18n.babel_locale()
                )
                assert i18n.format_datetime(moment, format) == expected
    finally:
        i18n.set_context("en")

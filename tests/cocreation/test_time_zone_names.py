"""Time zones are named in the reader's language: a Chinese reader sees 中国（上海）时间, not
Asia/Shanghai, on a session and where a zone is chosen; the IANA name stays beside it in lists."""

import re

from sqlmodel import update

from app.accounts.models import Role
from app.cocreation.models import CocreationSession
from app.core import i18n
from tests.cocreation.test_routes import published_session
from tests.conftest import log_in, make_user


def test_zone_names_come_from_cldr_in_each_language_and_fall_back_to_the_iana_name():
    i18n.set_context("zh")
    assert i18n.format_time_zone("Asia/Shanghai") == "中国（上海）时间"
    assert i18n.format_time_zone("Europe/Lisbon") == "葡萄牙（里斯本）时间"
    assert i18n.format_time_zone("UTC") == "协调世界时（UTC）"
    # CLDR places this zone in no region: its own name, not "未知地区".
    assert i18n.format_time_zone("Etc/GMT+5") == "Etc/GMT+5"
    assert i18n.time_zone_choice("Asia/Shanghai") == "Asia/Shanghai · 中国（上海）时间"
    i18n.set_context("en")
    assert i18n.format_time_zone("America/Los_Angeles") == "United States (Los Angeles) Time"
    assert i18n.format_time_zone("UTC") == "Coordinated Universal Time (UTC)"


async def test_a_session_reads_its_zone_in_the_readers_language(client, session, porto, facilitator):
    cs = await published_session(session, porto, facilitator)
    await session.exec(
        update(CocreationSession).where(CocreationSession.id == cs.id).values(time_zone="Europe/Lisbon")
    )
    await session.commit()
    await log_in(client, await make_user(session, locale="zh", time_zone="Asia/Shanghai"))
    for page in (f"/w/{porto.slug}/sessions", f"/w/{porto.slug}/sessions/{cs.id}"):
        text = (await client.get(page)).text
        assert "葡萄牙（里斯本）时间" in text and "Europe/Lisbon" not in text, page
    client.cookies.clear()
    await log_in(client, await make_user(session, time_zone="Europe/Lisbon"))
    assert "Portugal (Lisbon) Time" in (await client.get(f"/w/{porto.slug}/sessions/{cs.id}")).text


async def test_zone_lists_show_the_name_beside_the_iana_name(client, session, porto):
    official = await make_user(session, role=Role.FACILITATOR, locale="zh")
    await log_in(client, official)
    form = (await client.get(f"/w/{porto.slug}/sessions/new")).text
    assert '<option value="Asia/Shanghai" >Asia/Shanghai · 中国（上海）时间</option>' in re.sub(
        r"\s+selected", "", form
    )
    profile = (await client.get("/profile")).text
    assert '<option value="Asia/Shanghai" label="Asia/Shanghai · 中国（上海）时间">' in profile

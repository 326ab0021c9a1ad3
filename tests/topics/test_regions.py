"""A facilitator narrows a network to a region typed the way they write it, from suggestions in
their own language."""

import re

import pytest
from sqlmodel import select

from app.accounts.models import Role
from app.topics.models import Topic
from tests.conftest import log_in, make_user, post_form
from tests.topics.test_routes import TOPIC, nscjl_workspaces

ZH = {"Accept-Language": "zh-CN"}


@pytest.mark.parametrize(
    "typed", ["广东", "广东省", "Guangdong Province", " GUANGDONG ", "ｇｕａｎｇｄｏｎｇ"]
)
async def test_a_region_typed_in_chinese_or_any_case_finds_the_provinces_workspaces(
    client, session, facilitator, network, typed
):
    shenzhen, guangzhou, _hefei = await nscjl_workspaces(session, facilitator, network)
    await log_in(client, facilitator)
    response = await post_form(client, "/topics/seed", {**TOPIC, "network": "nscjl", "region": typed})
    assert response.status_code == 303, response.text
    topics = (await session.exec(select(Topic))).all()
    assert {t.workspace_id for t in topics} == {shenzhen.id, guangzhou.id}


async def test_a_region_no_city_of_the_network_is_in_is_refused_on_its_field(
    client, session, facilitator, network
):
    await nscjl_workspaces(session, facilitator, network)
    await log_in(client, facilitator)
    response = await post_form(client, "/topics/seed", {**TOPIC, "network": "nscjl", "region": "Atlantis"})
    assert response.status_code == 422
    assert "No city of this network is in “Atlantis”" in response.text
    assert 'id="f-region-error"' in response.text and 'value="Atlantis"' in response.text
    # The region's own message explains it; the form does not also claim nothing was chosen.
    assert "Choose at least one open workspace" not in response.text
    assert (await session.exec(select(Topic))).all() == []


async def test_a_region_without_a_network_asks_for_the_network(client, session, facilitator, network):
    await nscjl_workspaces(session, facilitator, network)
    await log_in(client, facilitator)
    response = await post_form(client, "/topics/seed", {**TOPIC, "region": "Guangdong"})
    assert response.status_code == 422
    assert "Choose the network whose cities are in this region." in response.text
    assert (await session.exec(select(Topic))).all() == []


def suggestions(html: str) -> list[str]:
    datalist = re.search(r'<datalist id="regions">(.*?)</datalist>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)">', datalist)


async def test_region_suggestions_come_once_each_in_the_readers_language(
    client, session, facilitator, network
):
    await log_in(client, facilitator)
    english = suggestions((await client.get("/topics/seed")).text)
    # Shenyang is in two networks; its province is suggested once.
    assert english.count("Liaoning") == 1 and "Guangdong" in english and "Norte" in english
    client.cookies.clear()
    await log_in(client, await make_user(session, role=Role.FACILITATOR, locale="zh"))
    chinese = suggestions((await client.get("/topics/seed")).text)
    assert chinese.count("辽宁省") == 1 and "广东省" in chinese
    assert "北部大区" in chinese and "托斯卡纳大区" in chinese
    assert "Liaoning" not in chinese and "Norte" not in chinese
    assert len(chinese) == len(english) == len(set(english))
    # And the Chinese suggestion is taken as it is offered.
    response = await post_form(client, "/topics/seed", {**TOPIC, "network": "urbinat", "region": "北部大区"})
    assert (
        response.status_code == 422
    )  # no URBiNAT workspace exists yet in this test, but the region is known
    assert "No city of this network is in" not in response.text


async def test_european_regions_read_in_chinese_on_the_network_page(client, network):
    page = (await client.get("/network", headers=ZH)).text
    assert "北部大区" in page and "卢瓦尔河地区大区" in page
    assert "Pays de la Loire" in (await client.get("/network")).text

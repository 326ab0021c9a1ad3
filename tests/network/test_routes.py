"""The public Network page, the home page and the admin's city import form."""

import json
import re

from sqlmodel import func, select

from app.demo.seed import DEMO_NETWORK_CSV
from app.network import service as network_service
from app.network.models import City
from tests.conftest import log_in, post_form

HEADER = "network,name_en,name_local,country_code,region,role,latitude,longitude\n"


async def load_demo(session):
    rows = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes()).rows
    await network_service.import_cities(session=session, rows=rows)


async def test_network_page_lists_every_city_without_javascript(client, session):
    await load_demo(session)
    response = await client.get("/network")
    assert response.status_code == 200
    for name in ("Porto", "Nantes", "Sofia", "София", "深圳市", "Hefei", "合肥市", "Stockholm"):
        assert name in response.text
    assert "URBiNAT Community of Practice" in response.text and "(NSCJL)" in response.text
    assert response.text.count('class="city-name"') >= 21
    points = json.loads(re.search(r'id="map-points">(.*?)</script>', response.text, re.S).group(1))
    assert len(points) == 20
    shenyang = next(p for p in points if p["name"] == "Shenyang")
    assert sorted(shenyang["networks"]) == ["nscjl", "urbinat"]


async def test_network_page_in_chinese_leads_with_chinese_names(client, session):
    await load_demo(session)
    response = await client.get("/network", headers={"Accept-Language": "zh-CN"})
    assert '<span class="city-name" lang="zh-Hans">深圳市</span>' in response.text
    assert "国家智慧城市联合实验室" in response.text
    assert "中国 · 广东省" in response.text and "Guangdong" not in response.text
    assert "葡萄牙 · 北部大区" in response.text and "Norte" not in response.text


async def test_networks_are_listed_urbinat_first(client, session):
    await load_demo(session)
    text = (await client.get("/network")).text
    assert (
        text.index('id="network-urbinat"')
        < text.index('id="network-nscjl"')
        < text.index('id="network-iked"')
    )


async def test_map_uses_the_configured_tile_server(database_url, session_factory, session):
    from app.main import create_app
    from tests.conftest import client_for, make_settings

    await load_demo(session)
    settings = make_settings(database_url, map_tile_url="https://tiles.example.cn/{z}/{x}/{y}.png")
    async with client_for(create_app(settings, session_factory)) as client:
        response = await client.get("/network")
    assert 'data-tile-url="https://tiles.example.cn/{z}/{x}/{y}.png"' in response.text
    assert "img-src 'self' data: https://tiles.example.cn" in response.headers["Content-Security-Policy"]


async def test_network_page_query_count_does_not_grow_with_cities(client, session, query_counter):
    await load_demo(session)
    query_counter.count = 0
    await client.get("/network")
    few = query_counter.count
    rows = "".join(f"nscjl,City {n},,CN,Region,member,30.{n},110.{n}\n" for n in range(60))
    parsed = network_service.parse_cities_csv((HEADER + rows).encode())
    await network_service.import_cities(session=session, rows=parsed.rows)
    query_counter.count = 0
    response = await client.get("/network")
    assert "City 59" in response.text
    assert query_counter.count == few


async def test_home_page_shows_the_network(client, session):
    await load_demo(session)
    response = await client.get("/")
    assert "Porto" in response.text and "深圳市" in response.text
    assert "20 cities in 3 networks." in response.text


async def test_import_is_for_admins_only(client, session, user):
    response = await client.get("/admin/cities/import")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await log_in(client, user)
    assert (await client.get("/admin/cities/import")).status_code == 403
    response = await post_form(client, "/admin/cities/import", files={"file": ("c.csv", b"x")})
    assert response.status_code == 403


async def test_admin_imports_a_csv(client, session, admin):
    await log_in(client, admin)
    response = await post_form(
        client, "/admin/cities/import", files={"file": ("demo.csv", DEMO_NETWORK_CSV.read_bytes())}
    )
    assert response.status_code == 200
    assert "20 cities added" in response.text
    again = await post_form(
        client, "/admin/cities/import", files={"file": ("demo.csv", DEMO_NETWORK_CSV.read_bytes())}
    )
    assert "21 cities unchanged" in again.text
    assert (await session.exec(select(func.count()).select_from(City))).one() == 20


async def test_a_file_with_a_bad_row_imports_nothing(client, session, admin):
    await log_in(client, admin)
    data = (HEADER + "nscjl,Hefei,合肥市,CN,Anhui,member,31.8,117.2\nnscjl,Bad,,CN,,member,95,0\n").encode()
    response = await post_form(client, "/admin/cities/import", files={"file": ("c.csv", data)})
    assert response.status_code == 422
    assert "Nothing was imported" in response.text
    assert "<td>3</td>" in response.text and "latitude “95”" in response.text
    assert (await session.exec(select(func.count()).select_from(City))).one() == 0


async def test_import_form_errors(client, admin):
    await log_in(client, admin)
    missing = await post_form(client, "/admin/cities/import", files={"file": ("c.csv", b"network,name_en\n")})
    assert missing.status_code == 422 and "Columns missing" in missing.text
    latin = (HEADER + "urbinat,Malmö,,SE,,observer,55.6,13.0\n").encode("latin-1")
    wrong = await post_form(client, "/admin/cities/import", files={"file": ("c.csv", latin)})
    assert wrong.status_code == 422 and "not UTF-8" in wrong.text
    empty = await post_form(client, "/admin/cities/import", data={})
    assert empty.status_code == 422 and "Choose a CSV file" in empty.text

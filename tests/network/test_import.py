"""Reading and importing a cities CSV: rows checked one by one, idempotent, nothing half-saved."""

import pytest
from sqlmodel import func, select

from app.demo.seed import DEMO_NETWORK_CSV
from app.network import service as network_service
from app.network.models import City, NetworkCity
from tests.conftest import TEST_DATABASE_URL

HEADER = "network,name_en,name_local,country_code,region,role,latitude,longitude\n"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


async def counts(session) -> tuple[int, int]:
    cities = (await session.exec(select(func.count()).select_from(City))).one()
    roles = (await session.exec(select(func.count()).select_from(NetworkCity))).one()
    return cities, roles


async def test_demo_csv_imports_every_city_and_role(session):
    parsed = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes())
    assert not parsed.rejected
    report = await network_service.import_cities(session=session, rows=parsed.rows)
    # Shenyang is in two networks: one city, two roles.
    assert (report.cities_created, report.memberships_created) == (20, 21)
    assert await counts(session) == (20, 21)
    shenzhen = await network_service.find_city(session=session, country_code="CN", name_en="Shenzhen")
    assert shenzhen.name_local == "深圳市" and shenzhen.region == "Guangdong"


async def test_importing_again_updates_and_never_duplicates(session):
    rows = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes()).rows
    await network_service.import_cities(session=session, rows=rows)
    again = await network_service.import_cities(session=session, rows=rows)
    assert (again.cities_created, again.cities_updated, again.cities_unchanged) == (0, 0, 21)
    assert await counts(session) == (20, 21)
    changed = network_service.parse_cities_csv(
        csv_bytes("nscjl,shenzhen,深圳,cn,Guangdong,member,22.5,114.1")
    ).rows
    report = await network_service.import_cities(session=session, rows=changed)
    assert (report.cities_created, report.cities_updated) == (0, 1)
    city = await network_service.find_city(session=session, country_code="CN", name_en="shenzhen")
    assert (city.name_local, city.latitude) == ("深圳", 22.5)
    assert await counts(session) == (20, 21)


def test_bad_rows_are_rejected_with_line_numbers_and_reasons():
    parsed = network_service.parse_cities_csv(
        csv_bytes(
            "nscjl,Hefei,合肥市,CN,Anhui,member,31.82,117.22",
            "nscjl,Nowhere,,CN,,member,91,117",
            "mars,Olympus,,XX,,member,1,1",
            "nscjl,,,CHN,,leader,abc,200",
            "nscjl,Inf,,CN,,member,inf,nan",
        )
    )
    assert [row.name_en for row in parsed.rows] == ["Hefei"]
    lines = {row.line: " | ".join(row.reasons) for row in parsed.rejected}
    assert set(lines) == {3, 4, 5, 6}
    assert "latitude “91”" in lines[3]
    assert "unknown network “mars”" in lines[4]
    assert all(word in lines[5] for word in ("name_en is empty", "CHN", "leader", "abc", "200"))
    assert "latitude" in lines[6] and "longitude" in lines[6]


def test_missing_columns_reject_the_whole_file():
    with pytest.raises(network_service.CsvFileError, match="latitude, longitude"):
        network_service.parse_cities_csv(b"network,name_en,name_local,country_code,region,role\n")


def test_wrong_encoding_is_named_with_its_line():
    data = csv_bytes("urbinat,Malmö,Malmö,SE,Skåne,observer,55.6,13.0").decode().encode("latin-1")
    with pytest.raises(network_service.CsvFileError, match=r"not UTF-8 text \(line 2\)"):
        network_service.parse_cities_csv(data)


def test_binary_file_is_refused():
    with pytest.raises(network_service.CsvFileError):
        network_service.parse_cities_csv(b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_byte_order_mark_and_blank_lines_are_fine():
    parsed = network_service.parse_cities_csv(
        b"\xef\xbb\xbf" + csv_bytes("nscjl,Hefei,,CN,Anhui,member,31.82,117.22", "", ",,,,,,,")
    )
    assert not parsed.rejected and parsed.rows[0].name_local == "Hefei"


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="SQLite hands back the ids of new rows one statement at a time",
)
async def test_on_postgresql_an_import_is_a_few_statements_whatever_the_number_of_cities(
    session, query_counter
):
    rows = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes()).rows
    before = query_counter.count
    report = await network_service.import_cities(session=session, rows=rows)
    assert report.cities_created == len({(r.country_code, r.region, r.name_en) for r in rows}) > 10
    # the networks, the cities and the memberships known, then one insert of each kind
    assert query_counter.count - before <= 8, query_counter.statements[before:]

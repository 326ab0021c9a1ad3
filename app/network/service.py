"""The network of cities: known networks, CSV import of cities, listings and organisations."""

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.config import PACKAGE_DATA_DIR
from app.core.db import utcnow
from app.core.forms import parse_coordinate
from app.core.i18n import N_, _
from app.network.models import (
    City,
    Network,
    NetworkCity,
    NetworkRole,
    Organisation,
    OrganisationKind,
)

CSV_COLUMNS = (
    "network",
    "name_en",
    "name_local",
    "country_code",
    "region",
    "role",
    "latitude",
    "longitude",
)
NAME_MAX = 120

# The networks the platform knows; importing a city into any other is refused.
KNOWN_NETWORKS: dict[str, dict[str, str]] = {
    "urbinat": {
        "name_en": "URBiNAT Community of Practice",
        "name_zh": "URBiNAT 实践社区",
        "description_en": "European cities regenerating neighbourhoods with nature-based solutions "
        "designed together with their citizens (EU Horizon 2020, 2018-2024).",
        "description_zh": "欧洲城市与市民共同设计基于自然的解决方案，更新社区（欧盟“地平线 2020”项目，"
        "2018—2024 年）。",
    },
    "nscjl": {
        "name_en": "National Smart City Joint Lab (NSCJL)",
        "name_zh": "国家智慧城市联合实验室（NSCJL）",
        "description_en": "More than 300 Chinese smart cities and towns in over 30 provinces that try "
        "new solutions together.",
        "description_zh": "覆盖 30 多个省份、300 多个智慧城市与城镇，共同试点新的解决方案。",
    },
    "iked": {
        "name_en": "IKED facilitation",
        "name_zh": "IKED 协调组",
        "description_en": "IKED, a Swedish think tank, links the URBiNAT community with the NSCJL "
        "network and carries what works from one city to another.",
        "description_zh": "瑞典智库 IKED 连接 URBiNAT 社区与 NSCJL 网络，把行之有效的做法从一个城市"
        "带到另一个城市。",
    },
}

ROLE_LABELS = {
    NetworkRole.FRONT_RUNNER: N_("Front-runner"),
    NetworkRole.FOLLOWER: N_("Follower"),
    NetworkRole.OBSERVER: N_("Observer"),
    NetworkRole.MEMBER: N_("Member"),
    NetworkRole.FACILITATOR: N_("Facilitator"),
}
ROLE_ORDER = list(ROLE_LABELS)

ORGANISATION_KIND_LABELS = {
    OrganisationKind.CITY_AUTHORITY: N_("City authority"),
    OrganisationKind.ENTERPRISE: N_("Enterprise"),
    OrganisationKind.UNIVERSITY: N_("University"),
    OrganisationKind.RESEARCH_CENTRE: N_("Research centre"),
    OrganisationKind.NGO: N_("NGO"),
    OrganisationKind.FACILITATOR: N_("Facilitator"),
}


@cache
def chinese_province_names() -> dict[str, str]:
    """Chinese provinces' names in Chinese by their English (pinyin) names, from the bundled list."""
    with (PACKAGE_DATA_DIR / "china_prefecture_cities.csv").open(encoding="utf-8", newline="") as file:
        return {row["province_en"]: row["province_zh"] for row in csv.DictReader(file)}


@cache
def region_names_zh() -> dict[tuple[str, str], str]:
    """Regions' names in Chinese by country code and the name the city list stores: China's provinces,
    and the regions of the network's other cities (app/data/region_names.csv)."""
    names = {("CN", english): chinese for english, chinese in chinese_province_names().items()}
    with (PACKAGE_DATA_DIR / "region_names.csv").open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            names[(row["country_code"], row["region"])] = row["name_zh"]
    return names


def region_name(city: City, language: str) -> str:
    """The city's region for a reader: in Chinese characters for Chinese readers, where it is known."""
    return region_label(city.country_code, city.region, language)


def region_label(country_code: str, region: str, language: str) -> str:
    if language == "zh":
        return region_names_zh().get((country_code, region), region)
    return region


# What Chinese readers leave off a province's name: 广东 for 广东省, 广西 for 广西壮族自治区.
CHINESE_REGION_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市")


def _without_suffix(name_zh: str) -> str:
    for suffix in CHINESE_REGION_SUFFIXES:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix) + 1:
            return name_zh.removesuffix(suffix)
    return name_zh


@cache
def _region_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for (_country, stored), chinese in region_names_zh().items():
        for alias in (stored, chinese, _without_suffix(chinese)):
            aliases.setdefault(alias.casefold(), stored)
    return aliases


def region_from_input(typed: str) -> str:
    """The region as the city list stores it, for what someone typed: its English name in any case,
    its Chinese name with or without 省, 市 or 自治区, or "Guangdong Province". Anything else is kept
    as typed (the list may hold regions this lookup does not know)."""
    text = " ".join(unicodedata.normalize("NFKC", typed).split())
    folded = text.casefold()
    for key in (folded, folded.removesuffix(" province")):
        if key in _region_aliases():
            return _region_aliases()[key]
    return text


@dataclass(frozen=True)
class CityRow:
    line: int
    network: str
    name_en: str
    name_local: str
    country_code: str
    region: str
    role: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reasons: tuple[str, ...]


@dataclass
class ParsedCsv:
    rows: list[CityRow] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class CsvFileError(ValueError):
    """The file as a whole cannot be read: wrong encoding, not CSV, or columns missing."""


@dataclass
class ImportReport:
    cities_created: int = 0
    cities_updated: int = 0
    cities_unchanged: int = 0
    memberships_created: int = 0
    memberships_updated: int = 0
    networks_created: int = 0


def parse_cities_csv(data: bytes) -> ParsedCsv:
    """Checks every row of a cities CSV. Raises CsvFileError when the file as a whole is unusable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CsvFileError(
            _(
                "The file is not UTF-8 text (line %(line)s). Save it as CSV UTF-8 and try again.",
                line=line,
            )
        ) from None
    if "\x00" in text:
        raise CsvFileError(_("The file is not a CSV text file."))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise CsvFileError(
            _(
                "Columns missing from the first line: %(columns)s. Expected: %(expected)s.",
                columns=", ".join(missing),
                expected=",".join(CSV_COLUMNS),
            )
        )
    reader.fieldnames = header
    parsed = ParsedCsv()
    try:
        for record in reader:
            line = reader.line_num
            values = {key: (record.get(key) or "").strip() for key in CSV_COLUMNS}
            if not any(values.values()):
                continue
            reasons = _row_problems(values, extra=record.get(None))
            if reasons:
                parsed.rejected.append(RejectedRow(line=line, reasons=tuple(reasons)))
                continue
            parsed.rows.append(
                CityRow(
                    line=line,
                    network=values["network"].lower(),
                    name_en=values["name_en"],
                    name_local=values["name_local"] or values["name_en"],
                    country_code=values["country_code"].upper(),
                    region=values["region"],
                    role=values["role"].lower(),
                    latitude=float(values["latitude"]),
                    longitude=float(values["longitude"]),
                )
            )
    except csv.Error as error:
        raise CsvFileError(
            _(
                "The file is not valid CSV near line %(line)s: %(error)s",
                line=reader.line_num,
                error=str(error),
            )
        ) from None
    return parsed


def _row_problems(values: dict[str, str], extra) -> list[str]:
    reasons = []
    if extra:
        reasons.append(_("more values than columns"))
    if values["network"].lower() not in KNOWN_NETWORKS:
        reasons.append(
            _(
                "unknown network “%(network)s” (known: %(known)s)",
                network=values["network"],
                known=", ".join(KNOWN_NETWORKS),
            )
        )
    if not values["name_en"]:
        reasons.append(_("name_en is empty"))
    for key in ("name_en", "name_local", "region"):
        if len(values[key]) > NAME_MAX:
            reasons.append(_("%(column)s is longer than %(max)s characters", column=key, max=NAME_MAX))
    code = values["country_code"]
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        reasons.append(_("country_code “%(value)s” is not a two-letter ISO code", value=code))
    if values["role"].lower() not in ROLE_LABELS:
        reasons.append(
            _(
                "role “%(value)s” is not one of %(roles)s",
                value=values["role"],
                roles=", ".join(ROLE_LABELS),
            )
        )
    if parse_coordinate(values["latitude"], -90, 90) is None:
        reasons.append(_("latitude “%(value)s” is not a number from -90 to 90", value=values["latitude"]))
    if parse_coordinate(values["longitude"], -180, 180) is None:
        reasons.append(_("longitude “%(value)s” is not a number from -180 to 180", value=values["longitude"]))
    return reasons


async def ensure_networks(*, session: AsyncSession, keys: Iterable[str]) -> tuple[dict[str, Network], int]:
    """The networks by key, creating any known network not yet in the database."""
    wanted = set(keys)
    existing = {n.key: n for n in (await session.exec(select(Network).where(col(Network.key).in_(wanted))))}
    created = 0
    for key in sorted(wanted - existing.keys()):
        network = Network(key=key, **KNOWN_NETWORKS[key])
        session.add(network)
        existing[key] = network
        created += 1
    if created:
        await session.flush()
    return existing, created


async def import_cities(
    *,
    session: AsyncSession,
    rows: list[CityRow],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Creates or updates the cities and their network roles, in one transaction. Importing the same
    rows again changes nothing: a city is known by its country, region and English name."""
    report = ImportReport()
    networks, report.networks_created = await ensure_networks(
        session=session, keys={row.network for row in rows}
    )
    cities = {
        city_key(c.country_code, c.region, c.name_en): c for c in (await session.exec(select(City))).all()
    }
    memberships = {(m.network_id, m.city_id): m for m in (await session.exec(select(NetworkCity))).all()}
    now = utcnow()
    for row in rows:
        key = city_key(row.country_code, row.region, row.name_en)
        city = cities.get(key)
        values = {
            "name_en": row.name_en,
            "name_local": row.name_local,
            "country_code": row.country_code,
            "region": row.region,
            "latitude": row.latitude,
            "longitude": row.longitude,
        }
        if city is None:
            city = City(**values, created_at=now, updated_at=now)
            session.add(city)
            cities[key] = city
            report.cities_created += 1
        elif any(getattr(city, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(city, name, value)
            city.updated_at = now
            session.add(city)
            report.cities_updated += 1
        else:
            report.cities_unchanged += 1
    await session.flush()  # the new cities in one statement, and their ids
    for done, row in enumerate(rows, start=1):
        city = cities[city_key(row.country_code, row.region, row.name_en)]
        network = networks[row.network]
        membership = memberships.get((network.id, city.id))
        if membership is None:
            membership = NetworkCity(network_id=network.id, city_id=city.id, role=row.role)
            session.add(membership)
            memberships[(network.id, city.id)] = membership
            report.memberships_created += 1
        elif membership.role != row.role:
            membership.role = row.role
            session.add(membership)
            report.memberships_updated += 1
        if progress:
            progress(done)
    await session.flush()
    return report


def city_key(country_code: str, region: str, name_en: str) -> tuple[str, str, str]:
    return country_code.upper(), region.casefold(), name_en.casefold()


@dataclass
class NetworkListing:
    network: Network
    members: list[tuple[City, str]]


async def list_networks(*, session: AsyncSession) -> list[NetworkListing]:
    """Every network with its cities and their roles: two queries, whatever the size."""
    order = {key: position for position, key in enumerate(KNOWN_NETWORKS)}
    networks = sorted(
        (await session.exec(select(Network))).all(), key=lambda n: (order.get(n.key, len(order)), n.id)
    )
    listings = {n.id: NetworkListing(network=n, members=[]) for n in networks}
    rows = await session.exec(
        select(NetworkCity.network_id, NetworkCity.role, City)
        .join(City, col(City.id) == NetworkCity.city_id)
        .order_by(City.country_code, City.name_en)
    )
    for network_id, role, city in rows:
        listings[network_id].members.append((city, role))
    for listing in listings.values():
        listing.members.sort(key=lambda m: ROLE_ORDER.index(m[1]) if m[1] in ROLE_ORDER else len(ROLE_ORDER))
    return list(listings.values())


async def count_cities(*, session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(City))).one()


async def get_organisation(*, session: AsyncSession, organisation_id: int | None) -> Organisation | None:
    return await session.get(Organisation, organisation_id) if organisation_id else None


async def list_organisations(*, session: AsyncSession) -> list[Organisation]:
    return list((await session.exec(select(Organisation).order_by(Organisation.name))).all())


async def upsert_organisation(
    *, session: AsyncSession, name: str, name_zh: str, kind: str, city: City | None, website: str
) -> Organisation:
    organisation = (
        await session.exec(select(Organisation).where(Organisation.name == name))
    ).first() or Organisation(name=name, kind=kind)
    organisation.name_zh = name_zh
    organisation.kind = kind
    organisation.city_id = city.id if city else None
    organisation.website = website
    session.add(organisation)
    await session.flush()
    return organisation


async def find_city(
    *, session: AsyncSession, country_code: str, name_en: str, region: str | None = None
) -> City | None:
    statement = select(City).where(City.country_code == country_code, City.name_en == name_en)
    if region is not None:
        statement = statement.where(City.region == region)
    return (await session.exec(statement.order_by(City.id))).first()

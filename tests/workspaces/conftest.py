"""Factories for workspace tests: the demo network, facilitators and workspaces."""

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.accounts.models import Role
from app.core.db import utcnow
from app.demo.seed import DEMO_NETWORK_CSV
from app.network import service as network_service
from app.network.models import City, NetworkCity
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility
from tests.conftest import make_user

DEMO_ROWS = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes()).rows


@pytest.fixture
async def network(session):
    """The demo network's cities and their roles, written as the import writes them but in a few bulk
    statements (the import itself is tested in tests/network): Porto, Shenzhen and Hefei by name."""
    networks, _created = await network_service.ensure_networks(
        session=session, keys={row.network for row in DEMO_ROWS}
    )
    now = utcnow()
    cities = {network_service.city_key(r.country_code, r.region, r.name_en): r for r in DEMO_ROWS}
    await session.exec(
        sa.insert(City),
        params=[
            {
                "name_en": r.name_en,
                "name_local": r.name_local,
                "country_code": r.country_code,
                "region": r.region,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "created_at": now,
                "updated_at": now,
            }
            for r in cities.values()
        ],
    )
    ids = {
        network_service.city_key(c.country_code, c.region, c.name_en): c.id
        for c in (await session.exec(select(City))).all()
    }
    roles = {
        (networks[r.network].id, ids[network_service.city_key(r.country_code, r.region, r.name_en)]): r.role
        for r in DEMO_ROWS
    }
    await session.exec(
        sa.insert(NetworkCity),
        params=[{"network_id": n, "city_id": c, "role": role} for (n, c), role in roles.items()],
    )
    return {
        name: await network_service.find_city(session=session, country_code=code, name_en=name)
        for code, name in (("PT", "Porto"), ("CN", "Shenzhen"), ("CN", "Hefei"))
    }


@pytest.fixture
async def facilitator(session):
    return await make_user(session, role=Role.FACILITATOR, display_name="Ingrid")


async def make_workspace(
    session,
    creator,
    cities,
    *,
    title="Porto green corridors",
    title_zh="",
    visibility=Visibility.PUBLIC,
    join_policy=JoinPolicy.OPEN,
):
    return await workspace_service.create(
        session=session,
        creator=creator,
        data=workspace_service.WorkspaceInput(
            title_en=title,
            title_zh=title_zh,
            summary_en="Green corridors linking the neighbourhoods.",
            visibility=visibility,
            join_policy=join_policy,
            city_ids=tuple(str(c.id) for c in cities),
        ),
    )


@pytest.fixture
async def porto(session, facilitator, network):
    return await make_workspace(session, facilitator, [network["Porto"]])

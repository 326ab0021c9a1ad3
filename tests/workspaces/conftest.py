"""Factories for workspace tests: the demo network, facilitators and workspaces."""

import pytest

from app.accounts.models import Role
from app.demo.seed import DEMO_NETWORK_CSV
from app.network import service as network_service
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility
from tests.conftest import make_user


@pytest.fixture
async def network(session):
    rows = network_service.parse_cities_csv(DEMO_NETWORK_CSV.read_bytes()).rows
    await network_service.import_cities(session=session, rows=rows)
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

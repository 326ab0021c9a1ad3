"""The security suite runs inside the demo network's workspaces; its table-driven tests share one
world per module (tests/security/world.py), each test inside a savepoint of it."""

import pytest

from tests.security.world import built_world
from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
async def world(engine, tmp_path_factory):
    async with built_world(engine, tmp_path_factory.mktemp("uploads")) as world:
        yield world


@pytest.fixture(scope="module")
async def baseline(world) -> dict:
    """Every row of the world as it was built, to compare with after a refused request."""
    return await world.fingerprint()

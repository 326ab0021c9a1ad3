"""Network tests that need a workspace use the demo network's."""

from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)

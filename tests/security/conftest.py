"""The security suite runs inside the demo network's workspaces."""

from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)

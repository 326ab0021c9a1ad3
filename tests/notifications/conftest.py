from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)

"""Attachments are tested on ideas in the demo network's workspaces, with an app whose data
directory (where uploads are stored) is a fresh temporary one."""

import pytest

from tests.conftest import make_settings
from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)


@pytest.fixture
def settings(database_url, tmp_path):
    return make_settings(database_url, data_dir=tmp_path)

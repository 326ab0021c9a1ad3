"""The domains' parts of a person's data (``app.core.personal_data``): registered once each, asked in
a fixed order when an account is deleted, and giving the export's sections in its order."""

import io
import json
import zipfile

import pytest

from app.core import personal_data
from app.privacy import service as privacy_service
from tests.conftest import log_in, post_form


def test_every_domain_with_personal_data_registers_its_part():
    assert {part.name for part in personal_data.parts()} == {
        "accounts",
        "attachments",
        "audit",
        "cocreation",
        "comments",
        "ideas",
        "moderation",
        "notifications",
        "topics",
        "voting",
        "workspaces",
    }


def test_a_second_part_under_a_taken_name_is_refused():
    ideas = next(part for part in personal_data.parts() if part.name == "ideas")
    assert personal_data.register(ideas) is ideas  # the same part again: harmless
    with pytest.raises(ValueError, match="ideas"):
        personal_data.register(personal_data.PersonalData(name="ideas", references={}))
    assert next(part for part in personal_data.parts() if part.name == "ideas") is ideas


def test_parts_forget_in_the_order_the_rows_depend_on():
    """Places are given up first; the moderation cases go while the memberships, ideas and comments
    they are about are still there; the files' keys are taken before their ideas go, the ideas before
    the comments; the papers last."""
    assert [part.name for part in personal_data.forgetting()] == [
        "cocreation",
        "moderation",
        "workspaces",
        "notifications",
        "attachments",
        "ideas",
        "comments",
        "accounts",
        "voting",
    ]
    orders = [part.order for part in personal_data.forgetting()]
    assert len(set(orders)) == len(orders)


async def test_the_export_gives_the_sections_in_their_order(client, session, user):
    await log_in(client, user)
    response = await post_form(client, "/profile/data")
    assert response.status_code == 200
    data = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("data.json"))
    assert list(data) == ["format", "about", "profile", *privacy_service.SECTIONS]

"""Privacy in a real browser: the download is a real file (the boosted page does not swallow it), and
deleting the account logs out, says so on the home page, and the account no longer logs in."""

import json
import zipfile

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.e2e.test_workspaces import PASSWORD, header, register, unique_email, unique_name

pytestmark = pytest.mark.e2e


def test_a_citizen_downloads_their_data_then_deletes_their_account(new_context, tmp_path):
    page = new_context(accept_downloads=True).new_page()
    email, name = unique_email(), unique_name("Dora Download")
    register(page, email=email, display_name=name)
    header(page).get_by_role("link", name=name).click()

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value
    assert download.suggested_filename.startswith("cocreate-data-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("data.json"))["profile"]["email"] == email

    page.get_by_role("link", name="Delete my account").click()
    page.get_by_label("Your password").fill("not the password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("This is not your password.")).to_be_visible()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account is deleted.")
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()

    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()

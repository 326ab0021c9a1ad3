"""A newcomer's journey through the real app in a real browser: register, log out and in, switch to
Chinese, explore the network, and the pages' behaviour on a phone."""

import re
import uuid

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

pytestmark = pytest.mark.e2e

PASSWORD = "a walk in the park"


def unique_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}@example.org"


def header(page):
    return page.get_by_role("banner")


def main_nav(page):
    return header(page).get_by_role("navigation")


def register(page, *, email: str, display_name: str, password: str) -> None:
    page.goto("/")
    header(page).get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()


def test_newcomer_registers_logs_in_switches_to_chinese_and_explores_the_network(page):
    email = unique_email()
    register(page, email=email, display_name="Lin Mei", password=PASSWORD)
    expect(page.get_by_role("status")).to_contain_text("Welcome to cocreate, Lin Mei!")
    expect(header(page).get_by_role("link", name="Lin Mei")).to_be_visible()

    header(page).get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()

    header(page).get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged in.")
    expect(header(page).get_by_role("link", name="Lin Mei")).to_be_visible()

    header(page).get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(header(page).get_by_role("button", name="中文")).to_have_attribute("aria-pressed", "true")
    network_link = main_nav(page).get_by_role("link", name="城市网络", exact=True)
    expect(network_link).to_be_visible()

    network_link.click()
    expect(page).to_have_url(re.compile(r"/network$"))
    main = page.get_by_role("main")
    expect(main.get_by_text("深圳市").first).to_be_visible()
    expect(main.get_by_text("Porto", exact=True).first).to_be_visible()
    expect(page.locator("#network-map")).to_be_visible()
    expect(page.locator("#network-map .leaflet-marker-icon").first).to_be_visible()

    # "Log out" in Chinese; located by its form so the check does not hang on the exact wording.
    header(page).locator("form[action='/logout']").get_by_role("button").click()
    expect(header(page).get_by_role("link", name="登录")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")


def test_register_form_keeps_what_was_typed_and_explains_a_short_password(page):
    email = unique_email()
    register(page, email=email, display_name="Ana Costa", password="short")

    expect(page.get_by_role("alert")).to_have_text("Please correct the fields marked below.")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile(r"Use at least 8 characters\."))
    expect(page.locator("#f-password-error")).to_have_text("Use at least 8 characters.")
    expect(page.get_by_label("Email address")).to_have_value(email)
    expect(page.get_by_label("Display name")).to_have_value("Ana Costa")
    expect(password).to_have_value("")
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()


def test_network_page_fits_a_phone_screen(new_context):
    page = new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True, has_touch=True
    ).new_page()
    page.goto("/network")
    expect(page.locator("#network-map")).to_be_visible()
    expect(page.locator("#network-map .leaflet-marker-icon").first).to_be_attached()
    overflow = page.evaluate(
        "() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})"
    )
    assert overflow["scrollWidth"] <= overflow["innerWidth"], overflow

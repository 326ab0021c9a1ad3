"""Workspaces in a real browser: a citizen joins an open workspace, a Chinese-speaking citizen asks to
join one that needs approval and the facilitator approves through the notifications, and a members-only
workspace stays hidden from outsiders.

The server is shared with the other end-to-end tests, so counts are read before they are expected to
change rather than assumed."""

import re
import uuid

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

pytestmark = pytest.mark.e2e

PASSWORD = "a walk in the park"
DEMO_PASSWORD = "green-corridor-2026"  # the demo users' password, public
FACILITATOR = "facilitator@example.org"

PORTO = "Porto: Campanhã green corridor"
RIVERS_EN = "Rivers as green corridors: Europe and Guangdong"
RIVERS_ZH = "河流作为绿色廊道：欧洲与广东"
SHENZHEN = "Shenzhen sponge-city pilot"
MEMBER_COUNT = re.compile(r"^(\d+) members?$")


def unique_email() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}@example.org"


def unique_name(base: str) -> str:
    return f"{base} {uuid.uuid4().hex[:6]}"


def header(page):
    return page.get_by_role("banner")


def main_nav(page):
    return header(page).get_by_role("navigation")


def notifications_link(page, name: str, unread: str | re.Pattern | None = None):
    """The header's bell; its accessible name is "Notifications" followed by the unread count, if any."""
    if unread is None:
        return header(page).get_by_role("link", name=name, exact=True)
    if isinstance(unread, re.Pattern):
        return header(page).get_by_role("link", name=re.compile(rf"^{name} {unread.pattern}$"))
    return header(page).get_by_role("link", name=f"{name} {unread}", exact=True)


def register(page, *, email: str, display_name: str) -> None:
    page.goto("/")
    header(page).get_by_role("link", name="Register").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(header(page).get_by_role("link", name=display_name)).to_be_visible()


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged in.")


def member_count(page) -> int:
    badge = page.get_by_role("main").get_by_text(MEMBER_COUNT)
    expect(badge).to_have_count(1)
    return int(MEMBER_COUNT.match(badge.inner_text().strip()).group(1))


def test_citizen_joins_an_open_workspace_and_the_feed_says_so(page):
    name = unique_name("Rui Costa")
    register(page, email=unique_email(), display_name=name)

    main_nav(page).get_by_role("link", name="Workspaces", exact=True).click()
    expect(page).to_have_url(re.compile(r"/workspaces$"))
    expect(page.get_by_role("heading", name="Workspaces", level=1)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name=PORTO, exact=True).click()
    expect(page.get_by_role("heading", name=PORTO, level=1)).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Workspaces", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    before = member_count(page)

    page.get_by_role("button", name="Join this workspace").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome! You are now a member.")
    expect(page.get_by_role("main").get_by_text(MEMBER_COUNT)).to_have_text(
        f"{before + 1} member{'s' if before + 1 != 1 else ''}"
    )
    expect(page.get_by_text("You are a member.", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Join this workspace")).to_have_count(0)
    expect(page.get_by_role("button", name="Leave this workspace")).to_be_visible()
    feed = page.get_by_role("region", name="What happened")
    expect(feed.get_by_role("listitem").first).to_contain_text(f"{name} joined.")

    main_nav(page).get_by_role("link", name="Workspaces", exact=True).click()
    porto_card = page.get_by_role("main").get_by_role("listitem").filter(has_text=PORTO)
    expect(porto_card).to_contain_text("You are a member")


def test_chinese_citizen_asks_to_join_and_the_facilitator_approves_through_notifications(new_context):
    citizen = new_context().new_page()
    name = unique_name("陈小林")
    note = "我在广州研究珠江的生态廊道，希望参与讨论。"
    register(citizen, email=unique_email(), display_name=name)
    header(citizen).get_by_role("button", name="中文").click()
    expect(citizen.locator("html")).to_have_attribute("lang", "zh-Hans")

    main_nav(citizen).get_by_role("link", name="工作区", exact=True).click()
    expect(citizen.get_by_role("heading", name="工作区", level=1)).to_be_visible()
    citizen.get_by_role("main").get_by_role("link", name=RIVERS_ZH, exact=True).click()
    expect(citizen.get_by_role("heading", name=RIVERS_ZH, level=1)).to_be_visible()
    citizen.get_by_label("给管理员的留言（可选）").fill(note)
    citizen.get_by_role("button", name="申请加入").click()
    expect(citizen.get_by_role("status")).to_contain_text("申请已发送，管理员会进行审批。")
    expect(citizen.get_by_role("button", name="申请加入")).to_have_count(0)
    expect(notifications_link(citizen, "通知")).to_be_visible()

    facilitator = new_context().new_page()
    log_in(facilitator, FACILITATOR, DEMO_PASSWORD)
    bell = notifications_link(facilitator, "Notifications", re.compile(r"\d+ unread"))
    expect(bell).to_be_visible()
    bell.click()
    expect(facilitator.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    request = facilitator.get_by_role("main").get_by_role("link", name=f"{name} asks to join {RIVERS_EN}.")
    expect(request).to_be_visible()

    request.click()
    expect(facilitator).to_have_url(re.compile(r"/w/rivers-as-green-corridors-europe-and-guangdong/members$"))
    expect(facilitator.get_by_role("heading", name="Members", level=1)).to_be_visible()
    requests = facilitator.get_by_role("region", name=re.compile(r"requests? to join$"))
    row = requests.get_by_role("listitem").filter(has_text=name)
    expect(row).to_contain_text(note)
    row.get_by_role("button", name="Approve").click()
    expect(facilitator.get_by_role("status")).to_contain_text("Request approved.")
    members = facilitator.get_by_role("region", name="Members")
    expect(members.get_by_role("listitem").filter(has_text=name)).to_be_visible()

    citizen.reload()
    bell = notifications_link(citizen, "通知", "1 条未读")
    expect(bell).to_be_visible()
    bell.click()
    expect(citizen.get_by_role("heading", name="通知", level=1)).to_be_visible()
    expect(citizen.get_by_role("main").get_by_role("listitem").first).to_contain_text(
        f"你已成为“{RIVERS_ZH}”的成员。"
    )
    citizen.get_by_role("button", name="全部标为已读").click()
    expect(citizen.get_by_role("heading", name="通知", level=1)).to_be_visible()
    expect(notifications_link(citizen, "通知")).to_be_visible()
    expect(citizen.get_by_role("button", name="全部标为已读")).to_have_count(0)
    expect(citizen.get_by_role("button", name="标为已读")).to_have_count(0)

    citizen.get_by_role("main").get_by_role("link", name=f"你已成为“{RIVERS_ZH}”的成员。").click()
    expect(citizen.get_by_role("heading", name=RIVERS_ZH, level=1)).to_be_visible()
    expect(citizen.get_by_role("complementary").get_by_text("你是成员。", exact=True)).to_be_visible()
    expect(citizen.get_by_role("button", name="退出这个工作区")).to_be_visible()


def test_members_only_workspace_is_hidden_from_outsiders(page):
    response = page.goto("/w/shenzhen-sponge-city-pilot")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()
    expect(page.get_by_text(SHENZHEN)).to_have_count(0)

    page.goto("/workspaces")
    listing = page.get_by_role("main")
    expect(listing.get_by_role("link", name=PORTO, exact=True)).to_be_visible()
    expect(listing.get_by_role("link", name=RIVERS_EN, exact=True)).to_be_visible()
    expect(listing.get_by_text(SHENZHEN)).to_have_count(0)
    expect(listing.get_by_text("Members only")).to_have_count(0)

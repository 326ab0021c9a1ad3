"""The heart of the platform in a real browser, in English and in Chinese: a citizen joins Porto's
workspace and posts an idea with a picture; a second citizen supports it and replies; the first sees
the notification."""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips (or fails in CI) and says why
    expect = None

from tests.attachments.files import png
from tests.e2e.test_workspaces import header, register, unique_email, unique_name

pytestmark = pytest.mark.e2e

PORTO = "/w/porto-campanha-green-corridor"

TEXT = {
    "en": {
        "join": "Join this workspace",
        "post": "Post an idea",
        "title": "Title",
        "body": "Your idea",
        "submit": "Post idea",
        "posted": "Your idea is posted.",
        "not described": "Picture 1 of 1, not described yet",
        "description": "A shaded path beside the river",
        "support": "Support",
        "supports": "1 support",
        "comment": "Your comment",
        "send": "Post comment",
        "bell": "Notifications",
        "unread": "1 unread",
        "told": "commented on your idea",
        "tag": "Biodiversity enhancement",
    },
    "zh": {
        "join": "加入这个工作区",
        "post": "发布想法",
        "title": "标题",
        "body": "你的想法",
        "submit": "发布想法",
        "posted": "你的想法已发布。",
        "not described": "第 1 张图片（共 1 张），尚无描述",
        "description": "河边一条有树荫的小路",
        "support": "支持",
        "supports": "1 人支持",
        "comment": "你的评论",
        "send": "发表评论",
        "bell": "通知",
        "unread": "1 条未读",
        "told": "评论了你的想法",
        "tag": "生物多样性提升",
    },
}


def newcomer(new_context, language: str):
    page = new_context().new_page()
    name = unique_name("Lin" if language == "zh" else "Rui")
    register(page, email=unique_email(), display_name=name)
    if language == "zh":
        header(page).get_by_role("button", name="中文").click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    return page, name


def join_porto(page, text) -> None:
    page.goto(PORTO)
    page.get_by_role("button", name=text["join"]).click()
    expect(page.get_by_role("status")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "zh"])
def test_post_an_idea_with_a_picture_then_support_reply_and_notification(new_context, language):
    text = TEXT[language]
    title = unique_name("建设绿色走廊连接社区" if language == "zh" else "Shaded path to the river")

    author, _author_name = newcomer(new_context, language)
    join_porto(author, text)
    author.get_by_role("link", name=text["post"], exact=True).click()
    # Required fields' labels end with an asterisk, hence no exact match.
    author.get_by_label(text["title"]).fill(title)
    author.get_by_label(text["body"], exact=True).fill("Plant **native trees** along the path.")
    author.get_by_label(text["tag"]).check()
    author.locator("input[type=file][name=files]").set_input_files(
        [{"name": "path.png", "mimeType": "image/png", "buffer": png(40, 30)}]
    )
    author.get_by_role("main").get_by_role("button", name=text["submit"]).click()
    expect(author.get_by_role("status")).to_contain_text(text["posted"])
    expect(author.get_by_role("heading", name=title, level=1)).to_be_visible()
    picture = author.get_by_role("main").locator(".gallery img")
    expect(picture).to_be_visible()
    expect(picture).to_have_attribute("alt", text["not described"])
    # Visible is laid out, not yet loaded (the picture loads lazily): wait until the browser has it, or
    # has given up on it.
    picture.scroll_into_view_if_needed()
    author.wait_for_function("img => img.complete", arg=picture.element_handle())
    assert author.evaluate("img => img.naturalWidth", picture.element_handle()) == 40
    idea_url = author.url
    # The author describes the picture: its description is what a screen reader reads.
    author.goto(idea_url + "/edit")
    author.locator("input[name^=description-]").fill(text["description"])
    author.get_by_role("main").locator("p.actions button[type=submit]").click()
    expect(picture).to_have_attribute("alt", text["description"])

    supporter, _supporter_name = newcomer(new_context, language)
    join_porto(supporter, text)
    supporter.goto(idea_url)
    supporter.get_by_role("button", name=text["support"], exact=True).click()
    expect(supporter.locator(".support-count")).to_have_text(text["supports"])
    supporter.get_by_label(text["comment"], exact=True).fill("I walk there every day, count me in!")
    supporter.get_by_role("button", name=text["send"]).click()
    expect(supporter.get_by_text("I walk there every day, count me in!")).to_be_visible()

    author.reload()
    bell = header(author).get_by_role("link", name=f"{text['bell']} {text['unread']}", exact=True)
    expect(bell).to_be_visible()
    bell.click()
    expect(author.get_by_role("main")).to_contain_text(re.compile(f"{text['told']}.*{re.escape(title)}"))

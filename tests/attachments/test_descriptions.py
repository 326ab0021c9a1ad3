"""The author describes each picture; the description is its alt text. Until then the page says
the picture is not described, never its file name."""

import re

from sqlmodel import select

from app.ideas.models import Idea
from tests.attachments.test_routes import IDEA, attachments_of, document, image, member, post_idea
from tests.conftest import log_in, make_user, post_form


def alt_texts(html: str) -> list[str]:
    return re.findall(r'<img src="/w/[^"]+/attachments/\d+" alt="([^"]*)"', html)


async def test_the_author_describes_a_picture_and_readers_get_it_as_alt_text(client, session, porto):
    author = await member(session, porto)
    await log_in(client, author)
    await post_idea(client, porto, [image("IMG_2041.png"), image("IMG_2042.png"), document()])
    idea = (await session.exec(select(Idea))).one()
    page = f"/w/{porto.slug}/ideas/{idea.id}"
    text = (await client.get(page)).text
    assert alt_texts(text) == ["Picture 1 of 2, not described yet", "Picture 2 of 2, not described yet"]
    assert "IMG_2041" not in "".join(alt_texts(text))
    assert "Some pictures are not described yet" in text

    first, second, pdf = await attachments_of(session, idea.id)
    form = (await client.get(f"{page}/edit")).text
    assert f'name="description-{first.id}"' in form and f'name="description-{pdf.id}"' not in form
    response = await post_form(
        client,
        f"{page}/edit",
        {**IDEA, f"description-{first.id}": "  A swale\nplanted with reeds beside the school  "},
    )
    assert response.status_code == 303, response.text
    text = (await client.get(page)).text
    assert alt_texts(text) == [
        "A swale planted with reeds beside the school",
        "Picture 2 of 2, not described yet",
    ]
    # A field left out of the form keeps its description; the second one is still to write.
    await post_form(client, f"{page}/edit", {**IDEA, f"description-{second.id}": "The school yard"})
    assert alt_texts((await client.get(page)).text) == [
        "A swale planted with reeds beside the school",
        "The school yard",
    ]
    # Other readers see the descriptions, not the author's reminder.
    client.cookies.clear()
    await log_in(client, await make_user(session))
    text = (await client.get(page)).text
    assert "The school yard" in text and "Some pictures are not described yet" not in text


async def test_a_long_description_is_refused_on_its_field_with_the_rest_kept(client, session, porto):
    await log_in(client, await member(session, porto))
    await post_idea(client, porto, [image()])
    idea = (await session.exec(select(Idea))).one()
    (picture,) = await attachments_of(session, idea.id)
    response = await post_form(
        client,
        f"/w/{porto.slug}/ideas/{idea.id}/edit",
        {**IDEA, "title": "", f"description-{picture.id}": "x" * 301},
    )
    assert response.status_code == 422
    assert f'id="f-description-{picture.id}-error"' in response.text
    assert "Use at most 300 characters (you wrote 301)." in response.text
    assert 'value="' + "x" * 301 + '"' in response.text
    await session.refresh(idea)
    assert idea.title == IDEA["title"]
    assert (await attachments_of(session, idea.id))[0].description == ""


async def test_only_who_may_edit_the_idea_describes_its_pictures(client, session, porto):
    await log_in(client, await member(session, porto))
    await post_idea(client, porto, [image()])
    idea = (await session.exec(select(Idea))).one()
    (picture,) = await attachments_of(session, idea.id)
    client.cookies.clear()
    await log_in(client, await member(session, porto))
    response = await post_form(
        client, f"/w/{porto.slug}/ideas/{idea.id}/edit", {**IDEA, f"description-{picture.id}": "Mine now"}
    )
    assert response.status_code == 403
    assert (await attachments_of(session, idea.id))[0].description == ""

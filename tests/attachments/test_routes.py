"""Pictures and PDFs on ideas: posted with the idea, checked by content, stored under server-made
names, served only to readers of the idea, removed by the author; bad files change nothing."""

import re

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from app.attachments import service as attachment_service
from app.attachments.models import Attachment
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.workspaces import service as workspace_service
from app.workspaces.models import JoinPolicy, Visibility
from tests.attachments.files import PDF, png
from tests.conftest import log_in, make_user, post_form
from tests.workspaces.conftest import make_workspace

IDEA = {"title": "Rain gardens on Rua Central", "body": "Planted swales.", "place_name": "Rio Torto"}
KEY = re.compile(r"[0-9a-f]{32}\.(png|pdf|jpg|webp)")
MB = 1024 * 1024


def image(name: str = "garden.png", data: bytes | None = None, claimed: str = "image/png"):
    return ("files", (name, png() if data is None else data, claimed))


def document(name: str = "plan.pdf", data: bytes = PDF):
    return ("files", (name, data, "application/pdf"))


def stored_files(settings) -> list:
    return sorted(p for p in (settings.data_dir / "uploads").rglob("*") if p.is_file())


async def count(session, model) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


async def member(session, workspace):
    user = await make_user(session)
    await workspace_service.join(session=session, workspace=workspace, user=user)
    return user


async def post_idea(client, workspace, files, **fields):
    return await post_form(client, f"/w/{workspace.slug}/ideas/new", {**IDEA, **fields}, files=files)


async def attachments_of(session, idea_id) -> list[Attachment]:
    return await attachment_service.of_idea(session=session, idea_id=idea_id)


async def test_an_idea_is_posted_with_a_picture_and_a_pdf(client, session, settings, porto):
    await log_in(client, await member(session, porto))
    response = await post_idea(client, porto, [image("花园 garden.png"), document()])
    assert response.status_code == 303, response.text
    idea = (await session.exec(select(Idea))).one()
    picture, pdf = await attachments_of(session, idea.id)
    assert (picture.filename, picture.content_type, picture.width, picture.height) == (
        "花园 garden.png",
        "image/png",
        1,
        1,
    )
    assert (pdf.filename, pdf.content_type, pdf.size_bytes, pdf.width) == (
        "plan.pdf",
        "application/pdf",
        len(PDF),
        None,
    )
    on_disk = stored_files(settings)
    assert sorted(p.name for p in on_disk) == sorted([picture.storage_key, pdf.storage_key])
    assert all(KEY.fullmatch(p.name) for p in on_disk)
    assert {p.read_bytes() for p in on_disk} == {png(), PDF}

    page = await client.get(response.headers["location"])
    picture_url = f"/w/{porto.slug}/ideas/{idea.id}/attachments/{picture.id}"
    pdf_url = f"/w/{porto.slug}/ideas/{idea.id}/attachments/{pdf.id}"
    assert re.search(
        rf'<section class="attachments"[^>]*hx-disable>.*<img src="{picture_url}" '
        r'alt="Picture 1 of 1, not described yet" '
        r'width="1" height="1" loading="lazy">',
        page.text,
        re.S,
    )
    assert f'<a href="{pdf_url}" download>plan.pdf</a> <span class="muted">PDF, 1 KB</span>' in page.text

    shown = await client.get(picture_url)
    assert shown.status_code == 200 and shown.content == png()
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"] == (
        "inline; filename=\"__ garden.png\"; filename*=UTF-8''%E8%8A%B1%E5%9B%AD%20garden.png"
    )
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["cache-control"].startswith("private")
    downloaded = await client.get(pdf_url)
    assert downloaded.content == PDF and downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"].startswith('attachment; filename="plan.pdf"')


async def test_a_file_is_judged_by_its_content_not_its_name(client, session, porto):
    await log_in(client, await member(session, porto))
    response = await post_idea(client, porto, [image("photo.gif", data=png(), claimed="image/gif")])
    assert response.status_code == 303
    (attachment,) = await attachments_of(session, (await session.exec(select(Idea.id))).one())
    assert (attachment.filename, attachment.content_type) == ("photo.gif.png", "image/png")


BAD_FILES = [
    ("setup.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200), "image/png"),
    (
        "drawing.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
        "image/svg+xml",
    ),
    ("page.html", b"<!doctype html><html><body><script>alert(document.cookie)</script>", "text/html"),
    ("page.pdf", b"<html><script>alert(1)</script>%PDF-1.4", "application/pdf"),
]


@pytest.mark.parametrize(("name", "data", "claimed"), BAD_FILES)
async def test_other_files_are_refused_with_the_form_kept_and_nothing_saved(
    client, session, settings, porto, name, data, claimed
):
    await log_in(client, await member(session, porto))
    # A good picture beside the bad file is not kept either.
    response = await post_idea(client, porto, [image(), ("files", (name, data, claimed))])
    assert response.status_code == 422
    assert f"“{name}” is not a JPEG, PNG or WebP image or a PDF." in response.text
    assert "Choose your files again: they are not kept when the form comes back." in response.text
    assert 'value="Rain gardens on Rua Central"' in response.text and "Planted swales." in response.text
    assert await count(session, Idea) == 0 and await count(session, Attachment) == 0
    assert stored_files(settings) == []


async def test_files_over_10_mb_are_refused(client, session, settings, porto):
    await log_in(client, await member(session, porto))
    too_big = png() + bytes(10 * MB + 1 - len(png()))
    response = await post_idea(client, porto, [image("big.png", data=too_big)])
    assert response.status_code == 422
    assert "“big.png” is larger than 10 MB." in response.text
    # A 50 MB file fits in the upload allowance of the form (five files at the limit), so it is
    # read and refused by name, with the form kept.
    response = await post_idea(client, porto, [document("scan.pdf", b"%PDF-" + bytes(50 * MB))])
    assert response.status_code == 422 and "“scan.pdf” is larger than 10 MB." in response.text
    assert await count(session, Idea) == 0 and stored_files(settings) == []


async def test_a_body_over_the_upload_allowance_gets_the_413_page(client, session, settings, porto):
    await log_in(client, await member(session, porto))
    six_at_the_limit = [document(f"{n}.pdf", b"%PDF-" + bytes(10 * MB - 5)) for n in range(6)]
    response = await post_idea(client, porto, six_at_the_limit)
    assert response.status_code == 413
    assert "larger than this site accepts" in response.text
    assert await count(session, Idea) == 0 and stored_files(settings) == []
    # Elsewhere the app-wide limit holds, also for multipart bodies.
    response = await post_form(client, "/language", {"language": "en"}, files=[document(data=bytes(3 * MB))])
    assert response.status_code == 413


async def test_text_and_file_problems_are_shown_together(client, session, porto):
    await log_in(client, await member(session, porto))
    response = await post_idea(client, porto, [image("x.png", data=b"not a picture")], title="")
    assert response.status_code == 422
    assert "This field is required." in response.text
    assert "“x.png” is not a JPEG, PNG or WebP image or a PDF." in response.text
    # A good file with a bad title: the file has to be chosen again, and the form says so.
    response = await post_idea(client, porto, [image()], title="")
    assert response.status_code == 422
    assert "Choose your files again: they are not kept when the form comes back." in response.text
    assert await count(session, Idea) == 0 and await count(session, Attachment) == 0


async def test_an_idea_holds_at_most_five_files(client, session, settings, porto):
    await log_in(client, await member(session, porto))
    response = await post_idea(client, porto, [image(f"{n}.png") for n in range(6)])
    assert response.status_code == 422
    assert "An idea holds at most 5 files; you chose 6." in response.text
    response = await post_idea(client, porto, [image(f"{n}.png") for n in range(5)])
    assert response.status_code == 303
    idea_id = (await session.exec(select(Idea.id))).one()
    edit = f"/w/{porto.slug}/ideas/{idea_id}/edit"
    form = await client.get(edit)
    assert "This idea holds all the files it can: remove one to add another." in form.text
    response = await post_form(client, edit, {**IDEA, "title": "Changed"}, files=[document()])
    assert response.status_code == 422
    assert "An idea holds at most 5 files; this one has 5 and you chose 1." in response.text
    assert len(await attachments_of(session, idea_id)) == 5 and len(stored_files(settings)) == 5
    await session.refresh(await session.get(Idea, idea_id))
    assert (await session.get(Idea, idea_id)).title == IDEA["title"]


async def test_the_author_adds_files_when_editing(client, session, settings, porto):
    author = await member(session, porto)
    await log_in(client, author)
    await post_idea(client, porto, [image()])
    idea = (await session.exec(select(Idea))).one()
    response = await post_form(
        client, f"/w/{porto.slug}/ideas/{idea.id}/edit", {**IDEA, "title": "With a plan"}, files=[document()]
    )
    assert response.status_code == 303
    await session.refresh(idea)
    assert idea.title == "With a plan"
    assert [a.filename for a in await attachments_of(session, idea.id)] == ["garden.png", "plan.pdf"]
    form = await client.get(f"/w/{porto.slug}/ideas/{idea.id}/edit")
    assert 'enctype="multipart/form-data" hx-boost="false"' in form.text
    assert 'accept="image/jpeg,image/png,image/webp,application/pdf"' in form.text
    assert "You can add 3 more files." in form.text


async def test_a_failure_after_files_are_stored_keeps_nothing(client, session, settings, porto, monkeypatch):
    """The idea and its attachment rows are one transaction, and stored files go with it: here the
    second file gets the first one's key, so the rows break the unique constraint at the end."""
    await log_in(client, await member(session, porto))
    monkeypatch.setattr(attachment_service, "new_key", lambda extension: f"{'a' * 32}.{extension}")
    with pytest.raises(IntegrityError):
        await post_idea(client, porto, [image("one.png"), image("two.png")])
    assert await count(session, Idea) == 0 and await count(session, Attachment) == 0
    assert stored_files(settings) == []


async def test_outsiders_of_a_members_only_workspace_get_nothing(
    client, other_client, session, facilitator, network, porto
):
    secret = await make_workspace(
        session,
        facilitator,
        [network["Shenzhen"]],
        title="Secret pilot",
        visibility=Visibility.MEMBERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    await log_in(client, facilitator)
    assert (await post_idea(client, secret, [image()])).status_code == 303
    idea = (await session.exec(select(Idea))).one()
    (attachment,) = await attachments_of(session, idea.id)
    url = f"/w/{secret.slug}/ideas/{idea.id}/attachments/{attachment.id}"
    assert (await client.get(url)).status_code == 200
    await log_in(other_client, await make_user(session))
    for path in (url, f"/w/{porto.slug}/ideas/{idea.id}/attachments/{attachment.id}"):
        response = await other_client.get(path)
        assert response.status_code == 404 and response.content != png()
    assert (await post_form(other_client, url + "/delete")).status_code == 404


async def test_an_attachment_is_found_only_through_its_own_idea(client, session, porto):
    await log_in(client, await member(session, porto))
    await post_idea(client, porto, [image()])
    other = await idea_service.create(
        session=session,
        workspace=porto,
        author=await member(session, porto),
        data=idea_service.IdeaInput(title="X"),
    )
    attachment = (await session.exec(select(Attachment))).one()
    assert (
        await client.get(f"/w/{porto.slug}/ideas/{other.id}/attachments/{attachment.id}")
    ).status_code == 404
    base = f"/w/{porto.slug}/ideas/{attachment.idea_id}/attachments"
    assert (await client.get(f"{base}/{attachment.id + 1}")).status_code == 404
    assert (await client.get(f"{base}/99999999999999999999")).status_code == 422


async def test_archived_workspaces_take_no_files(client, session, settings, porto, facilitator):
    author = await member(session, porto)
    await log_in(client, author)
    await post_idea(client, porto, [image()])
    idea = (await session.exec(select(Idea))).one()
    (attachment,) = await attachments_of(session, idea.id)
    await workspace_service.set_archived(session=session, workspace=porto, archived=True, by=facilitator)
    assert (await post_idea(client, porto, [image()])).status_code == 403
    edit = f"/w/{porto.slug}/ideas/{idea.id}/edit"
    assert (await post_form(client, edit, IDEA, files=[document()])).status_code == 403
    url = f"/w/{porto.slug}/ideas/{idea.id}/attachments/{attachment.id}"
    assert (await post_form(client, url + "/delete")).status_code == 403
    assert (await client.get(url)).status_code == 200
    assert len(stored_files(settings)) == 1 and await count(session, Attachment) == 1


async def test_the_author_removes_a_file_and_others_cannot(client, other_client, session, settings, porto):
    author = await member(session, porto)
    await log_in(client, author)
    await post_idea(client, porto, [image(), document()])
    idea = (await session.exec(select(Idea))).one()
    picture, pdf = await attachments_of(session, idea.id)
    url = f"/w/{porto.slug}/ideas/{idea.id}/attachments/{picture.id}"
    form = await client.get(f"/w/{porto.slug}/ideas/{idea.id}/edit")
    assert (
        f'<form id="remove-attachment-{picture.id}" method="post" action="{url}/delete" hidden>' in form.text
    )
    assert f'form="remove-attachment-{picture.id}"' in form.text

    await log_in(other_client, await member(session, porto))
    assert (await post_form(other_client, url + "/delete")).status_code == 403
    assert len(stored_files(settings)) == 2

    response = await post_form(client, url + "/delete")
    assert response.status_code == 303
    assert response.headers["location"] == f"/w/{porto.slug}/ideas/{idea.id}/edit"
    assert [a.id for a in await attachments_of(session, idea.id)] == [pdf.id]
    assert [p.name for p in stored_files(settings)] == [pdf.storage_key]
    assert (await client.get(url)).status_code == 404
    assert "garden.png" not in (await client.get(f"/w/{porto.slug}/ideas/{idea.id}")).text


async def test_the_idea_page_runs_the_same_queries_with_one_file_or_five(
    client, session, porto, query_counter
):
    await log_in(client, await member(session, porto))
    await post_idea(client, porto, [image()])
    idea = (await session.exec(select(Idea))).one()
    path = f"/w/{porto.slug}/ideas/{idea.id}"

    async def queries() -> int:
        query_counter.count = 0
        page = await client.get(path)
        assert page.status_code == 200
        return query_counter.count

    one = await queries()
    more = [image(f"{n}.png") for n in range(3)] + [document()]
    assert (await post_form(client, f"{path}/edit", IDEA, files=more)).status_code == 303
    assert len(await attachments_of(session, idea.id)) == 5
    assert await queries() == one

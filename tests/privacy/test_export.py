"""Downloading one's own data: a zip with data.json and the files one uploaded, only one's own,
read in a fixed number of queries."""

import io
import json
import zipfile

import pytest

from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.notifications import service as notification_service
from app.privacy import service as privacy_service
from tests.conftest import csrf_token, log_in, post_form
from tests.privacy.conftest import ballot, comment, document, picture, post_idea, scene, vote


async def download(client) -> zipfile.ZipFile:
    response = await post_form(client, "/profile/data")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="cocreate-data-')
    assert response.headers["cache-control"] == "no-store"
    return zipfile.ZipFile(io.BytesIO(response.content))


async def test_the_zip_holds_my_profile_ideas_comments_and_files_and_nothing_of_anyone_else(
    client, other_client, session, settings, porto, facilitator
):
    seen = await scene(
        session, client, other_client, porto, facilitator, files=[picture("花园 garden.png"), document()]
    )
    archive = await download(client)
    names = archive.namelist()
    assert names[0] == "data.json"
    assert sorted(names[1:]) == [
        f"attachments/{seen.ana_idea}/plan.pdf",
        f"attachments/{seen.ana_idea}/花园 garden.png",
    ]
    assert archive.read(f"attachments/{seen.ana_idea}/plan.pdf") == document()[1][1]
    assert archive.read(f"attachments/{seen.ana_idea}/花园 garden.png") == picture()[1][1]
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["email"] == "ana.sousa@example.org"
    assert "password_hash" not in data["profile"] and "argon2" not in archive.read("data.json").decode()
    assert [idea["title"] for idea in data["ideas"]] == ["Ana's rain garden"]
    assert [c["body"] for c in data["comments"]] == ["Ana thinks roofs need soil.", "Ana adds: and a drain."]
    assert [s["idea"]["title"] for s in data["supports"]] == ["Wei's green roof"]
    assert [f["idea"]["id"] for f in data["follows"]] == [seen.wei_idea]
    assert [m["workspace"]["slug"] for m in data["memberships"]] == [porto.slug]
    assert [(r["session"]["title"], r["status"]) for r in data["session_registrations"]] == [
        ("River walk", "registered")
    ]
    assert {p["ballot"]["question"]: p["choices"]["options"][0]["label"] for p in data["ballot_papers"]} == {
        "Open question?": "Rain gardens",
        "Closed question?": "Green roofs",
        "Secret question?": "Rain gardens",
    }
    assert [r["note"] for r in data["reports"]] == ["Ana's note"]
    assert [a["action"] for a in data["audit_log"]] == ["report"] and data["audit_log"][0]["by_you"]
    assert len(data["login_sessions"]) == 1 and data["login_sessions"][0]["ip_address"] == "203.0.113.7"
    assert {n["kind"] for n in data["notifications"]} == {"idea_comment", "comment_reply"}
    assert "keyed hash" in data["about"]["anonymous_ballots"]
    # Wei's words, address and files are in none of it.
    everything = b"".join(archive.read(name) for name in names).decode("utf-8", "replace")
    for theirs in ("wei.zhang@example.org", "Wei Zhang", "Wei answers", "Wei likes", "wei-roof.png"):
        assert theirs not in everything


async def test_nothing_in_the_request_can_ask_for_another_persons_data(
    client, other_client, session, settings, porto, facilitator
):
    seen = await scene(session, client, other_client, porto, facilitator)
    token = await csrf_token(client)
    for url, form in (
        (f"/profile/data?user_id={seen.wei.id}", {}),
        ("/profile/data", {"user_id": str(seen.wei.id), "email": "wei.zhang@example.org"}),
    ):
        response = await client.post(url, data={"csrf_token": token, **form})
        data = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("data.json"))
        assert data["profile"]["id"] == seen.ana.id
    assert (await client.post(f"/users/{seen.wei.id}/data", data={"csrf_token": token})).status_code == 404


async def test_the_download_is_a_form_sent_on_purpose(client, session, user):
    assert (await client.post("/profile/data")).status_code == 403  # no CSRF token
    response = await post_form(client, "/profile/data")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await log_in(client, user)
    assert (await client.get("/profile/data")).status_code == 405
    assert (await client.post("/profile/data")).status_code == 403


async def test_downloads_are_limited_per_hour(client, session, user):
    await log_in(client, user)
    for _ in range(privacy_service.EXPORT_LIMIT):
        assert (await post_form(client, "/profile/data")).status_code == 200
    refused = await post_form(client, "/profile/data")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_the_number_of_queries_does_not_grow_with_what_there_is(
    client, other_client, session, settings, porto, facilitator, query_counter
):
    seen = await scene(session, client, other_client, porto, facilitator, files=[picture()])

    async def queries() -> tuple[int, int, int]:
        before = query_counter.count
        data = json.loads((await download(client)).read("data.json"))
        return query_counter.count - before, len(data["ideas"]), len(data["ballot_papers"])

    few, ideas, papers = await queries()
    for number in range(4):
        idea_id = await post_idea(client, porto, f"Idea {number}", [picture(f"p{number}.png")])
        await comment(session, porto, seen.wei_idea, seen.ana, f"More {number}")
        await notification_service.toggle_follow(session=session, user_id=seen.ana.id, idea_id=idea_id)
        await idea_service.toggle_support(
            session=session, idea=await session.get(Idea, idea_id), user=seen.ana
        )
        anonymous = await ballot(session, porto, facilitator, anonymous=True, question=f"Q{number}?")
        await vote(session, anonymous, seen.ana)
    many = await queries()
    assert many == (few, ideas + 4, papers + 4)


@pytest.mark.parametrize(
    ("given", "member"),
    [
        ("../../etc/passwd", "attachments/7/passwd"),
        ("/etc/shadow", "attachments/7/shadow"),
        ("C:\\Windows\\win.ini", "attachments/7/win.ini"),
        ("..", "attachments/7/file"),
        ("evil\x00.png", "attachments/7/evil.png"),
        ("  ", "attachments/7/file"),
        ("a\u202egnp.exe", "attachments/7/agnp.exe"),
    ],
)
def test_zip_member_names_cannot_leave_their_folder(given, member):
    assert privacy_service.attachment_member(7, given, set()) == member


def test_two_files_of_one_name_keep_both():
    taken: set[str] = set()
    names = [privacy_service.attachment_member(7, "plan.pdf", taken) for _ in range(3)]
    assert names == ["attachments/7/plan.pdf", "attachments/7/plan (2).pdf", "attachments/7/plan (3).pdf"]

"""Other people's ids, on every route that takes one in its path or its form: an idea, comment, file,
session, agenda item, ballot or option, membership, moderation case, notification or topic of another
workspace (or another person), or an account that does not exist, is refused (403, 404, or the form
back with 422) and nothing changes; a hidden idea is not there for another workspace's moderator.

The world is tests/security/world.py's: ``other_moderator`` moderates Hefei's workspace and tries Porto's
things through it; Porto's member and author try Hefei's and Shenzhen's (members-only) things through
Porto; and everyone tries what belongs to someone else. A plain form a rule refuses comes back to its
page with the message (303); those rows expect 303, and still that nothing changed. No route takes the
id of a login (a device): the only act on them, ending the others, ends only one's own; downloading
one's data and deleting one's account take no id, and ignore one that is sent."""

import io
import zipfile
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from app.accounts.models import User
from tests.conftest import PASSWORD


@dataclass(frozen=True)
class Attempt:
    what: str
    role: str
    method: str
    path: str
    form: dict | None = None
    answer: int = 404
    htmx: bool = False


def consent(option_key: str):
    return lambda ids: {f"consent-{option}": "agree" for option in ids[option_key]}


ATTEMPTS = [
    # Ideas and their files.
    Attempt("reads a Porto idea through Hefei", "other_moderator", "GET", "/w/{other_slug}/ideas/{idea_id}"),
    Attempt(
        "moves a Porto idea's status through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ideas/{idea_id}/status",
        {"status": "selected", "note": "Mine now"},
    ),
    Attempt(
        "edits their Porto idea through Hefei",
        "author",
        "POST",
        "/w/{other_slug}/ideas/{idea_id}/edit",
        {"title": "x"},
    ),
    Attempt(
        "edits another's idea", "member", "POST", "/w/{slug}/ideas/{idea_id}/edit", {"title": "Mine now"}, 403
    ),
    Attempt(
        "supports a Hefei idea through Porto", "member", "POST", "/w/{slug}/ideas/{other_idea_id}/support"
    ),
    Attempt(
        "follows a members-only idea through Porto",
        "member",
        "POST",
        "/w/{slug}/ideas/{private_idea_id}/follow",
    ),
    Attempt(
        "gives their idea a Hefei topic",
        "author",
        "POST",
        "/w/{slug}/ideas/{idea_id}/edit",
        lambda ids: {"title": "Rain gardens", "topic_id": str(ids["other_topic_id"])},
        422,
    ),
    Attempt(
        "downloads a Porto file through Hefei",
        "other_moderator",
        "GET",
        "/w/{other_slug}/ideas/{other_idea_id}/attachments/{attachment_id}",
    ),
    Attempt(
        "downloads a Hefei file through a Porto idea",
        "member",
        "GET",
        "/w/{slug}/ideas/{idea_id}/attachments/{other_attachment_id}",
    ),
    Attempt(
        "removes a Hefei idea's file through their own idea",
        "author",
        "POST",
        "/w/{slug}/ideas/{idea_id}/attachments/{other_attachment_id}/delete",
    ),
    Attempt(
        "removes another's file",
        "member",
        "POST",
        "/w/{slug}/ideas/{idea_id}/attachments/{attachment_id}/delete",
        answer=403,
    ),
    # Comments and their moderation.
    Attempt(
        "hides a Porto comment through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/comments/{comment_id}/hide",
        {"reason": "x"},
    ),
    Attempt(
        "restores a Porto comment through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/comments/{hidden_comment_id}/restore",
        {"reason": "x"},
    ),
    Attempt(
        "restores a Hefei comment through Porto",
        "moderator",
        "POST",
        "/w/{slug}/comments/{other_comment_id}/restore",
        {"reason": "x"},
    ),
    Attempt(
        "reads a Porto comment through Hefei",
        "other_moderator",
        "GET",
        "/w/{other_slug}/comments/{comment_id}",
    ),
    Attempt(
        "edits another's comment",
        "member",
        "POST",
        "/w/{slug}/comments/{comment_id}/edit",
        {"body": "Mine"},
        403,
    ),
    Attempt(
        "edits their comment through Hefei",
        "author",
        "POST",
        "/w/{other_slug}/comments/{comment_id}/edit",
        {"body": "x"},
    ),
    Attempt(
        "reports a Hefei comment through Porto",
        "member",
        "POST",
        "/w/{slug}/comments/{other_comment_id}/report",
        {"reason": "spam"},
    ),
    Attempt(
        "asks for a review of another's hidden comment",
        "member",
        "POST",
        "/w/{slug}/comments/{hidden_comment_id}/review",
        {"note": "Please"},
        403,
        htmx=True,
    ),
    Attempt(
        "replies under a comment of a Hefei idea",
        "member",
        "POST",
        "/w/{slug}/ideas/{idea_id}/comments",
        lambda ids: {"body": "Reply", "parent_id": str(ids["other_comment_id"])},
        422,
    ),
    Attempt(
        "replies under a comment of a members-only idea",
        "member",
        "POST",
        "/w/{slug}/ideas/{idea_id}/comments",
        lambda ids: {"body": "Reply", "parent_id": str(ids["private_comment_id"])},
        422,
    ),
    Attempt(
        "decides a Porto case from Hefei's queue",
        "other_moderator",
        "POST",
        "/w/{other_slug}/moderation",
        lambda ids: {"action": "restore", "reason": "Mine", "case": [str(ids["case_id"])]},
        303,
    ),
    # Ideas' moderation: reports, hiding, restoring, locking and reviews.
    Attempt(
        "reports a Hefei idea through Porto",
        "member",
        "POST",
        "/w/{slug}/ideas/{other_idea_id}/report",
        {"reason": "spam", "note": "x"},
    ),
    Attempt(
        "reports a members-only idea through Porto",
        "member",
        "POST",
        "/w/{slug}/ideas/{private_idea_id}/report",
        {"reason": "spam"},
    ),
    Attempt(
        "hides a Porto idea through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ideas/{idea_id}/hide",
        {"reason": "x"},
    ),
    Attempt(
        "hides a Hefei idea through Porto",
        "moderator",
        "POST",
        "/w/{slug}/ideas/{other_idea_id}/hide",
        {"reason": "x"},
    ),
    Attempt(
        "restores a hidden Porto idea through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ideas/{hidden_idea_id}/restore",
        {"reason": "x"},
    ),
    Attempt(
        "reads a hidden Porto idea through Hefei",
        "other_moderator",
        "GET",
        "/w/{other_slug}/ideas/{hidden_idea_id}",
    ),
    Attempt(
        "locks a Porto idea through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ideas/{idea_id}/lock",
        {"reason": "x"},
    ),
    Attempt(
        "unlocks a Porto idea through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ideas/{locked_idea_id}/unlock",
    ),
    Attempt(
        "unlocks a members-only idea through Porto",
        "moderator",
        "POST",
        "/w/{slug}/ideas/{private_idea_id}/unlock",
    ),
    Attempt(
        "asks a review of their hidden idea through Hefei",
        "author",
        "POST",
        "/w/{other_slug}/ideas/{hidden_idea_id}/review",
        {"note": "x"},
    ),
    Attempt(
        "asks a review of another's hidden idea",
        "moderator",
        "POST",
        "/w/{slug}/ideas/{hidden_idea_id}/review",
        {"note": "Please"},
        403,
    ),
    Attempt(
        "asks a review of an idea that is not hidden",
        "author",
        "POST",
        "/w/{slug}/ideas/{idea_id}/review",
        {"note": "Please"},
    ),
    # Memberships.
    Attempt(
        "reports a Hefei member through Porto",
        "member",
        "POST",
        "/w/{slug}/members/{other_membership_id}/report",
        {"reason": "spam", "note": "x"},
    ),
    Attempt(
        "reports a Porto member through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/members/{member_membership_id}/report",
        {"reason": "spam", "note": "x"},
    ),
    Attempt(
        "warns a Porto member through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/members/{member_membership_id}/warn",
        {"reason": "x"},
    ),
    Attempt(
        "bans a Porto member through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/members/{member_membership_id}/ban",
        {"length": "forever", "reason": "x"},
    ),
    Attempt(
        "lifts a Porto ban through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/members/{banned_membership_id}/unban",
        {"reason": "x"},
    ),
    Attempt(
        "approves a Porto request through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/members/{pending_membership_id}/decide",
        {"decision": "approve"},
    ),
    Attempt(
        "makes a Porto member a moderator through Hefei",
        "facilitator",
        "POST",
        "/w/{other_slug}/members/{member_membership_id}/role",
        {"role": "moderator"},
    ),
    # Sessions, their agenda and their board.
    Attempt(
        "runs a Porto session through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/sessions/{session_id}/status",
        {"status": "closed"},
    ),
    Attempt(
        "reads a Porto attendance list through Hefei",
        "other_moderator",
        "GET",
        "/w/{other_slug}/sessions/{session_id}/attendance",
    ),
    Attempt(
        "writes Porto minutes through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/sessions/{session_id}/minutes",
        {"minutes": "x"},
    ),
    Attempt(
        "edits a Porto session through Hefei",
        "other_moderator",
        "GET",
        "/w/{other_slug}/sessions/{session_id}/edit",
    ),
    Attempt(
        "moves Hefei's room to a Porto agenda item",
        "other_moderator",
        "POST",
        "/w/{other_slug}/sessions/{other_session_id}/live/agenda",
        lambda ids: {"item_id": str(ids["agenda_item_id"])},
        422,
        htmx=True,
    ),
    Attempt(
        "links a Hefei idea in Porto's minutes",
        "moderator",
        "POST",
        "/w/{slug}/sessions/{session_id}/minutes",
        lambda ids: {"minutes": "x", "idea_ids": [str(ids["other_idea_id"])]},
        422,
    ),
    Attempt(
        "marks someone without a place present",
        "moderator",
        "POST",
        "/w/{slug}/sessions/{session_id}/attendance",
        lambda ids: {"present": ["999999"]},
        303,
    ),
    Attempt(
        "supports a members-only idea in Porto's room",
        "member",
        "POST",
        "/w/{slug}/sessions/{session_id}/live/ideas/{private_idea_id}/support",
    ),
    Attempt(
        "supports a Porto idea that is not on the room's board",
        "member",
        "POST",
        "/w/{slug}/sessions/{other_session_id}/live/ideas/{board_idea_id}/support",
    ),
    Attempt("reads a draft session of Porto", "member", "GET", "/w/{slug}/sessions/{draft_session_id}"),
    # Ballots and their options.
    Attempt(
        "closes a Porto ballot through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ballots/{ballot_id}/close",
    ),
    Attempt(
        "votes on a Porto ballot through Hefei",
        "other_moderator",
        "POST",
        "/w/{other_slug}/ballots/{ballot_id}/vote",
        consent("ballot_options"),
    ),
    Attempt(
        "reads Porto papers through Hefei",
        "other_moderator",
        "GET",
        "/w/{other_slug}/ballots/{closed_ballot_id}/papers.csv",
    ),
    Attempt(
        "votes with the options of another ballot",
        "member",
        "POST",
        "/w/{slug}/ballots/{ballot_id}/vote",
        consent("other_ballot_options"),
        422,
    ),
    Attempt(
        "votes through the API on a Hefei ballot",
        "member",
        "POST",
        "/api/v1/ballots/{other_ballot_id}/vote",
        consent("other_ballot_options"),
        403,
    ),
    Attempt(
        "votes through the API on a members-only ballot",
        "member",
        "POST",
        "/api/v1/ballots/{private_ballot_id}/vote",
        consent("private_ballot_options"),
    ),
    Attempt(
        "puts Hefei ideas on a Porto ballot",
        "moderator",
        "POST",
        "/w/{slug}/ballots/new",
        lambda ids: {
            "question": "Q",
            "method": "single",
            "idea_ids": [str(ids["other_idea_id"])],
            "options_text": "A\nB",
        },
        422,
    ),
    Attempt(
        "puts a Porto ballot in a Hefei session",
        "moderator",
        "POST",
        "/w/{slug}/ballots/new",
        lambda ids: {
            "question": "Q",
            "method": "single",
            "options_text": "A\nB",
            "session_id": str(ids["other_session_id"]),
        },
    ),
    Attempt(
        "opens a ballot form for a Hefei session",
        "moderator",
        "GET",
        "/w/{slug}/ballots/new?session_id={other_session_id}",
    ),
    # Accounts, by an admin: one that does not exist.
    Attempt("opens an account that does not exist", "admin", "GET", "/admin/users/999999"),
    Attempt(
        "changes the role of an account that does not exist",
        "admin",
        "POST",
        "/admin/users/999999/role",
        {"role": "facilitator", "reason": "x"},
    ),
    Attempt(
        "disables an account that does not exist",
        "admin",
        "POST",
        "/admin/users/999999/disable",
        {"reason": "x"},
    ),
    Attempt(
        "enables an account that does not exist",
        "admin",
        "POST",
        "/admin/users/999999/enable",
        {"reason": "x"},
    ),
    Attempt(
        "changes their own role",
        "admin",
        "POST",
        "/admin/users/{admin_user_id}/role",
        {"role": "citizen", "reason": "x"},
        403,
    ),
    Attempt(
        "disables their own account",
        "admin",
        "POST",
        "/admin/users/{admin_user_id}/disable",
        {"reason": "x"},
        403,
    ),
    # What is someone's own.
    Attempt("marks another's notification read", "member", "POST", "/notifications/{notification_id}/read"),
    Attempt(
        "ends their other devices' sessions", "member", "POST", "/profile/sessions/end-others", answer=303
    ),
    Attempt(
        "joins an organisation that is not listed",
        "member",
        "POST",
        "/profile",
        {"display_name": "Mia", "locale": "en", "time_zone": "UTC", "organisation_id": "999999"},
        422,
    ),
    Attempt(
        "opens a workspace for a city that does not exist",
        "facilitator",
        "POST",
        "/workspaces/new",
        {"title_en": "Nowhere", "visibility": "public", "join_policy": "open", "city_ids": ["999999"]},
        422,
    ),
]


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[attempt.what for attempt in ATTEMPTS])
async def test_another_workspace_or_persons_id_is_refused_and_nothing_changes(world, baseline, attempt):
    form = attempt.form(world.ids) if callable(attempt.form) else attempt.form
    headers = {"HX-Request": "true"} if attempt.htmx else {}
    async with world.savepoint():
        if attempt.method == "GET":
            response = await world.get(attempt.role, attempt.path, headers=headers)
        else:
            response = await world.post(attempt.role, attempt.path, form, headers=headers)
        assert response.status_code == attempt.answer, response.headers.get("location", "")
        assert await world.fingerprint() == baseline


async def test_downloading_or_deleting_with_another_persons_id_acts_on_ones_own_account_only(world):
    """/profile/data and /profile/delete take no id: one given in the form or the address is ignored."""
    author = world.users["author"]
    other = {"user_id": str(author.id), "id": str(author.id), "email": author.email}
    async with world.savepoint():
        response = await world.post("member", f"/profile/data?{urlencode(other)}", other)
        assert response.status_code == 200
        exported = zipfile.ZipFile(io.BytesIO(response.content)).read("data.json").decode()
        assert world.users["member"].email in exported and author.email not in exported
        assert author.display_name not in exported
        deleted = await world.post(
            "member", f"/profile/delete?{urlencode(other)}", {**other, "password": PASSWORD}
        )
        assert deleted.status_code == 303
        assert await world.session.get(User, world.users["member"].id, populate_existing=True) is None
        assert await world.session.get(User, author.id, populate_existing=True) is not None

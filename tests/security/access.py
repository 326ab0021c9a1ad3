"""Who gets what from every route of the app: one row per route (method and path), one column per
role, each cell the answer that role gets. tests/security/test_access.py requests every cell against
the world of tests/security/world.py and fails on any route of the app missing here (and on any row
whose route is gone).

The roles: ``anon`` (not logged in), ``citizen`` (in no workspace), ``member`` (of Porto's workspace),
``author`` (the member who wrote Porto's idea, its comments and its files), ``mod`` (a moderator of
Porto), ``other_mod`` (a moderator of Hefei's workspace only), ``facil`` (a facilitator) and ``admin``.
Porto's workspace is public and asks moderators to approve who joins; ``{private_slug}`` is Shenzhen's
members-only workspace, which none of the roles is a member of.

The answers: a status code; ``login`` is a redirect to the login page (for htmx, a 204 with
``HX-Redirect`` there), and ``stream`` an event stream that opened (200). A path's ``{name}`` is an id
of the world (``World.ids``). ``GET/hx`` is a request htmx makes for a fragment.

Adding a route is one row here, and when it takes a form, one entry in ``FORMS`` (the form a user
allowed to use it would send; a refused one sends the same). A 303 may be a refusal too: plain forms
come back to their page with a message (joining twice, reporting twice, asking a review of another's
comment); the htmx variants answer those with a status.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.conftest import PASSWORD
from tests.security.world import ROLES, local_time

COLUMNS = ("anon", "citizen", "member", "author", "mod", "other_mod", "facil", "admin")
ROLE_OF_COLUMN = dict(zip(COLUMNS, ROLES, strict=True))

TABLE = """
method  path                                                           anon  citizen member author mod other_mod facil admin
GET     /                                                              200   200     200    200    200 200       200   200
GET     /healthz                                                       200   200     200    200    200 200       200   200
GET     /openapi.json                                                  200   200     200    200    200 200       200   200
GET     /static/{asset}                                                200   200     200    200    200 200       200   200
GET     /network                                                       200   200     200    200    200 200       200   200
GET     /places/search                                                 login 404     404    404    404 404       404   404
GET     /admin/cities/import                                           login 403     403    403    403 403       403   200
POST    /admin/cities/import                                           login 403     403    403    403 403       403   422
GET     /admin/users                                                   login 403     403    403    403 403       403   200
GET     /admin/users/{account_user_id}                                 login 403     403    403    403 403       403   200
POST    /admin/users/{account_user_id}/role                            login 403     403    403    403 403       403   303
POST    /admin/users/{account_user_id}/disable                         login 403     403    403    403 403       403   303
POST    /admin/users/{disabled_user_id}/enable                         login 403     403    403    403 403       403   303
GET     /privacy                                                       200   200     200    200    200 200       200   200

GET     /register                                                      200   303     303    303    303 303       303   303
POST    /register                                                      422   422     422    422    422 422       422   422
GET     /login                                                         200   303     303    303    303 303       303   303
POST    /login                                                         422   422     422    422    422 422       422   422
POST    /logout                                                        303   303     303    303    303 303       303   303
GET     /profile                                                       login 200     200    200    200 200       200   200
POST    /profile                                                       login 303     303    303    303 303       303   303
POST    /profile/password                                              login 422     422    422    422 422       422   422
POST    /profile/sessions/end-others                                   login 303     303    303    303 303       303   303
POST    /profile/data                                                  login 200     200    200    200 200       200   200
GET     /profile/delete                                                login 200     200    200    200 200       200   200
POST    /profile/delete                                                login 303     303    303    303 303       303   409
POST    /language                                                      303   303     303    303    303 303       303   303

GET     /workspaces                                                    200   200     200    200    200 200       200   200
GET     /workspaces/new                                                login 403     403    403    403 403       200   200
POST    /workspaces/new                                                login 403     403    403    403 403       303   303
GET     /w/{slug}                                                      200   200     200    200    200 200       200   200
GET     /w/{private_slug}                                              404   404     404    404    404 404       200   200
GET     /w/{slug}/edit                                                 login 403     403    403    403 403       200   200
POST    /w/{slug}/edit                                                 login 403     403    403    403 403       303   303
POST    /w/{slug}/join                                                 login 303     303    303    303 303       303   303
POST    /w/{private_slug}/join                                         404   404     404    404    404 404       303   303
POST    /w/{slug}/leave                                                login 303     303    303    303 303       303   303
GET     /w/{slug}/members                                              200   200     200    200    200 200       200   200
POST    /w/{slug}/members/{pending_membership_id}/decide               login 403     403    403    303 403       303   303
POST    /w/{slug}/members/{member_membership_id}/role                  login 403     403    403    403 403       303   303
POST    /w/{slug}/archive                                              login 403     403    403    403 403       303   303

GET     /w/{slug}/ideas/new                                            login 403     200    200    200 403       200   200
POST    /w/{slug}/ideas/new                                            login 403     303    303    303 403       303   303
GET     /w/{slug}/ideas/{idea_id}                                      200   200     200    200    200 200       200   200
GET     /w/{private_slug}/ideas/{private_idea_id}                      404   404     404    404    404 404       200   200
GET     /w/{slug}/ideas/{idea_id}/edit                                 login 403     403    200    403 403       403   403
POST    /w/{slug}/ideas/{idea_id}/edit                                 login 403     403    303    403 403       403   403
POST    /w/{slug}/ideas/{idea_id}/status                               login 403     403    403    303 403       303   303
POST    /w/{slug}/ideas/{idea_id}/support                              login 403     303    303    303 403       303   303
POST/hx /w/{slug}/ideas/{idea_id}/support                              login 403     200    200    200 403       200   200
POST    /w/{slug}/ideas/{idea_id}/follow                               login 303     303    303    303 303       303   303
POST    /w/{slug}/ideas/{idea_id}/report                               login 403     303    403    303 403       303   303
POST    /w/{slug}/ideas/{idea_id}/hide                                 login 403     403    403    303 403       303   303
POST    /w/{slug}/ideas/{idea_id}/lock                                 login 403     403    403    303 403       303   303
POST    /w/{slug}/ideas/{locked_idea_id}/unlock                        login 403     403    403    303 403       303   303
GET     /w/{slug}/ideas/{hidden_idea_id}                               404   404     404    200    200 404       200   200
GET/hx  /w/{slug}/ideas/{hidden_idea_id}/comments                      404   404     404    200    200 404       200   200
GET     /w/{slug}/ideas/{hidden_idea_id}/attachments/{hidden_attachment_id} 404 404 404   200    200 404       200   200
GET/hx  /w/{slug}/comments/{hidden_idea_comment_id}                    404   404     404    200    200 404       200   200
POST    /w/{slug}/ideas/{hidden_idea_id}/comments                      404   404     404    409    409 404       409   409
POST    /w/{slug}/ideas/{hidden_idea_id}/support                       404   404     404    403    403 404       403   403
POST    /w/{slug}/ideas/{hidden_idea_id}/follow                        login 404     404    303    303 404       303   303
POST    /w/{slug}/ideas/{locked_idea_id}/comments                      login 403     409    409    409 403       409   409
POST    /w/{slug}/ideas/{hidden_idea_id}/restore                       404   404     404    403    303 404       303   303
POST    /w/{slug}/ideas/{hidden_idea_id}/review                        404   404     404    303    403 404       403   403
GET     /w/{slug}/ideas/{idea_id}/attachments/{attachment_id}          200   200     200    200    200 200       200   200
POST    /w/{slug}/ideas/{idea_id}/attachments/{attachment_id}/delete   login 403     403    303    403 403       403   403

POST    /w/{slug}/ideas/{idea_id}/comments                             login 403     303    303    303 403       303   303
GET     /w/{slug}/ideas/{idea_id}/comments                             303   303     303    303    303 303       303   303
GET/hx  /w/{slug}/ideas/{idea_id}/comments                             200   200     200    200    200 200       200   200
GET     /w/{slug}/comments/{comment_id}                                303   303     303    303    303 303       303   303
GET/hx  /w/{slug}/comments/{comment_id}                                200   200     200    200    200 200       200   200
GET     /w/{slug}/comments/{comment_id}/edit                           login 403     403    200    403 403       403   403
POST    /w/{slug}/comments/{comment_id}/edit                           login 403     403    303    403 403       403   403
POST    /w/{slug}/comments/{comment_id}/report                         login 403     303    403    303 403       303   303
POST    /w/{slug}/comments/{comment_id}/hide                           login 403     403    403    303 403       303   303
POST    /w/{slug}/comments/{hidden_comment_id}/restore                 login 403     403    403    303 403       303   303
POST    /w/{slug}/comments/{hidden_comment_id}/review                  login 303     303    303    303 303       303   303
POST/hx /w/{slug}/comments/{hidden_comment_id}/review                  login 403     403    409    403 403       403   403

GET     /w/{slug}/moderation                                           login 403     403    403    200 403       200   200
POST    /w/{slug}/moderation                                           login 403     403    403    303 403       303   303
POST    /w/{slug}/moderation/threshold                                 login 403     403    403    303 403       303   303
GET     /moderation                                                    login 403     403    403    200 200       200   200
POST    /moderation                                                    login 403     403    403    303 303       303   303
POST    /w/{slug}/members/{author_membership_id}/warn                  login 403     403    403    303 403       303   303
POST    /w/{slug}/members/{author_membership_id}/ban                   login 403     403    403    303 403       303   303
POST    /w/{slug}/members/{banned_membership_id}/unban                 login 403     403    403    303 403       303   303
POST    /w/{slug}/members/{author_membership_id}/report                login 403     303    403    303 403       303   303
GET     /audit                                                         login 403     403    403    403 403       200   200
GET     /audit.csv                                                     login 403     403    403    403 403       200   200

GET     /topics/seed                                                   login 403     403    403    403 403       200   200
POST    /topics/seed                                                   login 403     403    403    403 403       303   303
GET     /topics/seeds/{seed_id}                                        login 403     403    403    403 403       200   200

GET     /notifications                                                 login 200     200    200    200 200       200   200
POST    /notifications/read-all                                        login 303     303    303    303 303       303   303
POST    /notifications/{notification_id}/read                          login 404     404    303    404 404       404   404
POST    /w/{slug}/follow                                               login 303     303    303    303 303       303   303

GET     /search                                                        200   200     200    200    200 200       200   200
GET     /w/{slug}/search                                               200   200     200    200    200 200       200   200
GET     /w/{private_slug}/search                                       404   404     404    404    404 404       200   200
GET     /w/{slug}/map                                                  200   200     200    200    200 200       200   200
GET     /w/{private_slug}/map                                          404   404     404    404    404 404       200   200

GET     /w/{slug}/sessions                                             200   200     200    200    200 200       200   200
GET     /w/{slug}/sessions.ics                                         200   200     200    200    200 200       200   200
GET     /w/{slug}/sessions/new                                         login 403     403    403    200 403       200   200
POST    /w/{slug}/sessions/new                                         login 403     403    403    303 403       303   303
GET     /w/{slug}/sessions/{session_id}                                200   200     200    200    200 200       200   200
GET     /w/{slug}/sessions/{draft_session_id}                          404   404     404    404    200 404       200   200
GET     /w/{slug}/sessions/{session_id}/edit                           login 403     403    403    200 403       200   200
POST    /w/{slug}/sessions/{session_id}/edit                           login 403     403    403    303 403       303   303
GET     /w/{slug}/sessions/{session_id}/session.ics                    200   200     200    200    200 200       200   200
POST    /w/{slug}/sessions/{session_id}/register                       login 403     422    303    303 403       303   303
POST    /w/{slug}/sessions/{session_id}/cancel                         login 422     303    422    422 422       422   422
POST    /w/{slug}/sessions/{session_id}/status                         login 403     403    403    303 403       303   303
GET     /w/{slug}/sessions/{session_id}/attendance                     login 403     403    403    200 403       200   200
POST    /w/{slug}/sessions/{session_id}/attendance                     login 403     403    403    303 403       303   303
GET     /w/{slug}/sessions/{session_id}/minutes                        login 403     403    403    200 403       200   200
POST    /w/{slug}/sessions/{session_id}/minutes                        login 403     403    403    303 403       303   303
GET     /w/{slug}/sessions/{session_id}/live                           200   200     200    200    200 200       200   200
GET     /w/{slug}/sessions/{session_id}/live/events                    stream stream stream stream stream stream stream stream
POST    /w/{slug}/sessions/{session_id}/live/agenda                    login 403     403    403    303 403       303   303
POST    /w/{slug}/sessions/{session_id}/live/ideas                     login 403     303    303    303 403       303   303
POST    /w/{slug}/sessions/{session_id}/live/ideas/{board_idea_id}/support login 403 303    303    303 403       303   303

GET     /w/{slug}/ballots                                              200   200     200    200    200 200       200   200
GET     /w/{slug}/ballots/new                                          login 403     403    403    200 403       200   200
POST    /w/{slug}/ballots/new                                          login 403     403    403    303 403       303   303
GET     /w/{slug}/ballots/{ballot_id}                                  200   200     200    200    200 200       200   200
POST    /w/{slug}/ballots/{ballot_id}/vote                             login 403     303    303    303 403       303   303
POST    /api/v1/ballots/{ballot_id}/vote                               401   403     201    201    201 403       201   201
POST    /api/v1/ballots/{private_ballot_id}/vote                       401   404     404    404    404 404       201   201
POST    /w/{slug}/ballots/{ballot_id}/close                            login 403     403    403    303 403       303   303
GET     /w/{slug}/ballots/{ballot_id}/results.csv                      200   200     200    200    200 200       200   200
GET     /w/{slug}/ballots/{closed_ballot_id}/papers.csv                200   200     200    200    200 200       200   200
"""


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    answers: dict[str, str]
    htmx: bool = False

    @property
    def key(self) -> str:
        return f"{self.method}{'/hx' if self.htmx else ''} {self.path}"


def rows() -> list[Row]:
    lines = [line.split() for line in TABLE.strip().splitlines() if line.strip()]
    header, body = lines[0], lines[1:]
    assert header[2:] == list(COLUMNS), header
    parsed = []
    for cells in body:
        method, path, answers = cells[0], cells[1], cells[2:]
        assert len(answers) == len(COLUMNS), f"{method} {path}: {len(answers)} answers"
        parsed.append(
            Row(
                method.removesuffix("/hx"),
                path,
                dict(zip(COLUMNS, answers, strict=True)),
                method.endswith("/hx"),
            )
        )
    return parsed


def _later(days: int) -> str:
    return local_time(datetime.now(UTC) + timedelta(days=days))


def _session_form(ids) -> dict:
    now = datetime.now(UTC)
    return {
        "title": "Walk along the river",
        "phase": "co-diagnostic",
        "mode": "in-person",
        "place_name": "The old mill",
        "time_zone": "UTC",
        "starts_at": local_time(now + timedelta(days=1)),
        "ends_at": local_time(now + timedelta(days=1, hours=2)),
        "capacity": "10",
    }


def _agree(option_ids: list[int]) -> dict:
    return {f"consent-{option}": "agree" for option in option_ids}


# What a user allowed to use a route sends: ``ids`` are the world's (``World.ids``).
FORMS: dict[str, Callable[[dict], dict]] = {
    "POST /register": lambda ids: {"email": "new@example.org", "display_name": "New", "password": ""},
    "POST /login": lambda ids: {"email": ids["member_email"], "password": "not the password"},
    "POST /profile": lambda ids: {"display_name": "Renamed", "locale": "en", "time_zone": "UTC"},
    "POST /profile/password": lambda ids: {
        "current_password": "not the password",
        "new_password": "a longer walk in the park",
        "confirm_password": "a longer walk in the park",
    },
    "POST /profile/delete": lambda ids: {"password": PASSWORD},
    "POST /admin/users/{account_user_id}/role": lambda ids: {
        "role": "citizen",
        "reason": "Back to taking part",
    },
    "POST /admin/users/{account_user_id}/disable": lambda ids: {"reason": "Sends spam"},
    "POST /admin/users/{disabled_user_id}/enable": lambda ids: {"reason": "Sorted out"},
    "POST /language": lambda ids: {"language": "zh", "next": "/network"},
    "POST /workspaces/new": lambda ids: {
        "title_en": "Lisbon",
        "visibility": "public",
        "join_policy": "open",
        "city_ids": [str(ids["porto_city_id"])],
    },
    "POST /w/{slug}/edit": lambda ids: {
        "title_en": "Porto renamed",
        "visibility": "public",
        "join_policy": "open",
        "city_ids": [str(ids["porto_city_id"])],
    },
    "POST /w/{slug}/join": lambda ids: {"message": "Let me in"},
    "POST /w/{private_slug}/join": lambda ids: {"message": "Let me in"},
    "POST /w/{slug}/members/{pending_membership_id}/decide": lambda ids: {"decision": "approve"},
    "POST /w/{slug}/members/{member_membership_id}/role": lambda ids: {"role": "moderator"},
    "POST /w/{slug}/archive": lambda ids: {"archived": "1"},
    "POST /w/{slug}/ideas/new": lambda ids: {"title": "Rain gardens", "body": "Along the school."},
    "POST /w/{slug}/ideas/{idea_id}/edit": lambda ids: {"title": "Rain gardens, again", "body": "Edited."},
    "POST /w/{slug}/ideas/{idea_id}/status": lambda ids: {"status": "selected", "note": "Chosen."},
    "POST /w/{slug}/ideas/{idea_id}/comments": lambda ids: {"body": "A comment"},
    "POST /w/{slug}/comments/{comment_id}/edit": lambda ids: {"body": "Edited comment"},
    "POST /w/{slug}/comments/{comment_id}/report": lambda ids: {"reason": "spam", "note": "Adverts"},
    "POST /w/{slug}/comments/{comment_id}/hide": lambda ids: {"reason": "Off topic here"},
    "POST /w/{slug}/comments/{hidden_comment_id}/restore": lambda ids: {"reason": "Fine after all"},
    "POST /w/{slug}/comments/{hidden_comment_id}/review": lambda ids: {"note": "Please look again"},
    "POST /w/{slug}/ideas/{idea_id}/report": lambda ids: {"reason": "spam", "note": "Adverts"},
    "POST /w/{slug}/ideas/{idea_id}/hide": lambda ids: {"reason": "Off topic here"},
    "POST /w/{slug}/ideas/{idea_id}/lock": lambda ids: {"reason": "Going round in circles"},
    "POST /w/{slug}/ideas/{hidden_idea_id}/restore": lambda ids: {"reason": "Fine after all"},
    "POST /w/{slug}/ideas/{hidden_idea_id}/review": lambda ids: {"note": "I took the adverts out"},
    "POST /w/{slug}/members/{author_membership_id}/report": lambda ids: {"reason": "spam", "note": "Adverts"},
    "POST /w/{slug}/moderation": lambda ids: {
        "action": "restore",
        "reason": "Fine after all",
        "case": [str(ids["case_id"])],
    },
    "POST /w/{slug}/moderation/threshold": lambda ids: {"threshold": "5"},
    "POST /moderation": lambda ids: {"action": "restore", "reason": "Fine", "case": [str(ids["case_id"])]},
    "POST /w/{slug}/members/{author_membership_id}/warn": lambda ids: {"reason": "Mind your words"},
    "POST /w/{slug}/members/{author_membership_id}/ban": lambda ids: {"length": "1", "reason": "Spam"},
    "POST /w/{slug}/members/{banned_membership_id}/unban": lambda ids: {"reason": "Served"},
    "POST /topics/seed": lambda ids: {
        "title": "Shade",
        "phase": "co-design",
        "workspace_ids": [str(ids["porto_id"])],
    },
    "POST /w/{slug}/sessions/new": _session_form,
    "POST /w/{slug}/sessions/{session_id}/edit": lambda ids: {
        **_session_form(ids),
        "starts_at": _later(-1),
        "ends_at": _later(1),
    },
    "POST /w/{slug}/sessions/{session_id}/status": lambda ids: {"status": "closed"},
    "POST /w/{slug}/sessions/{session_id}/attendance": lambda ids: {"present": [str(ids["member_id"])]},
    "POST /w/{slug}/sessions/{session_id}/minutes": lambda ids: {
        "minutes": "We met.",
        "outcomes": "Two ideas.",
    },
    "POST /w/{slug}/sessions/{session_id}/live/agenda": lambda ids: {"item_id": str(ids["agenda_item_id"])},
    "POST /w/{slug}/sessions/{session_id}/live/ideas": lambda ids: {"title": "Benches in the shade"},
    "POST /w/{slug}/ballots/new": lambda ids: {
        "question": "Which first?",
        "method": "single",
        "options_text": "Trees\nPonds",
        "closes_at": _later(3),
        "results_visibility": "live",
        "eligibility": "members",
    },
    "POST /w/{slug}/ballots/{ballot_id}/vote": lambda ids: _agree(ids["ballot_options"]),
    "POST /api/v1/ballots/{ballot_id}/vote": lambda ids: _agree(ids["ballot_options"]),
    "POST /api/v1/ballots/{private_ballot_id}/vote": lambda ids: _agree(ids["private_ballot_options"]),
}

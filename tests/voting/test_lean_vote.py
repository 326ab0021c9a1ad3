"""The vote API's lean route (``app.voting.api``): an ordinary route of the stack that looks up who is
signed in together with the ballot and the voter's standing, in one statement, then stores the paper in
another. These tests run on both databases and pin down what a voter sees: the same answers as any
route gives (security headers, the voter's language, CSRF, NUL characters, ended sign-ins, limits)."""

import contextlib
from datetime import timedelta

from sqlmodel import select, update
from starlette.requests import ClientDisconnect

from app.accounts import service as account_service
from app.accounts.models import AuthSession, User
from app.core.db import utcnow
from app.voting import service as voting_service
from app.voting.models import Vote
from app.workspaces import service as workspace_service
from tests.conftest import TEST_DATABASE_URL, csrf_token, http_scope, log_in, make_user
from tests.voting.test_api import api_vote
from tests.voting.test_routes import make_ballot, member_of, option_ids, workshop

ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgresql")


async def papers(session) -> list[Vote]:
    return list((await session.exec(select(Vote))).all())


async def voter_on_a_ballot(client, session, porto, facilitator):
    """A single-choice ballot, its first option, and a member signed in on ``client`` with its token."""
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    await log_in(client, voter)
    return ballot, first, voter, await csrf_token(client)


async def vote_with(client, ballot, option: int, token: str):
    return await client.post(
        f"/api/v1/ballots/{ballot.id}/vote", data={"option": str(option)}, headers={"X-CSRF-Token": token}
    )


async def test_a_vote_costs_two_statements(client, session, porto, facilitator, query_counter):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, second, _ = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    await log_in(client, voter)
    token = await csrf_token(client)
    before = query_counter.count
    answer = await vote_with(client, ballot, first, token)
    assert answer.status_code == 201 and answer.json() == {"first": True}
    # the sign-in, the ballot and the voter's standing in one; the paper in the other
    assert len(query_counter.since(before)) == 2, query_counter.since(before)
    before = query_counter.count
    changed = await vote_with(client, ballot, second, token)
    assert changed.status_code == 200 and changed.json() == {"first": False}
    assert len(query_counter.since(before)) == 2, query_counter.since(before)
    [paper] = await papers(session)
    assert paper.choices == {"options": [second]} and paper.voter_id == voter.id


async def test_the_answer_carries_the_security_headers(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    answer = await api_vote(client, ballot.id, {"option": str(first)})
    assert answer.status_code == 201
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in answer.headers["content-security-policy"]


async def test_a_refusal_speaks_the_voters_language(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="approval", max_choices="1")
    first, second, _ = await option_ids(session, ballot)
    voter = await make_user(session, locale="zh")
    await workspace_service.join(session=session, workspace=porto, user=voter)
    await log_in(client, voter)
    token = await csrf_token(client)
    answer = await client.post(
        f"/api/v1/ballots/{ballot.id}/vote",
        data={"option": [str(first), str(second)]},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert "1" in detail and any("\u4e00" <= char <= "\u9fff" for char in detail), detail
    assert await papers(session) == []


async def test_the_token_may_come_as_a_field_and_a_wrong_one_is_refused(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    token = await csrf_token(client)
    url = f"/api/v1/ballots/{ballot.id}/vote"
    wrong = await client.post(url, data={"option": str(first)}, headers={"X-CSRF-Token": token[::-1]})
    assert wrong.status_code == 403 and await papers(session) == []
    as_field = await client.post(url, data={"option": str(first), "csrf_token": token})
    assert as_field.status_code == 201 and len(await papers(session)) == 1


async def test_a_nul_character_is_refused_and_nothing_is_stored(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    answer = await api_vote(client, ballot.id, {"option": f"{first}\x00"})
    assert answer.status_code == 422 and await papers(session) == []


async def test_an_ended_sign_in_is_refused_and_its_cookie_cleared(client, session, porto, facilitator):
    ballot, first, voter, token = await voter_on_a_ballot(client, session, porto, facilitator)
    await session.exec(update(AuthSession).where(AuthSession.user_id == voter.id).values(revoked_at=utcnow()))
    await session.commit()
    answer = await vote_with(client, ballot, first, token)
    # the token belonged to the ended sign-in: the form has expired
    assert answer.status_code == 403 and answer.json()["detail"].startswith("Your form expired")
    assert (
        "cocreate_session=;" in answer.headers["set-cookie"] and "Max-Age=0" in answer.headers["set-cookie"]
    )
    assert await papers(session) == []


async def test_a_disabled_account_cannot_vote(client, session, porto, facilitator):
    ballot, first, voter, token = await voter_on_a_ballot(client, session, porto, facilitator)
    await session.exec(update(User).where(User.id == voter.id).values(is_active=False))
    await session.commit()
    answer = await vote_with(client, ballot, first, token)
    assert answer.status_code == 403 and await papers(session) == []


async def test_a_vote_moves_the_sign_ins_idle_clock_on(client, session, porto, facilitator):
    ballot, first, voter, token = await voter_on_a_ballot(client, session, porto, facilitator)
    long_ago = utcnow() - account_service.TOUCH_INTERVAL - timedelta(minutes=5)
    await session.exec(
        update(AuthSession).where(AuthSession.user_id == voter.id).values(last_seen_at=long_ago)
    )
    await session.commit()
    answer = await vote_with(client, ballot, first, token)
    assert answer.status_code == 201
    seen = (await session.exec(select(AuthSession.last_seen_at).where(AuthSession.user_id == voter.id))).one()
    assert seen > long_ago + timedelta(minutes=4)


async def test_an_anonymous_ballot_keeps_no_voter(client, session, porto, facilitator):
    ballot = await make_ballot(
        session, porto, facilitator, method="single", anonymous=True, results_visibility="after-close"
    )
    first, *_ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    assert (await api_vote(client, ballot.id, {"option": str(first)})).status_code == 201
    [paper] = await papers(session)
    assert paper.voter_id is None and paper.choices == {"options": [first]}


async def test_a_ballot_closed_early_takes_no_more_votes(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    await voting_service.close_early(session=session, ballot=ballot)
    answer = await api_vote(client, ballot.id, {"option": str(first)})
    assert answer.status_code == 422 and answer.json() == {"detail": "This ballot is closed."}
    assert await papers(session) == []


async def test_other_ways_in_reach_the_route(client, session, porto, facilitator):
    """A multipart form, a query string and a too large body are the route's; the votes count the same."""
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, second, _ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    token = await csrf_token(client)
    url = f"/api/v1/ballots/{ballot.id}/vote"
    multipart = await client.post(url, files={"option": (None, str(first))}, headers={"X-CSRF-Token": token})
    assert multipart.status_code == 201
    with_query = await client.post(
        f"{url}?from=kiosk", data={"option": str(second)}, headers={"X-CSRF-Token": token}
    )
    assert with_query.status_code == 200 and with_query.json() == {"first": False}
    too_large = await client.post(
        url,
        content=b"option=" + b"1" * (3 * 1024 * 1024),
        headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert too_large.status_code == 413
    [paper] = await papers(session)
    assert paper.choices == {"options": [second]}


async def test_a_sessions_ballot_through_the_api_counts_among_its_attendees(
    client, session, porto, facilitator
):
    draft = await workshop(session, porto, facilitator)
    ballot = await make_ballot(
        session, porto, facilitator, cs=draft, method="single", eligibility="attendees"
    )
    first, *_ = await option_ids(session, ballot)
    await log_in(client, facilitator)
    # a draft session's ballot: its moderators see it; a facilitator is not registered, so may not vote
    answer = await api_vote(client, ballot.id, {"option": str(first)})
    assert answer.status_code == 403
    assert answer.json()["detail"] == "You are not among the people who may vote on this ballot."
    assert await papers(session) == []


async def test_an_empty_token_header_is_the_token_sent(client, session, porto, facilitator):
    """As for every form: the header, when there is one, is the token, even with the field filled in."""
    ballot, first, _voter, token = await voter_on_a_ballot(client, session, porto, facilitator)
    answer = await client.post(
        f"/api/v1/ballots/{ballot.id}/vote",
        data={"option": str(first), "csrf_token": token},
        headers={"X-CSRF-Token": ""},
    )
    assert answer.status_code == 403 and await papers(session) == []


async def test_a_body_of_another_type_is_not_read_as_the_form(client, session, porto, facilitator):
    ballot, first, _voter, token = await voter_on_a_ballot(client, session, porto, facilitator)
    answer = await client.post(
        f"/api/v1/ballots/{ballot.id}/vote",
        content=f"option={first}".encode(),
        headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencodedX"},
    )
    assert answer.status_code == 422 and answer.json() == {"detail": "Choose one option."}
    assert await papers(session) == []


async def test_a_voter_gone_before_the_whole_form_arrived_stores_nothing(
    app, client, session, porto, facilitator
):
    """``option=12`` cut to ``option=1`` would be another option: a cut-off form is no vote."""
    ballot, first, _voter, token = await voter_on_a_ballot(client, session, porto, facilitator)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    messages = iter(
        [
            {"type": "http.request", "body": f"option={first}".encode(), "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message)

    scope = http_scope(
        "POST",
        f"/api/v1/ballots/{ballot.id}/vote",
        headers=[
            (b"cookie", cookie.encode()),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"x-csrf-token", token.encode()),
        ],
    )
    with contextlib.suppress(ClientDisconnect):  # the route's form parser raises it; uvicorn drops it
        await app(scope, receive, send)
    assert await papers(session) == []
    assert not any(message["type"] == "http.response.start" and message["status"] < 300 for message in sent)


async def test_a_token_that_is_not_plain_text_is_refused_not_a_server_error(
    client, session, porto, facilitator
):
    ballot, first, _voter, _token = await voter_on_a_ballot(client, session, porto, facilitator)
    url = f"/api/v1/ballots/{ballot.id}/vote"
    in_header = await client.post(
        url, data={"option": str(first)}, headers={"X-CSRF-Token": "t\u00f6ken".encode("latin-1")}
    )
    in_field = await client.post(url, data={"option": str(first), "csrf_token": "\u4ee4\u724c"})
    assert in_header.status_code == 403 and in_field.status_code == 403
    assert await papers(session) == []


async def test_a_vote_through_the_ballot_page_reads_its_options_once(
    client, session, porto, facilitator, query_counter
):
    """The page's form is lean too: the sign-in and the voter's standing in one statement, the paper in
    another, and the ballot's options from the process's memory after the first vote."""
    ballot = await make_ballot(session, porto, facilitator, method="single", results_visibility="after-close")
    first, second, _ = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    await log_in(client, voter)
    token = await csrf_token(client)
    url = f"/w/{porto.slug}/ballots/{ballot.id}/vote"
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    before = query_counter.count
    answer = await client.post(url, data={"option": str(first)}, headers=headers)
    assert answer.status_code == 200 and "Your vote has been recorded." in answer.text
    first_vote = query_counter.since(before)
    before = query_counter.count
    again = await client.post(url, data={"option": str(second)}, headers=headers)
    assert again.status_code == 200 and "Your vote has been updated." in again.text
    # the standing, the paper and the turnout shown with the ballot; the options only the first time
    assert len(query_counter.since(before)) == 3, query_counter.since(before)
    assert len(first_vote) == 4, first_vote
    [paper] = await papers(session)
    assert paper.choices == {"options": [second]}


async def test_a_visitor_is_sent_to_log_in_unless_the_ballot_is_hidden_from_them(
    client, session, porto, facilitator
):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    token = await csrf_token(client)
    url = f"/w/{porto.slug}/ballots/{ballot.id}/vote"
    public = await client.post(url, data={"option": str(first), "csrf_token": token})
    assert public.status_code == 303 and public.headers["location"].startswith("/login")
    elsewhere = await client.post(f"/w/not-{porto.slug}/ballots/{ballot.id}/vote", data={"csrf_token": token})
    assert elsewhere.status_code == 404
    assert await papers(session) == []

"""The vote API: the same rules as the page's form, answered in JSON."""

from sqlmodel import select

from app.voting.models import Vote
from tests.conftest import csrf_token, log_in, make_user
from tests.voting.test_routes import make_ballot, member_of, option_ids, workshop


async def api_vote(client, ballot_id: int, data: dict):
    token = await csrf_token(client)
    return await client.post(f"/api/v1/ballots/{ballot_id}/vote", data=data, headers={"X-CSRF-Token": token})


async def test_a_member_votes_and_changes_their_vote_through_the_api(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, second, _ = await option_ids(session, ballot)
    await log_in(client, await member_of(session, porto))
    created = await api_vote(client, ballot.id, {"option": str(first)})
    assert created.status_code == 201 and created.json() == {"first": True}
    changed = await api_vote(client, ballot.id, {"option": str(second)})
    assert changed.status_code == 200 and changed.json() == {"first": False}
    papers = (await session.exec(select(Vote))).all()
    assert len(papers) == 1 and papers[0].choices == {"options": [second]}


async def test_the_api_refuses_as_the_page_does(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, *_ = await option_ids(session, ballot)
    outsider = await make_user(session)
    await log_in(client, outsider)
    assert (await api_vote(client, ballot.id, {"option": str(first)})).status_code == 403
    await log_in(client, await member_of(session, porto))
    bad = await api_vote(client, ballot.id, {"option": "²"})
    assert bad.status_code == 422 and bad.json()["detail"] == "Choose among the ballot's options."
    missing = await api_vote(client, 999_999, {"option": str(first)})
    assert missing.status_code == 404 and missing.json()["detail"]  # JSON, not an HTML page
    draft = await workshop(session, porto, facilitator)
    hidden = await make_ballot(session, porto, facilitator, cs=draft)
    (hidden_option, *_) = await option_ids(session, hidden)
    assert (await api_vote(client, hidden.id, {"option": str(hidden_option)})).status_code == 404
    no_token = await client.post(f"/api/v1/ballots/{ballot.id}/vote", data={"option": str(first)})
    assert no_token.status_code == 403 and no_token.json()["detail"].startswith("Your form expired")
    assert (await session.exec(select(Vote))).all() == []


async def test_the_api_answers_401_to_someone_not_logged_in(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    answer = await api_vote(client, ballot.id, {"option": "1"})
    assert answer.status_code == 401 and answer.json() == {"detail": "Log in first."}

"""Creating ballots, voting and changing a vote, refusals that store nothing, anonymity and exports."""

from datetime import timedelta

from sqlmodel import func, select

from app.cocreation import service as session_service
from app.core.db import utcnow
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting.models import Ballot, Vote
from app.workspaces import service as workspace_service
from app.workspaces.models import Membership, MemberStatus
from tests.conftest import log_in, make_user, post_form


async def member_of(session, workspace):
    user = await make_user(session, display_name="Voter")
    await workspace_service.join(session=session, workspace=workspace, user=user)
    return user


async def votes(session) -> list[Vote]:
    return list((await session.exec(select(Vote))).all())


async def make_ballot(session, workspace, author, *, cs=None, **changes) -> Ballot:
    data = voting_rules.BallotInput(
        question="Which solutions first?",
        method="approval",
        options_text="Rain gardens\nGreen roofs\nRiver walk",
        closes_at=(utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        results_visibility="live",
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return await voting_service.create(session=session, workspace=workspace, cs=cs, author=author, data=data)


async def workshop(session, workspace, author):
    """A draft session tomorrow, for ballots of a session."""
    data = session_service.SessionInput(
        title="Workshop",
        phase="co-design",
        mode="in-person",
        place_name="Library",
        time_zone="UTC",
        starts_at=(utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        ends_at=(utcnow() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    return await session_service.create(session=session, workspace=workspace, author=author, data=data)


async def option_ids(session, ballot) -> list[int]:
    return [option.id for option in await voting_storage.options_of(session=session, ballot_id=ballot.id)]


async def test_a_moderator_creates_a_ballot_and_members_vote_and_change_their_vote(
    client, other_client, session, porto, facilitator
):
    await log_in(client, facilitator)
    response = await post_form(
        client,
        f"/w/{porto.slug}/ballots/new",
        {
            "question": "Which solutions first?",
            "method": "approval",
            "options_text": "Rain gardens\nGreen roofs\nRiver walk",
            "max_choices": "2",
            "closes_at": (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "results_visibility": "live",
            "eligibility": "members",
        },
    )
    assert response.status_code == 303
    ballot = (await session.exec(select(Ballot))).one()
    rain, roofs, walk = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    await log_in(other_client, voter)
    url = f"/w/{porto.slug}/ballots/{ballot.id}"
    assert (
        await post_form(other_client, url + "/vote", {"option": [str(rain), str(roofs)]})
    ).status_code == 303
    too_many = await post_form(other_client, url + "/vote", {"option": [str(rain), str(roofs), str(walk)]})
    assert too_many.status_code == 422 and "Choose at most 2 options." in too_many.text
    assert (await post_form(other_client, url + "/vote", {"option": [str(walk)]})).status_code == 303
    papers = await votes(session)
    assert len(papers) == 1 and papers[0].choices == {"options": [walk]}
    page = await other_client.get(url)
    assert "1 ballot counted" in page.text and "Leading: River walk" in page.text
    csv = await other_client.get(url + "/results.csv")
    assert csv.status_code == 200 and ",River walk,1" in csv.text


async def test_refused_votes_store_nothing(client, session, porto, facilitator):
    voter = await member_of(session, porto)
    await log_in(client, voter)
    ranked = await make_ballot(session, porto, facilitator, method="ranked")
    a, b, _c = await option_ids(session, ranked)
    dots = await make_ballot(session, porto, facilitator, method="dot", dots="3", per_option_max="2")
    d1, d2, _d3 = await option_ids(session, dots)
    scored = await make_ballot(session, porto, facilitator, method="score")
    s1, *_ = await option_ids(session, scored)
    consent = await make_ballot(session, porto, facilitator, method="consent", options_text="Close the road")
    (c1,) = await option_ids(session, consent)
    base = f"/w/{porto.slug}/ballots"
    cases = [
        (ranked, {f"rank-{a}": "1", f"rank-{b}": "1"}, "Give each rank to one option only."),
        (dots, {f"dots-{d1}": "2", f"dots-{d2}": "2"}, "You have 3 dots; you placed 4."),
        (dots, {f"dots-{d1}": "3"}, "Put at most 2 dots on one option."),
        (scored, {f"score-{s1}": "6"}, "Give scores from 0 to 5."),
        (consent, {f"consent-{c1}": "block"}, "A block needs a reason"),
    ]
    for ballot, form, message in cases:
        response = await post_form(client, f"{base}/{ballot.id}/vote", form)
        assert response.status_code == 422, message
        assert message in response.text
    assert await votes(session) == []


async def test_no_vote_before_opening_after_closing_or_from_the_ineligible(
    client, session, porto, facilitator
):
    later = await make_ballot(
        session,
        porto,
        facilitator,
        opens_at=(utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    )
    voter = await member_of(session, porto)
    await log_in(client, voter)
    (first, *_rest) = await option_ids(session, later)
    early = await post_form(client, f"/w/{porto.slug}/ballots/{later.id}/vote", {"option": [str(first)]})
    assert early.status_code == 422 and "not open yet" in early.text
    closed = await make_ballot(session, porto, facilitator)
    await voting_service.close_early(session=session, ballot=closed)
    (first, *_rest) = await option_ids(session, closed)
    late = await post_form(client, f"/w/{porto.slug}/ballots/{closed.id}/vote", {"option": [str(first)]})
    assert late.status_code == 422 and "This ballot is closed." in late.text

    cs = await workshop(session, porto, facilitator)
    await session_service.set_status(session=session, cs=cs, status="scheduled", by=facilitator)
    for_attendees = await make_ballot(session, porto, facilitator, cs=cs, eligibility="attendees")
    (first, *_rest) = await option_ids(session, for_attendees)
    refused = await post_form(
        client, f"/w/{porto.slug}/ballots/{for_attendees.id}/vote", {"option": [str(first)]}
    )
    assert refused.status_code == 403

    open_ballot = await make_ballot(session, porto, facilitator)
    membership = (await session.exec(select(Membership).where(Membership.user_id == voter.id))).one()
    membership.status = MemberStatus.BANNED
    session.add(membership)
    await session.commit()
    (first, *_rest) = await option_ids(session, open_ballot)
    banned = await post_form(
        client, f"/w/{porto.slug}/ballots/{open_ballot.id}/vote", {"option": [str(first)]}
    )
    assert banned.status_code == 403
    assert await votes(session) == []


async def test_bad_ballot_settings_come_back_with_the_form(client, session, porto, facilitator):
    await log_in(client, facilitator)
    closes = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    bad = [
        {"method": "approval", "options_text": "Only one"},
        {"method": "dot", "options_text": "A\nB", "dots": "0"},
        {"method": "ranked", "options_text": "A\nA"},
        {"method": "veto", "options_text": "A\nB"},
    ]
    for form in bad:
        response = await post_form(
            client, f"/w/{porto.slug}/ballots/new", {"question": "Q?", "closes_at": closes, **form}
        )
        assert response.status_code == 422, form
    past = await post_form(
        client,
        f"/w/{porto.slug}/ballots/new",
        {"question": "Q?", "method": "single", "options_text": "A\nB", "closes_at": "2020-01-01T10:00"},
    )
    assert past.status_code == 422 and "The ballot must close after it opens." in past.text
    too_long = await post_form(
        client,
        f"/w/{porto.slug}/ballots/new",
        {"question": "Q?", "method": "single", "options_text": "x" * 201, "closes_at": closes},
    )
    assert too_long.status_code == 422 and "at most 200 characters" in too_long.text
    assert (await session.exec(select(func.count()).select_from(Ballot))).one() == 0


async def test_an_anonymous_ballot_keeps_no_voter_and_its_papers_name_nobody(
    client, other_client, session, porto, facilitator
):
    ballot = await make_ballot(
        session, porto, facilitator, method="single", anonymous=True, results_visibility="after-close"
    )
    first, _second, _third = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    voter.display_name = "Ana Ribeiro"
    session.add(voter)
    await session.commit()
    await log_in(client, voter)
    assert (
        await post_form(client, f"/w/{porto.slug}/ballots/{ballot.id}/vote", {"option": [str(first)]})
    ).status_code == 303
    paper = (await votes(session))[0]
    assert paper.voter_id is None and len(paper.voter_key) == 64
    await voting_service.close_early(session=session, ballot=ballot)
    await log_in(other_client, facilitator)
    papers = await other_client.get(f"/w/{porto.slug}/ballots/{ballot.id}/papers.csv")
    assert papers.status_code == 200
    assert "Ana Ribeiro" not in papers.text and "voter" not in papers.text.splitlines()[0]
    assert papers.text.splitlines()[1].startswith("1,1,")


async def test_results_wait_for_the_close_when_asked_to(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, results_visibility="after-close")
    voter = await member_of(session, porto)
    await log_in(client, voter)
    first, *_ = await option_ids(session, ballot)
    await post_form(client, f"/w/{porto.slug}/ballots/{ballot.id}/vote", {"option": [str(first)]})
    page = await client.get(f"/w/{porto.slug}/ballots/{ballot.id}")
    assert "Results are shown when the ballot closes." in page.text and "ballot counted" not in page.text
    assert (await client.get(f"/w/{porto.slug}/ballots/{ballot.id}/results.csv")).status_code == 403


async def test_garbage_numbers_are_refused_never_a_server_error(client, session, porto, facilitator):
    ballot = await make_ballot(session, porto, facilitator, method="ranked")
    voter = await member_of(session, porto)
    await log_in(client, voter)
    first, *_ = await option_ids(session, ballot)
    for form in ({f"rank-{first}": "²"}, {f"rank-{first}": "9" * 5000}, {"option": "²"}):
        response = await post_form(client, f"/w/{porto.slug}/ballots/{ballot.id}/vote", form)
        assert response.status_code == 422, form
    await log_in(client, facilitator)
    assert (await client.get(f"/w/{porto.slug}/ballots/new?session_id=²")).status_code == 404
    closes = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    bad_limit = await post_form(
        client,
        f"/w/{porto.slug}/ballots/new",
        {
            "question": "Q?",
            "method": "approval",
            "options_text": "A\nB",
            "max_choices": "²",
            "closes_at": closes,
        },
    )
    assert bad_limit.status_code == 422
    assert await votes(session) == []


async def test_an_anonymous_ballot_cannot_show_results_before_it_closes(client, session, porto, facilitator):
    await log_in(client, facilitator)
    closes = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = await post_form(
        client,
        f"/w/{porto.slug}/ballots/new",
        {
            "question": "Q?",
            "method": "single",
            "options_text": "A\nB",
            "closes_at": closes,
            "anonymous": "on",
            "results_visibility": "live",
        },
    )
    assert response.status_code == 422 and "only when it closes" in response.text


async def test_only_moderators_see_who_cast_which_paper_and_formulas_stay_text(
    client, other_client, session, porto, facilitator
):
    ballot = await make_ballot(
        session, porto, facilitator, method="single", options_text="=HYPERLINK(1)\nPlain"
    )
    voter = await member_of(session, porto)
    voter.display_name = "Ana Ribeiro"
    session.add(voter)
    await session.commit()
    formula, _plain = await option_ids(session, ballot)
    await log_in(client, voter)
    await post_form(client, f"/w/{porto.slug}/ballots/{ballot.id}/vote", {"option": [str(formula)]})
    await voting_service.close_early(session=session, ballot=ballot)
    member_copy = (await client.get(f"/w/{porto.slug}/ballots/{ballot.id}/papers.csv")).text
    assert "Ana Ribeiro" not in member_copy and member_copy.splitlines()[1].startswith("1,1,")
    await log_in(other_client, facilitator)
    moderator_copy = (await other_client.get(f"/w/{porto.slug}/ballots/{ballot.id}/papers.csv")).text
    assert "Ana Ribeiro" in moderator_copy
    results = (await other_client.get(f"/w/{porto.slug}/ballots/{ballot.id}/results.csv")).text
    assert "'=HYPERLINK(1)" in results and ",=HYPERLINK" not in results


async def test_ballots_of_draft_sessions_stay_hidden_from_members(client, session, porto, facilitator):
    cs = await workshop(session, porto, facilitator)
    await make_ballot(session, porto, facilitator, cs=cs, question="Secret draft question?")
    member = await member_of(session, porto)
    await log_in(client, member)
    assert "Secret draft question?" not in (await client.get(f"/w/{porto.slug}/ballots")).text


TIE_PAPERS = {
    # method: (ballot settings, the first voter's paper, the second's), each for one of two options
    "approval": ({}, lambda a, b: {"option": [str(a)]}, lambda a, b: {"option": [str(b)]}),
    "single": ({}, lambda a, b: {"option": str(a)}, lambda a, b: {"option": str(b)}),
    "ranked": (
        {},
        lambda a, b: {f"rank-{a}": "1", f"rank-{b}": "2"},
        lambda a, b: {f"rank-{b}": "1", f"rank-{a}": "2"},
    ),
    "dot": ({"dots": "3"}, lambda a, b: {f"dots-{a}": "3"}, lambda a, b: {f"dots-{b}": "3"}),
    "score": (
        {},
        lambda a, b: {f"score-{a}": "4", f"score-{b}": "2"},
        lambda a, b: {f"score-{a}": "2", f"score-{b}": "4"},
    ),
    "consent": (
        {},
        lambda a, b: {f"consent-{a}": "agree", f"consent-{b}": "agree"},
        lambda a, b: {f"consent-{a}": "agree", f"consent-{b}": "agree"},
    ),
}


async def test_a_one_one_tie_reads_as_a_tie_for_every_method_open_and_closed(
    client, other_client, session, porto, facilitator
):
    first, second = await member_of(session, porto), await member_of(session, porto)
    for method, (settings, paper_one, paper_two) in TIE_PAPERS.items():
        ballot = await make_ballot(
            session, porto, facilitator, method=method, options_text="Rain gardens\nGreen roofs", **settings
        )
        rain, roofs = await option_ids(session, ballot)
        url = f"/w/{porto.slug}/ballots/{ballot.id}"
        for voter, paper in ((first, paper_one), (second, paper_two)):
            await log_in(other_client, voter)
            response = await post_form(other_client, url + "/vote", paper(rain, roofs))
            assert response.status_code == 303, (method, response.text)
        await log_in(client, facilitator)
        page = (await client.get(url)).text
        assert "2 ballots counted · Tied: Rain gardens and Green roofs" in page, method
        assert "Leading" not in page and "Instant-runoff winner" not in page, method
        await voting_service.close_early(session=session, ballot=ballot)
        page = (await client.get(url)).text
        assert "Tied: Rain gardens and Green roofs. The tie rule" in page, method
        assert "Result: " not in page, method


async def test_a_ranked_tie_reads_as_a_tie_in_the_runoff_and_in_schulze(client, session, porto, facilitator):
    ballot = await make_ballot(
        session, porto, facilitator, method="ranked", options_text="Rain gardens\nGreen roofs"
    )
    rain, roofs = await option_ids(session, ballot)
    for ranks in ((rain, roofs), (roofs, rain)):
        voter = await member_of(session, porto)
        await log_in(client, voter)
        paper = {f"rank-{option}": str(place) for place, option in enumerate(ranks, start=1)}
        assert (
            await post_form(client, f"/w/{porto.slug}/ballots/{ballot.id}/vote", paper)
        ).status_code == 303
    page = (await client.get(f"/w/{porto.slug}/ballots/{ballot.id}")).text
    assert "Instant runoff: tied between Rain gardens and Green roofs." in page
    assert "Schulze: tied between Rain gardens and Green roofs." in page
    assert "1. Rain gardens · 1. Green roofs" in page


async def test_files_not_ready_yet_say_why_in_the_readers_language(client, session, porto, facilitator):
    """Results kept until the close, and papers of an open ballot, are refused with the reason."""
    ballot = await make_ballot(session, porto, facilitator, results_visibility="after-close")
    await log_in(client, await member_of(session, porto))
    results = await client.get(f"/w/{porto.slug}/ballots/{ballot.id}/results.csv")
    assert results.status_code == 403 and "The results are not shown yet." in results.text
    papers = await client.get(f"/w/{porto.slug}/ballots/{ballot.id}/papers.csv")
    assert (
        papers.status_code == 403
        and "The papers can be downloaded once the ballot has closed." in papers.text
    )
    await post_form(client, "/language", {"language": "zh"})
    papers = await client.get(f"/w/{porto.slug}/ballots/{ballot.id}/papers.csv")
    assert papers.status_code == 403 and "投票结束后才能下载选票。" in papers.text

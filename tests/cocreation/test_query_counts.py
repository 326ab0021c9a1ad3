"""Session and ballot pages run the same number of SQL queries with few and with many things on them."""

from datetime import timedelta

from starlette.datastructures import FormData

from app.cocreation import service as session_service
from app.core.db import utcnow
from app.ideas import service as idea_service
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from tests.cocreation.test_routes import member_of, published_session
from tests.conftest import TEST_SECRET_KEY, log_in, make_user


async def queries(client, query_counter, path: str) -> int:
    query_counter.count = 0
    response = await client.get(path)
    assert response.status_code == 200, path
    return query_counter.count


async def test_sessions_list(client, session, porto, facilitator, query_counter):
    await log_in(client, facilitator)
    await published_session(session, porto, facilitator)
    one = await queries(client, query_counter, f"/w/{porto.slug}/sessions")
    for _ in range(20):
        await published_session(session, porto, facilitator)
    assert await queries(client, query_counter, f"/w/{porto.slug}/sessions") == one


async def add_idea(session, workspace, author, cs, n: int) -> None:
    idea = await idea_service.create(
        session=session, workspace=workspace, author=author, data=idea_service.IdeaInput(title=f"Idea {n}")
    )
    await session_service.link_idea(session=session, cs=cs, idea=idea)


async def test_session_page_and_live_room(client, session, porto, facilitator, query_counter):
    cs = await published_session(session, porto, facilitator, capacity=None)
    await session_service.set_status(session=session, cs=cs, status="live", by=facilitator)
    reader = await member_of(session, porto)
    await session_service.register(session=session, cs=cs, user=reader)
    await add_idea(session, porto, facilitator, cs, 0)
    await log_in(client, reader)
    page = f"/w/{porto.slug}/sessions/{cs.id}"
    one, room = (
        await queries(client, query_counter, page),
        await queries(client, query_counter, page + "/live"),
    )
    for n in range(1, 30):
        await session_service.register(session=session, cs=cs, user=await make_user(session))
        await add_idea(session, porto, facilitator, cs, n)
    assert await queries(client, query_counter, page) == one
    assert await queries(client, query_counter, page + "/live") == room


async def test_ballot_page_with_many_options_and_votes(client, session, porto, facilitator, query_counter):
    closes = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    async def ballot_with(options: int, voters: int):
        data = voting_rules.BallotInput(
            question="Rank them",
            method="ranked",
            options_text="\n".join(f"Option {n}" for n in range(options)),
            closes_at=closes,
            results_visibility="live",
        )
        ballot = await voting_service.create(
            session=session, workspace=porto, cs=None, author=facilitator, data=data
        )
        ids = [o.id for o in await voting_storage.options_of(session=session, ballot_id=ballot.id)]
        for n in range(voters):
            voter = await member_of(session, porto)
            form = FormData([(f"rank-{ids[(n + k) % options]}", str(k + 1)) for k in range(options)])
            await voting_service.cast_vote(
                session=session,
                ballot=ballot,
                option_ids=[
                    o.id for o in await voting_storage.options_of(session=session, ballot_id=ballot.id)
                ],
                user=voter,
                member=True,
                form=form,
                secret_key=TEST_SECRET_KEY,
            )
        return ballot

    small, large = await ballot_with(2, 1), await ballot_with(12, 40)
    await log_in(client, facilitator)
    assert await queries(client, query_counter, f"/w/{porto.slug}/ballots/{large.id}") == await queries(
        client, query_counter, f"/w/{porto.slug}/ballots/{small.id}"
    )

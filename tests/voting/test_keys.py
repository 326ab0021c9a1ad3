"""Papers are keyed under the deployment's own voting key, never the secret key: rotating the secret
key lets no one vote twice, and the public development key tells nothing about anonymous papers."""

import asyncio
import hashlib
import hmac

from sqlalchemy import text
from sqlmodel import func, select

from app.core import migrations
from app.core.config import DEVELOPMENT_SECRET_KEY
from app.core.db import create_engine, create_session_factory, unit_of_work
from app.demo import seed
from app.main import create_app
from app.voting import keys
from app.voting.models import Vote
from tests.conftest import client_for, log_in, make_settings
from tests.test_migrations import empty_database_url  # noqa: F401 (fixture)
from tests.voting.test_api import api_vote
from tests.voting.test_routes import make_ballot, member_of, option_ids

OLD_SECRET = "an-old-secret-key-of-this-deployment-0123456789abcdef"
NEW_SECRET = "the-new-secret-key-after-rotation-0123456789abcdefgh"


def key_under(secret: str, ballot_id: int, user_id: int) -> str:
    return hmac.new(secret.encode(), f"vote:{ballot_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def started_app(database_url, session_factory, **overrides):
    """An app as a server starts it: the voting key read from the database, not given by the tests."""
    settings = make_settings(database_url, **overrides)
    settings._voting_key = None
    return create_app(settings, session_factory)


async def test_rotating_the_secret_key_lets_no_one_vote_twice(
    database_url, session_factory, session, porto, facilitator
):
    ballot = await make_ballot(session, porto, facilitator, method="single")
    first, second, _ = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    answers = []
    for secret, option in ((OLD_SECRET, first), (NEW_SECRET, second)):
        app = started_app(database_url, session_factory, secret_key=secret)
        async with app.router.lifespan_context(app), client_for(app) as client:
            await log_in(client, voter)
            answers.append(await api_vote(client, ballot.id, {"option": str(option)}))
    assert [a.status_code for a in answers] == [201, 200]
    assert answers[1].json() == {"first": False}  # the same paper, changed
    papers = (await session.exec(select(Vote).where(Vote.ballot_id == ballot.id))).all()
    assert len(papers) == 1 and papers[0].choices == {"options": [second]}


async def test_on_the_development_key_anonymous_papers_are_keyed_under_a_key_no_one_else_knows(
    database_url, session_factory, session, porto, facilitator
):
    ballot = await make_ballot(
        session, porto, facilitator, method="single", anonymous="1", results_visibility="after-close"
    )
    first, _second, _ = await option_ids(session, ballot)
    voter = await member_of(session, porto)
    app = started_app(database_url, session_factory, secret_key="")
    assert app.state.settings.secret_key == DEVELOPMENT_SECRET_KEY
    async with app.router.lifespan_context(app), client_for(app) as client:
        await log_in(client, voter)
        assert (await api_vote(client, ballot.id, {"option": str(first)})).status_code == 201
        voting_key = app.state.settings.voting_key
    paper = (await session.exec(select(Vote).where(Vote.ballot_id == ballot.id))).one()
    assert paper.voter_id is None
    assert paper.voter_key != key_under(DEVELOPMENT_SECRET_KEY, ballot.id, voter.id)
    assert voting_key != DEVELOPMENT_SECRET_KEY and len(voting_key) == 64
    assert paper.voter_key == key_under(voting_key, ballot.id, voter.id)


async def test_processes_starting_at_once_agree_on_one_voting_key(session_factory):
    async def load():
        async with unit_of_work(session_factory) as session:
            return await keys.load_or_create(session)

    first, second = await load(), await load()
    assert first == second


async def papers_keyed_under(engine, secret: str) -> list[tuple[int, int, bool]]:
    """Two papers on each demo ballot, one on behalf of a voter named on it and one anonymous, keyed
    the way the app keyed them before 0013: (ballot, voter, named) for each."""
    cast = []
    async with engine.begin() as connection:
        ballots = (await connection.execute(text("SELECT id FROM ballot ORDER BY id"))).scalars().all()
        users = (await connection.execute(text('SELECT id FROM "user" ORDER BY id'))).scalars().all()
        assert ballots and len(users) >= 2
        for ballot_id in ballots:
            for user_id, named in ((users[0], True), (users[1], False)):
                await connection.execute(
                    text(
                        "INSERT INTO vote (ballot_id, voter_key, voter_id, choices, cast_at, updated_at) "
                        "VALUES (:ballot, :key, :voter, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {
                        "ballot": ballot_id,
                        "key": key_under(secret, ballot_id, user_id),
                        "voter": user_id if named else None,
                    },
                )
                cast.append((ballot_id, user_id, named))
    return cast


async def stored_keys(engine) -> tuple[str, dict[tuple[int, int | None], list[str]]]:
    async with engine.connect() as connection:
        voting_key = (
            await connection.execute(text("SELECT value FROM deployment_secret WHERE name = 'voting'"))
        ).scalar()
        rows = (await connection.execute(text("SELECT ballot_id, voter_key FROM vote"))).all()
    return voting_key, {row[1] for row in rows}


async def test_upgrading_keeps_every_paper_cast_before(empty_database_url, monkeypatch):  # noqa: F811
    """A deployment with a secret key of its own keeps it as its voting key; one on the development
    key gets a new key and every paper keyed again, anonymous ones too: no one can vote twice."""
    for secret in (OLD_SECRET, ""):
        monkeypatch.setenv("COCREATE_SECRET_KEY", secret)
        await asyncio.to_thread(migrations.upgrade, empty_database_url)
        engine = create_engine(make_settings(empty_database_url))
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                if secret:
                    await seed.seed_demo(session=session, with_users=True)
            await asyncio.to_thread(migrations.downgrade, empty_database_url, "0012")
            async with engine.begin() as connection:
                await connection.execute(text("DELETE FROM vote"))
            cast = await papers_keyed_under(engine, secret or DEVELOPMENT_SECRET_KEY)
            await asyncio.to_thread(migrations.upgrade, empty_database_url)
            voting_key, keys_now = await stored_keys(engine)
            if secret:
                assert voting_key == secret
            else:
                assert voting_key != DEVELOPMENT_SECRET_KEY
            assert keys_now == {
                key_under(voting_key, ballot_id, user_id) for ballot_id, user_id, _named in cast
            }
            async with engine.connect() as connection:
                assert (await connection.execute(select(func.count()).select_from(Vote))).scalar() == len(
                    cast
                )
        finally:
            await engine.dispose()

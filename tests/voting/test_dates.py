"""Ballot dates: an opening or closing outside the years 2000 to 2100 is refused on its field with the
form kept (read in the voter's zone, full-width digits as digits), and ballots whose times are already
at the ends of the calendar (put straight into the database) still show and export."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select, update

from app.core.db import utcnow
from app.voting.models import Ballot
from tests.cocreation.test_dates import FAR_ZONES, FIRST_MINUTE, LAST_MINUTE, YEAR_RANGE
from tests.conftest import log_in, make_user, post_form
from tests.voting.test_routes import make_ballot, member_of, option_ids

LATER = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")


def ballot_form(**changes) -> dict:
    return {
        "question": "Which first?",
        "method": "single",
        "options_text": "Trees\nPonds",
        "opens_at": "",
        "closes_at": LATER,
        "results_visibility": "live",
        "eligibility": "members",
        **changes,
    }


async def ballots_stored(session) -> int:
    return (await session.exec(select(func.count()).select_from(Ballot))).one()


@pytest.mark.parametrize(
    ("zone", "changes", "field"),
    [
        ("UTC", {"opens_at": "0001-01-01T00:00"}, "opens_at"),
        ("America/Los_Angeles", {"closes_at": "9999-12-31T23:59"}, "closes_at"),
        ("Asia/Shanghai", {"opens_at": "1999-12-31T23:00"}, "opens_at"),
        ("Pacific/Kiritimati", {"closes_at": "2101-01-01T00:00"}, "closes_at"),
    ],
)
async def test_a_ballot_outside_the_years_2000_to_2100_is_refused_on_its_field(
    client, session, porto, facilitator, zone, changes, field
):
    facilitator.time_zone = zone
    session.add(facilitator)
    await session.commit()
    await log_in(client, facilitator)
    response = await post_form(client, f"/w/{porto.slug}/ballots/new", ballot_form(**changes))
    assert response.status_code == 422
    assert YEAR_RANGE in response.text
    assert f'value="{changes[field]}"' in response.text and 'aria-invalid="true"' in response.text
    assert "Which first?" in response.text
    assert await ballots_stored(session) == 0


async def test_full_width_digits_open_and_close_a_ballot(client, session, porto, facilitator):
    await log_in(client, facilitator)
    form = ballot_form(
        method="dot", dots="１０", per_option_max="３", opens_at="２０９９－０１－０１Ｔ０９：００"
    )
    form["closes_at"] = "2099-01-02 09:00"
    assert (await post_form(client, f"/w/{porto.slug}/ballots/new", form)).status_code == 303
    ballot = (await session.exec(select(Ballot))).one()
    assert (ballot.dots, ballot.per_option_max) == (10, 3)
    assert ballot.opens_at == datetime(2099, 1, 1, 9, 0, tzinfo=UTC)
    for dots in ("٣", "²", "1_0"):
        response = await post_form(client, f"/w/{porto.slug}/ballots/new", {**form, "dots": dots})
        assert response.status_code == 422 and "Give a whole number from 1 to" in response.text


@pytest.mark.parametrize("zone", FAR_ZONES)
async def test_stored_ballots_at_the_ends_of_the_calendar_still_show_everywhere(
    client, session, porto, facilitator, zone
):
    upcoming = await make_ballot(session, porto, facilitator, method="single")
    ending = await make_ballot(session, porto, facilitator, method="single")
    closed = await make_ballot(session, porto, facilitator, method="single")
    voter = await member_of(session, porto)
    await log_in(client, voter)
    first, *_ = await option_ids(session, closed)
    vote = await post_form(client, f"/w/{porto.slug}/ballots/{closed.id}/vote", {"option": [str(first)]})
    assert vote.status_code == 303
    for ballot, values in (
        (upcoming, {"opens_at": LAST_MINUTE - timedelta(minutes=1), "closes_at": LAST_MINUTE}),
        (ending, {"opens_at": FIRST_MINUTE, "closes_at": LAST_MINUTE}),
        (closed, {"opens_at": FIRST_MINUTE, "closes_at": FIRST_MINUTE + timedelta(minutes=1)}),
    ):
        await session.exec(update(Ballot).where(Ballot.id == ballot.id).values(**values))
    await session.commit()
    reader = await make_user(session, time_zone=zone)
    facilitator.time_zone = zone
    session.add(facilitator)
    await session.commit()
    base = f"/w/{porto.slug}/ballots"
    for who in (reader, facilitator):
        await log_in(client, who)
        pages = [base, f"/w/{porto.slug}"]
        for ballot in (upcoming, ending, closed):
            pages += [f"{base}/{ballot.id}", f"{base}/{ballot.id}/results.csv"]
        for page in [*pages, f"{base}/{closed.id}/papers.csv"]:
            response = await client.get(page)
            assert response.status_code == 200, (who.display_name, page)
    assert "9999" in (await client.get(f"{base}/{upcoming.id}")).text

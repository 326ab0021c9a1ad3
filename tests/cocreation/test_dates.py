"""Dates and numbers of sessions: a date outside the years 2000 to 2100 is refused on its field with
the form kept, full-width digits count as the digits they are, and a session whose dates are already
at the ends of the calendar (put straight into the database) still shows on every page and calendar."""

from datetime import UTC, datetime

import pytest
from sqlmodel import func, select, update

from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession
from tests.cocreation.test_routes import FORM, published_session, schedule
from tests.conftest import log_in, make_user

YEAR_RANGE = "Give a date from the year 2000 to 2100."
# The first and the last minute Python's datetime holds, and the two zones furthest from UTC.
FIRST_MINUTE = datetime(1, 1, 1, 0, 0, tzinfo=UTC)
LAST_MINUTE = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
FAR_ZONES = ("Pacific/Kiritimati", "Etc/GMT+12", "America/Los_Angeles", "Asia/Shanghai", "UTC")


async def sessions_stored(session) -> int:
    return (await session.exec(select(func.count()).select_from(CocreationSession))).one()


@pytest.mark.parametrize(
    ("zone", "starts_at", "ends_at", "field"),
    [
        ("America/Los_Angeles", "9999-12-31T22:00", "9999-12-31T23:59", "starts_at"),
        ("Asia/Shanghai", "0001-01-01T00:00", "2027-01-01T10:00", "starts_at"),
        ("UTC", "2027-01-01T10:00", "2101-01-01T00:00", "ends_at"),
        ("Pacific/Kiritimati", "1999-12-31T23:59", "2027-01-01T10:00", "starts_at"),
    ],
)
async def test_a_session_outside_the_years_2000_to_2100_is_refused_on_its_field(
    client, session, porto, facilitator, zone, starts_at, ends_at, field
):
    await log_in(client, facilitator)
    response = await schedule(client, porto, time_zone=zone, starts_at=starts_at, ends_at=ends_at)
    assert response.status_code == 422
    assert YEAR_RANGE in response.text
    assert f'name="{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert f'value="{starts_at}"' in response.text and f'value="{ends_at}"' in response.text
    assert FORM["title"] in response.text
    assert await sessions_stored(session) == 0


async def test_the_first_and_last_days_of_the_window_are_taken(client, session, porto, facilitator):
    await log_in(client, facilitator)
    response = await schedule(
        client,
        porto,
        time_zone="Pacific/Kiritimati",
        starts_at="2000-01-01T00:00",
        ends_at="2100-12-31T23:59",
    )
    assert response.status_code == 303
    cs = (await session.exec(select(CocreationSession))).one()
    assert cs.starts_at == datetime(1999, 12, 31, 10, 0, tzinfo=UTC)
    assert cs.ends_at == datetime(2100, 12, 31, 9, 59, tzinfo=UTC)


async def test_full_width_digits_are_the_numbers_they_show_and_other_digits_are_refused(
    client, session, porto, facilitator
):
    await log_in(client, facilitator)
    full_width = await schedule(
        client,
        porto,
        capacity="１０",
        starts_at="２０２７－０１－０５Ｔ１０：００",
        ends_at="2027-01-05 12:30",
        agenda_title=["Welcome"],
        agenda_minutes=["１５"],
    )
    assert full_width.status_code == 303
    cs = (await session.exec(select(CocreationSession))).one()
    assert cs.capacity == 10
    assert (cs.starts_at, cs.ends_at) == (
        datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
        datetime(2027, 1, 5, 12, 30, tzinfo=UTC),
    )
    agenda = await session_service.agenda_of(session=session, session_id=cs.id)
    assert [item.duration_minutes for item in agenda] == [15]
    for capacity in ("٣", "²", "1_000", "10.0", "9" * 5000, "-3"):
        response = await schedule(client, porto, capacity=capacity)
        assert response.status_code == 422, capacity
        assert "Give a whole number of places from 1 to" in response.text
    assert await sessions_stored(session) == 1


@pytest.mark.parametrize("zone", FAR_ZONES)
async def test_a_stored_session_at_the_ends_of_the_calendar_still_shows_everywhere(
    client, session, porto, facilitator, zone
):
    """What validation keeps out may still be in a database (an import, an older version, a hand
    edit): every page, calendar and export showing it stays up, for readers in every zone."""
    cs = await published_session(session, porto, facilitator)
    await session_service.set_status(session=session, cs=cs, status="live", by=facilitator)
    await session.exec(
        update(CocreationSession)
        .where(CocreationSession.id == cs.id)
        .values(starts_at=FIRST_MINUTE, ends_at=LAST_MINUTE, time_zone="Asia/Shanghai")
    )
    await session.commit()
    reader = await make_user(session, time_zone=zone)
    facilitator.time_zone = zone
    session.add(facilitator)
    await session.commit()
    base = f"/w/{porto.slug}/sessions"
    for who in (reader, facilitator):
        await log_in(client, who)
        for page in (
            base,
            f"{base}/{cs.id}",
            f"{base}/{cs.id}/live",
            f"{base}.ics",
            f"{base}/{cs.id}/session.ics",
            f"/w/{porto.slug}",
        ):
            response = await client.get(page)
            assert response.status_code == 200, (who.display_name, page)
        assert "9999" in (await client.get(f"{base}/{cs.id}")).text
    edit = await client.get(f"{base}/{cs.id}/edit")
    assert edit.status_code == 200
    # Sent back as it is shown, the form is refused on the field, never stored.
    response = await client.post(
        f"{base}/{cs.id}/edit",
        data={
            **FORM,
            "csrf_token": edit.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0],
            "time_zone": "Asia/Shanghai",
            "starts_at": "0001-01-01T00:00",
        },
    )
    assert response.status_code == 422 and YEAR_RANGE in response.text

"""Topic dates: outside the years 2000 to 2100 they are refused on their field with the form kept,
full-width digits are read as digits, and dates already stored at the ends of the calendar show."""

from datetime import date

from sqlmodel import select, update

from app.topics.models import Topic
from tests.cocreation.test_dates import YEAR_RANGE
from tests.conftest import log_in, make_user, post_form
from tests.topics.test_routes import TOPIC


async def test_topic_dates_outside_the_years_2000_to_2100_are_refused(client, session, facilitator, porto):
    await log_in(client, facilitator)
    for opens_on, closes_on in (("0001-01-01", "2027-01-01"), ("2026-12-01", "9999-12-31")):
        response = await post_form(
            client,
            "/topics/seed",
            {**TOPIC, "workspace_ids": [str(porto.id)], "opens_on": opens_on, "closes_on": closes_on},
        )
        assert response.status_code == 422
        assert YEAR_RANGE in response.text and 'aria-invalid="true"' in response.text
        assert f'value="{opens_on}"' in response.text and f'value="{closes_on}"' in response.text
        assert TOPIC["title"] in response.text
    assert (await session.exec(select(Topic))).first() is None
    full_width = await post_form(
        client,
        "/topics/seed",
        {**TOPIC, "workspace_ids": [str(porto.id)], "opens_on": "２０２７－０３－０１", "closes_on": ""},
    )
    assert full_width.status_code == 303
    topic = (await session.exec(select(Topic))).one()
    assert (topic.opens_on, topic.closes_on) == (date(2027, 3, 1), None)


async def test_stored_topic_dates_at_the_ends_of_the_calendar_still_show(client, session, facilitator, porto):
    await log_in(client, facilitator)
    seeded = await post_form(client, "/topics/seed", {**TOPIC, "workspace_ids": [str(porto.id)]})
    assert seeded.status_code == 303
    await session.exec(update(Topic).values(opens_on=date(1, 1, 1), closes_on=date(9999, 12, 31)))
    await session.commit()
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        await log_in(client, await make_user(session, time_zone=zone))
        workspace = await client.get(f"/w/{porto.slug}")
        assert workspace.status_code == 200 and "9999" in workspace.text
    await log_in(client, facilitator)
    assert (await client.get(seeded.headers["location"])).status_code == 200

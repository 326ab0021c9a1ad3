"""A file sent where a form has a text field is read as an empty field: refused like a missing
value, never stored as the name of an upload object."""

from datetime import timedelta

from sqlmodel import select

from app.cocreation.models import CocreationSession
from app.core.db import utcnow
from app.voting.models import Ballot
from tests.cocreation.test_routes import FORM
from tests.conftest import log_in, post_form

A_FILE = ("a.txt", b"not text", "text/plain")


async def test_a_file_as_a_ballots_question_is_refused_on_the_field(client, session, porto, facilitator):
    await log_in(client, facilitator)
    fields = {
        "method": "approval",
        "options_text": "Rain gardens\nGreen roofs",
        "closes_at": (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "results_visibility": "live",
        "eligibility": "members",
    }
    response = await post_form(client, f"/w/{porto.slug}/ballots/new", fields, files=[("question", A_FILE)])
    assert response.status_code == 422
    assert 'id="f-question-error"' in response.text and "UploadFile" not in response.text
    assert (await session.exec(select(Ballot))).all() == []


async def test_a_file_as_a_sessions_title_is_refused_on_the_field(client, session, porto, facilitator):
    await log_in(client, facilitator)
    fields = {key: value for key, value in FORM.items() if key != "title"}
    response = await post_form(client, f"/w/{porto.slug}/sessions/new", fields, files=[("title", A_FILE)])
    assert response.status_code == 422
    assert 'id="f-title-error"' in response.text and "UploadFile" not in response.text
    assert (await session.exec(select(CocreationSession))).all() == []

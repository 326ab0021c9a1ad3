"""The JSON API for votes: the same rules as the page's form, without a page to render. Scripts and
kiosks use it, and it is the cheapest way in when a whole room votes at once.

``POST /api/v1/ballots/{ballot_id}/vote`` takes the form's fields (``option``, ``rank-<id>``,
``dots-<id>``, ``score-<id>``, ``consent-<id>``, ``reason``) and the ``X-CSRF-Token`` header (or the
``csrf_token`` field), and answers ``{"first": true|false}`` (201 for a first paper, 200 for a changed
one), or 401, 403, 404, 422 or 429 with ``{"detail": message}``.

The route is lean (``app.core.deps.lean``): it looks up who is signed in together with the ballot and
the voter's standing, in one statement (``voting.deps.voter``), then checks the CSRF token, the rate
limit and the ballot's rules as every route does, and stores the paper with
``voting.service.cast_vote``, the same use case as the page's form. A vote is two statements."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.core.db import Mode
from app.core.deps import ClientAddress, RowId, SessionDep, SettingsDep, lean, unit_mode
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting.deps import voter

router = APIRouter(prefix="/api/v1")


@router.post("/ballots/{ballot_id}/vote", dependencies=[unit_mode(Mode.ALONE)])
@lean
async def vote(
    ballot_id: RowId, request: Request, session: SessionDep, settings: SettingsDep, address: ClientAddress
):
    who = await voter(request, session, ballot_id, address)
    try:
        done = await voting_service.cast_vote(
            session=session,
            ballot=who.ballot,
            option_ids=who.option_ids,
            user=who.user,
            member=who.member,
            form=await request.form(),
            secret_key=settings.voting_key,
        )
    except voting_rules.VoteRefused as error:
        return JSONResponse({"detail": error.message}, status_code=error.status)
    return JSONResponse({"first": done.first}, status_code=201 if done.first else 200)

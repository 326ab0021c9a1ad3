"""The JSON API for votes: the same rules as the page's form, without a page to render. Scripts and
kiosks use it, and it is the cheapest way in when a whole room votes at once.

``POST /api/v1/ballots/{ballot_id}/vote`` takes the form's fields (``option``, ``rank-<id>``,
``dots-<id>``, ``score-<id>``, ``consent-<id>``, ``reason``) and the ``X-CSRF-Token`` header, and answers
``{"first": true|false}`` (201 for a first paper, 200 for a changed one), or 403, 404 or 422 with
``{"detail": message}``.

On PostgreSQL ``app.voting.intake`` answers the common vote before it reaches this route, by the same
rules; this route answers every other request, and all of them on SQLite."""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from app.accounts.deps import CurrentUser
from app.core.db import Mode
from app.core.deps import RowId, SessionDep, SettingsDep, rate_limited, unit_mode
from app.voting import permissions
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage

router = APIRouter(prefix="/api/v1")


@router.post("/ballots/{ballot_id}/vote", dependencies=[unit_mode(Mode.ALONE), rate_limited("vote")])
async def vote(
    ballot_id: RowId, request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser
):
    loaded = await voting_storage.ballot_standing(session=session, ballot_id=ballot_id, user=user)
    if loaded is None or not permissions.can_see(user, loaded[1]):
        raise HTTPException(status_code=404)
    ballot, standing = loaded
    options = await voting_storage.options_of(session=session, ballot_id=ballot_id)
    try:
        done = await voting_service.cast(
            session=session,
            ballot=ballot,
            options=options,
            user=user,
            member=permissions.can_vote_here(user, standing.workspace, standing.membership),
            form=await request.form(),
            secret_key=settings.voting_key,
        )
    except voting_rules.VoteRefused as error:
        return JSONResponse({"detail": error.message}, status_code=error.status)
    return JSONResponse({"first": done.first}, status_code=201 if done.first else 200)

"""Annotated dependencies every domain's routes use: the request's unit of work, the settings, form
fields and row ids, rate limits. Who is signed in is ``app.accounts.deps``."""

from typing import Annotated

from fastapi import Depends, Form, Path, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core import ratelimit
from app.core.config import Settings
from app.core.db import Mode


async def get_session(request: Request) -> AsyncSession:
    """The request's unit of work's session (``app.core.db.UnitOfWorkMiddleware``): committed once when
    the answer starts, if it is not a refusal or an error; rolled back otherwise."""
    return request.state.unit_of_work.session


def unit_mode(mode: Mode):
    """A route dependency, listed before the route's others: how its unit of work runs (``Mode``), for
    a GET that writes or a write of one statement that stands alone."""

    async def dependency(request: Request) -> None:
        request.state.unit_of_work.use(mode)

    return Depends(dependency)


def lean(endpoint):
    """Marks a route that looks up who is signed in itself, together with what it needs, in one
    statement (``app.accounts.middleware.SignIn.load_with``), and then checks the CSRF token
    (``app.core.security.check_csrf``): the app-wide dependencies leave both to it."""
    endpoint.lean_sign_in = True
    return endpoint


def is_lean(request: Request) -> bool:
    return getattr(request.scope.get("endpoint"), "lean_sign_in", False)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# A text field of an HTML form; a missing field is an empty string, so the form answers it, not FastAPI.
FormStr = Annotated[str, Form()]
# A row id in a URL: out of range is a 422, never a number the database cannot hold.
RowId = Annotated[int, Path(gt=0, le=2_147_483_647)]

SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ClientAddress = Annotated[str, Depends(client_address)]


def rate_limited(action: str):
    """A route dependency: answers 429 (``RateLimited``) when the user or their address has done
    ``action`` too often lately (``Settings.limits``); else counts this act. Votes are counted in the
    process's memory (``app.core.ratelimit.LocalWindows``), everything else in the database."""

    async def dependency(request: Request, session: SessionDep, address: ClientAddress):
        await enforce_rate_limit(request, session, action, getattr(request.state, "user", None), address)

    return Depends(dependency)


async def enforce_rate_limit(
    request: Request, session: AsyncSession, action: str, user, address: str
) -> None:
    """``rate_limited``'s check, for a lean route once it knows who is signed in."""
    limit = request.app.state.settings.limits[action]
    user_id = user.id if user else None
    if action in ratelimit.IN_MEMORY:
        request.app.state.local_limits.enforce(action=action, limit=limit, user_id=user_id, address=address)
    else:
        await ratelimit.enforce(session=session, action=action, limit=limit, user_id=user_id, address=address)

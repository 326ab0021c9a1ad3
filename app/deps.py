"""Annotated dependencies shared by every domain's routes."""

from typing import Annotated

from fastapi import Depends, Form, HTTPException, Path, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app import ratelimit
from app.accounts.models import AuthSession, User
from app.accounts.permissions import can_administer
from app.config import Settings
from app.db import Mode


async def get_session(request: Request) -> AsyncSession:
    """The request's unit of work's session (``app.db.UnitOfWorkMiddleware``): committed once when the
    answer starts, if it is not a refusal or an error; rolled back otherwise."""
    return request.state.unit_of_work.session


def unit_mode(mode: Mode):
    """A route dependency, listed before the route's others: how its unit of work runs (``Mode``), for
    a GET that writes or a write of one statement that stands alone."""

    async def dependency(request: Request) -> None:
        request.state.unit_of_work.use(mode)

    return Depends(dependency)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


class LoginRequired(Exception):
    """Raised for a page that needs a signed-in user; answered with a redirect to the login page."""


async def optional_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)


async def current_user(request: Request) -> User:
    user = getattr(request.state, "user", None)
    if user is None:
        raise LoginRequired
    return user


async def current_auth_session(request: Request) -> AuthSession | None:
    return getattr(request.state, "auth_session", None)


async def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not can_administer(user):
        raise HTTPException(status_code=403)
    return user


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# A text field of an HTML form; a missing field is an empty string, so the form answers it, not FastAPI.
FormStr = Annotated[str, Form()]
# A row id in a URL: out of range is a 422, never a number the database cannot hold.
RowId = Annotated[int, Path(gt=0, le=2_147_483_647)]

SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]
CurrentAuthSession = Annotated[AuthSession | None, Depends(current_auth_session)]
ClientAddress = Annotated[str, Depends(client_address)]


def rate_limited(action: str):
    """A route dependency: answers 429 (``RateLimited``) when the user or their address has done
    ``action`` too often lately (``Settings.limits``); else counts this act. Votes are counted in the
    process's memory (``app.ratelimit.LocalWindows``), everything else in the database."""

    async def dependency(request: Request, session: SessionDep, user: OptionalUser, address: ClientAddress):
        limit = request.app.state.settings.limits[action]
        user_id = user.id if user else None
        if action in ratelimit.IN_MEMORY:
            request.app.state.local_limits.enforce(
                action=action, limit=limit, user_id=user_id, address=address
            )
        else:
            await ratelimit.enforce(
                session=session, action=action, limit=limit, user_id=user_id, address=address
            )

    return Depends(dependency)

"""Who is signed in, as route dependencies: set on the request by ``app.accounts.middleware``."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.accounts.middleware import sign_in_of
from app.accounts.models import AuthSession, User
from app.accounts.permissions import can_administer
from app.core.deps import is_lean


class LoginRequired(Exception):
    """Raised for a page that needs a signed-in user; answered with a redirect to the login page."""


async def signed_in(request: Request) -> None:
    """App-wide dependency, first of all: looks up who is signed in (``app.accounts.middleware.SignIn``)
    before anything else of the request needs it. A lean route (``app.core.deps.lean``) is left to
    look it up itself, together with what it needs."""
    if not is_lean(request):
        await ensure_signed_in(request)


async def ensure_signed_in(request: Request) -> None:
    """Looks up who is signed in, if no one has yet: for an answer made outside a route (an error page)."""
    sign_in = sign_in_of(request.scope)
    if sign_in is not None:
        await sign_in.load()


async def optional_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)


async def current_user(request: Request) -> User:
    user = getattr(request.state, "user", None)
    if user is None:
        raise LoginRequired
    return user


async def current_auth_session(request: Request) -> AuthSession | None:
    return getattr(request.state, "auth_session", None)


def user_allowed(predicate):
    """A route's permission about the signed-in user alone (may they administer, seed topics, open a
    workspace) as a dependency: the user when ``predicate(user)``, 403 otherwise, and the login page
    first for a visitor."""

    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if not predicate(user):
            raise HTTPException(status_code=403)
        return user

    return Depends(dependency)


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, user_allowed(can_administer)]
CurrentAuthSession = Annotated[AuthSession | None, Depends(current_auth_session)]

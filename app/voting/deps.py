"""Who votes on which ballot, for the lean vote routes (``app.core.deps.lean``): the sign-in, the
ballot and the voter's standing come in one statement (``storage.voter_standing``); then the CSRF
token, the sign-in and the rate limit are checked as every route checks them."""

from dataclasses import dataclass

from fastapi import HTTPException, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.deps import LoginRequired
from app.accounts.middleware import sign_in_of
from app.accounts.models import User
from app.core.deps import enforce_rate_limit
from app.core.security import check_csrf
from app.voting import permissions, storage
from app.voting.models import Ballot
from app.workspaces.deps import WorkspaceContext


@dataclass
class Voter:
    """A signed-in user before a ballot they may see: where they stand, and the ballot's options."""

    user: User
    context: WorkspaceContext
    ballot: Ballot
    option_ids: list[int]

    @property
    def member(self) -> bool:
        """Whether they may take part in the ballot's workspace (``permissions.can_vote_here``)."""
        return self.context.can(permissions.can_vote_here)


async def voter(
    request: Request, session: AsyncSession, ballot_id: int, address: str, *, slug: str | None = None
) -> Voter:
    """The voter on ballot ``ballot_id`` (of the workspace ``slug``, when the URL names one). 403 for a
    wrong CSRF token, the login page (401 for the API) for a visitor, 429 past the vote's rate limit,
    404 for a ballot the voter may not see."""
    found = await sign_in_of(request.scope).load_with(
        lambda token: storage.voter_standing(session=session, token=token, ballot_id=ballot_id)
    )
    # After the sign-in: the token of a session that is no longer live is not this browser's any more.
    await check_csrf(request)
    user = request.state.user
    if user is None:
        if slug is not None:  # a page: a ballot a visitor may not see is not there, as everywhere else
            loaded = await storage.ballot_standing(session=session, ballot_id=ballot_id, user=None)
            if loaded is None or loaded[1].workspace.slug != slug or not permissions.can_see(None, loaded[1]):
                raise HTTPException(status_code=404)
        raise LoginRequired
    await enforce_rate_limit(request, session, "vote", user, address)
    standing = found.standing
    if (
        found.ballot is None
        or (slug is not None and standing.workspace.slug != slug)
        or not permissions.can_see(user, standing)
    ):
        raise HTTPException(status_code=404)
    context = WorkspaceContext(workspace=standing.workspace, membership=standing.membership, user=user)
    return Voter(user=user, context=context, ballot=found.ballot, option_ids=found.option_ids)

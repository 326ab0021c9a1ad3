"""Dependencies that load a workspace for the current reader, or answer 404/403."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException

from app.accounts.deps import CurrentUser, OptionalUser
from app.accounts.models import User
from app.core.deps import SessionDep
from app.workspaces import permissions
from app.workspaces import service as workspace_service
from app.workspaces.models import Membership, Workspace


@dataclass
class WorkspaceContext:
    """A workspace the current reader may see, with their membership (None when they have none)."""

    workspace: Workspace
    membership: Membership | None
    user: User | None

    def can(self, predicate, *objects) -> bool:
        """Asks a permission predicate about this reader here (and, after them, the objects given)."""
        return predicate(self.user, self.workspace, self.membership, *objects)


async def visible_workspace(slug: str, session: SessionDep, user: OptionalUser) -> WorkspaceContext:
    """Loads the workspace or answers 404, also when it is members-only and the reader is not a
    member: outsiders learn nothing of it, not even that it exists."""
    loaded = await workspace_service.get_with_membership(session=session, slug=slug[:80], user=user)
    if loaded is None:
        raise HTTPException(status_code=404)
    workspace, membership = loaded
    if not permissions.can_view(user, workspace, membership):
        raise HTTPException(status_code=404)
    return WorkspaceContext(workspace=workspace, membership=membership, user=user)


def allowed(predicate):
    """A route's permission as a dependency: the workspace, when the signed-in reader passes
    ``predicate`` there (``WorkspaceContext.can``); 403 otherwise, and the login page first for a
    visitor. Use it as ``context: Annotated[WorkspaceContext, allowed(permissions.can_post)]``."""

    async def dependency(
        context: Annotated[WorkspaceContext, Depends(visible_workspace)], user: CurrentUser
    ) -> WorkspaceContext:
        if not context.can(predicate):
            raise HTTPException(status_code=403)
        return context

    return Depends(dependency)


def allowed_on(loader, predicate):
    """``allowed`` for a thing of a workspace that a route is about (an idea, a comment, a session, a
    ballot), loaded by the dependency ``loader`` as ``(context, thing)`` or answered 404:
    ``(context, thing)`` when ``predicate(user, context, thing)``, 403 otherwise, and the login page
    first for a visitor."""

    async def dependency(loaded: Annotated[tuple, Depends(loader)], user: CurrentUser) -> tuple:
        context, thing = loaded
        if not predicate(user, context, thing):
            raise HTTPException(status_code=403)
        return loaded

    return Depends(dependency)


def _can_edit(user, workspace, _membership) -> bool:
    return permissions.can_edit(user, workspace)


Visible = Annotated[WorkspaceContext, Depends(visible_workspace)]
Moderated = Annotated[WorkspaceContext, allowed(permissions.can_moderate)]
Editable = Annotated[WorkspaceContext, allowed(_can_edit)]

"""The idea a route is about, when the reader may see it."""

from typing import Annotated

from fastapi import Depends, HTTPException

from app.core.deps import RowId, SessionDep
from app.ideas import permissions
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.workspaces.deps import Visible, WorkspaceContext, allowed_on


async def visible_idea(
    idea_id: RowId, session: SessionDep, context: Visible
) -> tuple[WorkspaceContext, Idea]:
    """The idea, when it belongs to a workspace the reader may see; 404 otherwise, so an id from
    another (perhaps members-only) workspace reveals nothing."""
    idea = await idea_service.get(session=session, workspace_id=context.workspace.id, idea_id=idea_id)
    if idea is None or not context.can(permissions.can_see, idea):
        raise HTTPException(status_code=404)
    return context, idea


VisibleIdea = Annotated[tuple[WorkspaceContext, Idea], Depends(visible_idea)]


def _may_edit(user, context: WorkspaceContext, idea: Idea) -> bool:
    return permissions.can_edit(user, context.workspace, idea, context.membership)


def _may_support(user, context: WorkspaceContext, idea: Idea) -> bool:
    # As in the live room: a hidden idea takes no support, from anyone.
    return context.can(permissions.can_support) and idea.hidden_at is None


def _may_change_status(user, context: WorkspaceContext, _idea: Idea) -> bool:
    return context.can(permissions.can_change_status)


EditableIdea = Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_edit)]
IdeaToSupport = Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_support)]
IdeaToJudge = Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_change_status)]

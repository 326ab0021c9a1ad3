"""What happens to ideas that domains above ideas act on (notifications tell the followers)."""

from dataclasses import dataclass

from app.core.events import Event
from app.ideas.models import Idea
from app.workspaces.models import Workspace


@dataclass(frozen=True)
class IdeaPosted(Event):
    workspace: Workspace
    idea: Idea
    author_id: int


@dataclass(frozen=True)
class IdeaStatusChanged(Event):
    """A moderator gave the idea a new status: its followers and its author are told."""

    workspace: Workspace
    idea: Idea
    moderator_id: int

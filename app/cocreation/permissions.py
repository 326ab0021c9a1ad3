"""Who may see, schedule, register for and run co-creation sessions."""

from app.accounts.models import User
from app.cocreation.models import CocreationSession, SessionStatus
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import Membership, Workspace


def can_manage(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """Schedule, edit, publish, run live, take attendance, write minutes: the workspace's moderators."""
    return not workspace.is_archived and workspace_permissions.can_moderate(user, workspace, membership)


def can_view(
    user: User | None, workspace: Workspace, membership: Membership | None, cs: CocreationSession
) -> bool:
    return can_view_status(user, workspace, membership, cs.status)


def can_view_status(
    user: User | None, workspace: Workspace, membership: Membership | None, status: str
) -> bool:
    """Drafts are the moderators' until published; everything else is seen with the workspace."""
    return status != SessionStatus.DRAFT or workspace_permissions.can_moderate(user, workspace, membership)


def can_register(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """Active members (banned ones are not) and staff of a workspace that is not archived."""
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_take_part_live(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """Add ideas and support them in the live room."""
    return workspace_permissions.can_contribute(user, workspace, membership)

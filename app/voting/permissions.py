"""Who may create, close and vote on ballots."""

from app.accounts.models import User
from app.cocreation import permissions as session_permissions
from app.workspaces import permissions as workspace_permissions
from app.workspaces.models import Membership, Workspace


def can_manage(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """Create ballots, close them early: the workspace's moderators, while it is not archived."""
    return not workspace.is_archived and workspace_permissions.can_moderate(user, workspace, membership)


def can_vote_here(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """Active members and staff; a banned member votes nowhere in the workspace. A session ballot
    also asks for a place in the session (``service.is_eligible``)."""
    return workspace_permissions.can_contribute(user, workspace, membership)


def can_see(user: User | None, standing) -> bool:
    """The ballot's workspace is visible to the user, and its session (if any) is published or the
    user moderates: what the ballot page's dependencies check, from ``service.standing``."""
    workspace, membership = standing.workspace, standing.membership
    if not workspace_permissions.can_view(user, workspace, membership):
        return False
    if standing.session_status is None:
        return True
    return session_permissions.can_view_status(user, workspace, membership, standing.session_status)

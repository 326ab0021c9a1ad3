"""Who may see, join, contribute to and moderate a workspace. Facilitators and admins act as
moderators everywhere; city officials moderate the workspaces they are moderators of."""

from app.accounts.models import Role, User
from app.core.db import utcnow
from app.workspaces.models import MemberRole, Membership, MemberStatus, Workspace


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in (Role.FACILITATOR, Role.ADMIN)


def is_banned(membership: Membership | None) -> bool:
    """Banned from taking part, for good or until a moment still ahead."""
    return (
        membership is not None
        and membership.status == MemberStatus.BANNED
        and (membership.banned_until is None or membership.banned_until > utcnow())
    )


def is_active_member(membership: Membership | None) -> bool:
    """An approved member who may take part: a ban whose time is over counts as over."""
    return membership is not None and (
        membership.status == MemberStatus.ACTIVE
        or (membership.status == MemberStatus.BANNED and not is_banned(membership))
    )


def can_create_workspace(user: User | None) -> bool:
    return is_staff(user)


def can_view(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """A banned member still reads."""
    return workspace.is_public or is_staff(user) or is_active_member(membership) or is_banned(membership)


def can_join(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """A signed-in user with no standing request may join or ask to; a declined one may ask again."""
    return (
        user is not None
        and not workspace.is_archived
        and (membership is None or membership.status == MemberStatus.DECLINED)
    )


def can_leave(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return membership is not None and membership.status in (MemberStatus.ACTIVE, MemberStatus.PENDING)


def can_contribute(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    """Post, comment, support: active members (and staff) of a workspace that is not archived."""
    return not workspace.is_archived and (is_active_member(membership) or is_staff(user))


def can_moderate(user: User | None, workspace: Workspace, membership: Membership | None) -> bool:
    return is_staff(user) or (is_active_member(membership) and membership.role == MemberRole.MODERATOR)


def can_sanction(
    user: User | None,
    workspace: Workspace,
    membership: Membership | None,
    target: Membership,
    target_user: User,
) -> bool:
    """Warn or ban a member: moderators may, but not themselves, staff, or (unless they are staff) a
    fellow moderator."""
    return (
        can_moderate(user, workspace, membership)
        and target_user.id != user.id
        and not is_staff(target_user)
        and (target.role != MemberRole.MODERATOR or is_staff(user))
    )


def can_appoint_moderators(user: User | None, workspace: Workspace) -> bool:
    return is_staff(user) and not workspace.is_archived


def can_edit(user: User | None, workspace: Workspace) -> bool:
    """Title, summary, visibility, join policy and archiving are the facilitators' to change."""
    return is_staff(user)

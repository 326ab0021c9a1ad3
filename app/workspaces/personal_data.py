"""The workspaces' part of a person's data (``app.core.personal_data``): their memberships."""

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register
from app.workspaces import service
from app.workspaces.models import Membership, MemberStatus, Workspace


def workspace_ref(workspace: Workspace | None) -> dict | None:
    """A workspace as the export names it beside what is in it."""
    if workspace is None:
        return None
    return {
        "id": workspace.id,
        "slug": workspace.slug,
        "title_en": workspace.title_en,
        "title_zh": workspace.title_zh,
    }


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    memberships = await session.exec(
        select(Membership, Workspace)
        .join(Workspace, col(Workspace.id) == Membership.workspace_id)
        .where(Membership.user_id == user.id)
        .order_by(col(Membership.id))
    )
    return {
        "memberships": [
            {
                "workspace": workspace_ref(workspace),
                "role": membership.role,
                "status": membership.status,
                "message": membership.message or None,
                "asked_at": iso(membership.created_at),
                "decided_at": iso(membership.decided_at),
                "banned_until": iso(membership.banned_until)
                if membership.status == MemberStatus.BANNED
                else None,
                "ban_reason": membership.ban_reason or None,
                "warning": membership.warning or None,
                "warned_at": iso(membership.warned_at),
            }
            for membership, workspace in memberships.all()
        ]
    }


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    """Active and banned members are counted (a ban keeps the place); the memberships go."""
    counted = select(Membership.workspace_id).where(
        Membership.user_id == user.id,
        col(Membership.status).in_((MemberStatus.ACTIVE, MemberStatus.BANNED)),
    )
    await service.count_members(session, counted, -1)
    await session.exec(delete(Membership).where(col(Membership.user_id) == user.id))


PART = register(
    PersonalData(
        name="workspaces",
        references={
            "membership.user_id": (
                "deleted; the workspace's member count loses it, a pending request is withdrawn"
            ),
            "membership.decided_by_id": "emptied: the decision stays",
            "activity.actor_id": "emptied: the workspace's feed stays",
            "activity.subject_id": "emptied",
            "workspace.created_by_id": "emptied",
        },
        export_user=export_user,
        forget_user=forget_user,
        # After the moderation cases about the memberships are dropped (moderation, 20).
        order=30,
    )
)

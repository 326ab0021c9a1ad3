"""The notifications' part of a person's data (``app.core.personal_data``): what they follow and
what they were told."""

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register
from app.ideas.models import Idea
from app.notifications.models import Follow, Notification
from app.workspaces.models import Workspace


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    follows = await session.exec(
        select(Follow, Workspace.slug, Idea.title)
        .outerjoin(Workspace, col(Workspace.id) == Follow.workspace_id)
        .outerjoin(Idea, col(Idea.id) == Follow.idea_id)
        .where(Follow.user_id == user.id)
        .order_by(col(Follow.id))
    )
    notifications = await session.exec(
        select(Notification).where(Notification.user_id == user.id).order_by(col(Notification.id))
    )
    return {
        "follows": [
            {
                "workspace": {"id": follow.workspace_id, "slug": slug} if follow.workspace_id else None,
                "idea": {"id": follow.idea_id, "title": title} if follow.idea_id else None,
                "since": iso(follow.created_at),
            }
            for follow, slug, title in follows.all()
        ],
        "notifications": [
            {
                "kind": notification.kind,
                "workspace_id": notification.workspace_id,
                "idea_id": notification.idea_id,
                "comment_id": notification.comment_id,
                "session_id": notification.session_id,
                "created_at": iso(notification.created_at),
                "read_at": iso(notification.read_at),
            }
            for notification in notifications.all()
        ],
    }


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    """The person's requests to join are withdrawn from the moderators' notifications."""
    await session.exec(
        delete(Notification).where(
            col(Notification.kind) == "membership_requested", col(Notification.actor_id) == user.id
        )
    )


PART = register(
    PersonalData(
        name="notifications",
        references={
            "follow.user_id": "deleted",
            "notification.user_id": "deleted",
            "notification.actor_id": (
                "emptied: others' notifications say 'Someone'; a request to join is withdrawn"
            ),
        },
        export_user=export_user,
        forget_user=forget_user,
        # With the memberships (workspaces, 30) the requests were for.
        order=35,
    )
)

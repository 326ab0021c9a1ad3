"""The ideas' part of a person's data (``app.core.personal_data``): their ideas and supports. The
ideas' counters and the workspaces' idea counts change here through their owners' functions."""

from collections import Counter

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register
from app.ideas import service
from app.ideas.models import Idea, Support
from app.workspaces import service as workspace_service
from app.workspaces.models import Workspace
from app.workspaces.personal_data import workspace_ref


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    ideas = list(
        (
            await session.exec(
                select(Idea, Workspace)
                .join(Workspace, col(Workspace.id) == Idea.workspace_id)
                .where(Idea.author_id == user.id)
                .order_by(col(Idea.id))
            )
        ).all()
    )
    tags = await service.tags_of(session=session, idea_ids=[idea.id for idea, _workspace in ideas])
    supports = await session.exec(
        select(Support, Idea.title, Idea.workspace_id)
        .join(Idea, col(Idea.id) == Support.idea_id)
        .where(Support.user_id == user.id)
        .order_by(col(Support.id))
    )
    return {
        "ideas": [
            {
                "id": idea.id,
                "workspace": workspace_ref(workspace),
                "title": idea.title,
                "body": idea.body,
                "tags": tags[idea.id],
                "place_name": idea.place_name or None,
                "latitude": idea.latitude,
                "longitude": idea.longitude,
                "status": idea.status,
                "supports": idea.support_count,
                "comments": idea.comment_count,
                "hidden": idea.is_hidden,
                "locked": idea.is_locked,
                "created_at": iso(idea.created_at),
                "updated_at": iso(idea.updated_at),
            }
            for idea, workspace in ideas
        ],
        "supports": [
            {
                "idea": {"id": support.idea_id, "title": title, "workspace_id": workspace_id},
                "at": iso(support.created_at),
            }
            for support, title, workspace_id in supports.all()
        ],
    }


async def _forget_supports(session: AsyncSession, user_id: int) -> None:
    mine = select(Support.idea_id).where(Support.user_id == user_id)
    await service.count_supports(session, mine, -1)
    await session.exec(delete(Support).where(col(Support.user_id) == user_id))


async def _remove_ideas(session: AsyncSession, user_id: int) -> int:
    """Deletes the person's ideas with their comments, supports, tags and files (the database
    cascades; the files' storage keys were taken by the attachments' part). Each workspace counts its
    shown ideas (a hidden idea is out of every count), so only those are taken off."""
    ideas = list(
        (
            await session.exec(
                select(Idea.id, Idea.workspace_id, Idea.hidden_at).where(Idea.author_id == user_id)
            )
        ).all()
    )
    if not ideas:
        return 0
    idea_ids = [idea_id for idea_id, _workspace_id, _hidden in ideas]
    shown = Counter(workspace_id for _idea_id, workspace_id, hidden_at in ideas if hidden_at is None)
    for workspace_id, number in sorted(shown.items()):
        await workspace_service.count_ideas(session, workspace_id, -number)
    await session.exec(delete(Idea).where(col(Idea.id).in_(idea_ids)))
    return len(idea_ids)


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    await _forget_supports(session, user.id)
    if context.remove_contributions:
        context.counts["ideas_removed"] += await _remove_ideas(session, user.id)


PART = register(
    PersonalData(
        name="ideas",
        references={
            "support.user_id": "deleted; each idea's support count loses it",
            "idea.author_id": "emptied ('a former participant'), or the idea deleted with its files",
            "idea.locked_by_id": "emptied",
            "idea_status_change.changed_by_id": "emptied: the public history of the idea stays",
        },
        export_user=export_user,
        forget_user=forget_user,
        # After the moderation cases about the ideas are dropped (moderation, 20) and their files'
        # keys taken (attachments, 40); before the comments, which lose those on the ideas with them.
        order=50,
    )
)

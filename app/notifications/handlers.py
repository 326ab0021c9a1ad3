"""Who is told of what happened in the domains below (``app.core.events``): a notice becomes a
notification for each of its people, and the followers of a workspace or an idea hear of its news."""

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.events import Notice, NoticeWithdrawn, handles
from app.ideas.events import IdeaPosted, IdeaStatusChanged
from app.notifications import service


@handles(Notice)
async def tell(session: AsyncSession, event: Notice) -> None:
    service.notify(
        session=session,
        user_ids=event.user_ids,
        kind=event.kind,
        actor_id=event.actor_id,
        workspace_id=event.workspace_id,
        idea_id=event.idea_id,
        comment_id=event.comment_id,
        session_id=event.session_id,
    )


@handles(NoticeWithdrawn)
async def withdraw(session: AsyncSession, event: NoticeWithdrawn) -> None:
    await service.withdraw(
        session=session, kind=event.kind, actor_id=event.actor_id, workspace_id=event.workspace_id
    )


@handles(IdeaPosted)
async def tell_workspace_followers(session: AsyncSession, event: IdeaPosted) -> None:
    service.notify(
        session=session,
        user_ids=await service.followers(session=session, workspace=event.workspace),
        kind="followed_workspace_idea",
        actor_id=event.author_id,
        workspace_id=event.workspace.id,
        idea_id=event.idea.id,
    )


@handles(IdeaStatusChanged)
async def tell_idea_followers(session: AsyncSession, event: IdeaStatusChanged) -> None:
    # A hidden idea is news to those who may still see it: its author and the moderators.
    idea, workspace = event.idea, event.workspace
    followers = set(await service.followers(session=session, workspace=workspace, idea=idea))
    service.notify(
        session=session,
        user_ids=followers - {idea.author_id},
        kind="followed_idea_status",
        actor_id=event.moderator_id,
        workspace_id=workspace.id,
        idea_id=idea.id,
    )
    if idea.author_id:
        service.notify(
            session=session,
            user_ids=[idea.author_id],
            kind="idea_status",
            actor_id=event.moderator_id,
            workspace_id=workspace.id,
            idea_id=idea.id,
        )

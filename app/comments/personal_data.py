"""The comments' part of a person's data (``app.core.personal_data``): their comments. The ideas'
comment counts change through ``app.ideas.service.count_comments``."""

from sqlmodel import col, delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.comments.models import Comment
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register
from app.ideas import service as idea_service
from app.ideas.models import Idea


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    comments = await session.exec(
        select(Comment, Idea.title, Idea.workspace_id)
        .join(Idea, col(Idea.id) == Comment.idea_id)
        .where(Comment.author_id == user.id)
        .order_by(col(Comment.id))
    )
    return {
        "comments": [
            {
                "id": comment.id,
                "idea": {"id": comment.idea_id, "title": title, "workspace_id": workspace_id},
                "reply_to": comment.parent_id,
                "body": comment.body,
                "hidden": comment.hidden_at is not None,
                "created_at": iso(comment.created_at),
                "edited_at": iso(comment.edited_at),
            }
            for comment, title, workspace_id in comments.all()
        ]
    }


async def _remove_comments(session: AsyncSession, user_id: int) -> tuple[int, int]:
    """Deletes the person's comments, except one that others replied to (below it, at any depth):
    that one keeps its place in the thread as a removed comment, without its words, so nobody's
    reply is lost. Each idea counts its comments one fewer for every comment of theirs, deleted or
    emptied. Returns how many were deleted and how many emptied."""
    mine = list(
        (await session.exec(select(Comment.id, Comment.thread_id).where(Comment.author_id == user_id))).all()
    )
    if not mine:
        return 0, 0
    thread_ids = sorted({thread_id for _id, thread_id in mine})
    rows = await session.exec(
        select(Comment.id, Comment.parent_id, Comment.author_id, Comment.body == "").where(
            col(Comment.thread_id).in_(thread_ids)
        )
    )
    children: dict[int, list[int]] = {}
    others: set[int] = set()  # comments with someone else's words in them
    for comment_id, parent_id, author_id, removed in rows.all():
        children.setdefault(parent_id, []).append(comment_id)
        if author_id != user_id and not removed:
            others.add(comment_id)

    def holds_others(comment_id: int) -> bool:
        return comment_id in others or any(holds_others(child) for child in children.get(comment_id, ()))

    my_ids = {comment_id for comment_id, _thread_id in mine}
    emptied = sorted(comment_id for comment_id in my_ids if holds_others(comment_id))
    deleted = sorted(my_ids - set(emptied))
    per_idea = (
        select(Comment.idea_id, func.count()).where(Comment.author_id == user_id).group_by(Comment.idea_id)
    )
    for idea_id, number in sorted((await session.exec(per_idea)).all()):
        await idea_service.count_comments(session, idea_id, -number)
    if emptied:
        await session.exec(
            update(Comment)
            .where(col(Comment.id).in_(emptied))
            .values(body="", body_html="", author_id=None, hidden_at=None, edited_at=None)
        )
    # Replies below a deleted comment are the person's own or removed ones: they go with it.
    await session.exec(delete(Comment).where(col(Comment.id).in_(deleted)))
    return len(deleted), len(emptied)


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    if context.remove_contributions:
        removed, emptied = await _remove_comments(session, user.id)
        context.counts["comments_removed"] += removed
        context.counts["comments_emptied"] += emptied


PART = register(
    PersonalData(
        name="comments",
        references={
            "comment.author_id": "emptied ('a former participant'), or the comment removed",
        },
        export_user=export_user,
        forget_user=forget_user,
        # After the ideas (50): the comments on the person's own ideas went with them.
        order=60,
    )
)

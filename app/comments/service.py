"""Comments on ideas: posting and replying three levels deep, editing for a short while, and pages of
threads read in a fixed number of queries however long the discussion."""

import functools
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.comments import permissions
from app.comments.models import Comment
from app.core import markdown
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.events import Notice, publish
from app.core.forms import FormError, clean_text
from app.core.i18n import _
from app.ideas import permissions as idea_permissions
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.workspaces.models import Membership, Workspace

BODY_MAX = 10_000
PAGE_SIZE = 20


@dataclass
class CommentNode:
    """A comment with its author's name (None for someone no longer there) and its replies, oldest
    first."""

    comment: Comment
    author_name: str | None
    children: list["CommentNode"] = field(default_factory=list)
    # Set by ``app.moderation.service.annotate``: the comment's moderation case, if any, and whether
    # the reader has reported it.
    case: object | None = None
    reported: bool = False
    # The idea it is on, when loaded on its own (``get``).
    idea: Idea | None = None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class ThreadPage:
    """One page of an idea's top-level comments, each with all its replies."""

    threads: list[CommentNode]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _clean_body(body: str, errors: dict[str, str]) -> str:
    return clean_text(body, field="body", errors=errors, max_length=BODY_MAX)


async def add(
    *,
    session: AsyncSession,
    workspace: Workspace,
    idea: Idea,
    author: User,
    body: str,
    parent_id: int | None = None,
) -> Comment:
    """Posts a comment on the idea, or a reply to one of its comments. The idea's author and the
    author of the comment replied to are told, each once. A locked or hidden idea refuses it (409)."""
    if not idea_permissions.takes_comments(idea):
        closed = _("This idea is hidden.") if idea.is_hidden else _("This idea is locked.")
        raise FormError({"body": closed + " " + _("It takes no new comments.")}, status_code=409)
    errors: dict[str, str] = {}
    text = _clean_body(body, errors)
    parent = None
    if parent_id is not None:
        parent = await session.get(Comment, parent_id)
        if parent is None or parent.idea_id != idea.id or parent.hidden_at is not None or parent.is_removed:
            errors["parent_id"] = _("The comment you replied to is no longer there.")
        elif not permissions.can_reply_to(parent):
            errors["parent_id"] = _("Replies go at most three levels deep.")
    if errors:
        raise FormError(errors)
    comment = Comment(
        idea_id=idea.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        thread_id=parent.thread_id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body=text,
        body_html=markdown.render(text),
    )
    session.add(comment)
    await session.flush()
    if parent is None:
        comment.thread_id = comment.id
    # One relative UPDATE, so comments posted at the same moment are all counted.
    await idea_service.count_comments(session, idea.id, 1, at=comment.created_at)
    replied_to = parent.author_id if parent else None
    if replied_to:
        await publish(
            session,
            Notice(
                user_ids=[replied_to],
                kind="comment_reply",
                actor_id=author.id,
                workspace_id=workspace.id,
                idea_id=idea.id,
                comment_id=comment.id,
            ),
        )
    if idea.author_id and idea.author_id != replied_to:
        await publish(
            session,
            Notice(
                user_ids=[idea.author_id],
                kind="idea_comment",
                actor_id=author.id,
                workspace_id=workspace.id,
                idea_id=idea.id,
                comment_id=comment.id,
            ),
        )
    await session.flush()
    await session.refresh(idea, ["comment_count", "last_activity_at"])
    return comment


async def edit(
    *,
    session: AsyncSession,
    workspace: Workspace,
    membership: Membership | None,
    comment: Comment,
    editor: User,
    body: str,
) -> Comment:
    """The author's correction. Refused (403) when it is not theirs to change (any more)."""
    if not permissions.can_edit_comment(editor, comment, workspace, membership, utcnow()):
        raise Refused(_("You can no longer edit this comment."), 403)
    errors: dict[str, str] = {}
    text = _clean_body(body, errors)
    if errors:
        raise FormError(errors)
    comment.body = text
    comment.body_html = markdown.render(text)
    comment.edited_at = utcnow()
    session.add(comment)
    await session.flush()
    return comment


async def get(*, session: AsyncSession, workspace_id: int, comment_id: int) -> CommentNode | None:
    """The comment (with its author and idea, without its replies) when it is on an idea of this
    workspace."""
    row = (
        await session.exec(
            select(Comment, User.display_name, Idea)
            .join(Idea, col(Idea.id) == Comment.idea_id)
            .outerjoin(User, col(User.id) == Comment.author_id)
            .where(col(Comment.id) == comment_id, Idea.workspace_id == workspace_id)
        )
    ).first()
    return CommentNode(comment=row[0], author_name=row[1], idea=row[2]) if row else None


@functools.cache
def _thread_statements():
    """A page of an idea's top-level comments, and the replies in those threads, each comment with
    its author's name; built once, the idea, the page and the threads bound."""
    # A top-level comment's thread_id is its own id; ordering by it follows the
    # (idea_id, thread_id, id) index.
    idea_id = sa.bindparam("idea_id", type_=sa.Integer)
    first = (
        select(Comment, User.display_name)
        .outerjoin(User, col(User.id) == Comment.author_id)
        .where(col(Comment.idea_id) == idea_id, col(Comment.parent_id).is_(None))
        .order_by(col(Comment.thread_id), col(Comment.id))
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    replies = (
        select(Comment, User.display_name)
        .outerjoin(User, col(User.id) == Comment.author_id)
        .where(
            col(Comment.idea_id) == idea_id,
            col(Comment.thread_id).in_(sa.bindparam("thread_ids", expanding=True)),
            col(Comment.parent_id).is_not(None),
        )
        .order_by(col(Comment.id))
    )
    return first, replies


async def page_of_threads(
    *, session: AsyncSession, idea_id: int, page: int = 1, per_page: int = PAGE_SIZE
) -> ThreadPage:
    """A page of top-level comments, oldest first, each with all its replies as a tree: two queries
    whatever the number of comments."""
    first, replies = _thread_statements()
    params = {"idea_id": idea_id, "offset": (page - 1) * per_page, "limit": per_page + 1}
    rows = list((await session.exec(first, params=params)).all())
    threads = [CommentNode(comment=comment, author_name=name) for comment, name in rows[:per_page]]
    nodes = {node.comment.id: node for node in threads}
    if nodes:
        found = await session.exec(replies, params={"idea_id": idea_id, "thread_ids": list(nodes)})
        # A reply always has a larger id than its parent, so in id order the parent comes first.
        for comment, name in found.all():
            node = nodes[comment.id] = CommentNode(comment=comment, author_name=name)
            nodes[comment.parent_id].children.append(node)
    return ThreadPage(threads=threads, page=page, has_next=len(rows) > per_page)


async def page_holding(*, session: AsyncSession, comment: Comment, per_page: int = PAGE_SIZE) -> int:
    """The page of threads on which this comment (or the thread it belongs to) is shown."""
    before = (
        await session.exec(
            select(func.count())
            .select_from(Comment)
            .where(
                Comment.idea_id == comment.idea_id,
                col(Comment.parent_id).is_(None),
                col(Comment.thread_id) <= comment.thread_id,
            )
        )
    ).one()
    return max(1, (before - 1) // per_page + 1)

"""Full-text search over ideas, English and Chinese alike.

SQLite: an FTS5 index with the trigram tokenizer (``search_idea``), which matches any substring of three
or more characters in any script. PostgreSQL: ILIKE over title and body, served by pg_trgm GIN indexes.
Queries shorter than three characters fall back to a plain substring match on both databases.
"""

import functools
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, literal_column, or_, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.ideas.models import Idea
from app.workspaces.models import Membership, MemberStatus, Visibility, Workspace

QUERY_MAX = 100
PAGE_SIZE = 20


@dataclass
class SearchResults:
    query: str
    hits: list[tuple[Idea, Workspace]]
    author_names: dict[int, str]
    page: int
    has_next: bool


def clean_query(query: str) -> str:
    return " ".join(query.split())[:QUERY_MAX]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(*, full_text: bool):
    """Whether an idea matches the bound ``phrase`` (SQLite's full-text index, for three characters
    or more) or the bound ``pattern`` (a LIKE pattern on title and body)."""
    if full_text:
        matching = (
            select(literal_column("rowid"))
            .select_from(text("search_idea"))
            .where(text("search_idea MATCH :phrase"))
        )
        return col(Idea.id).in_(matching)
    pattern = bindparam("pattern")
    return or_(col(Idea.title).ilike(pattern, escape="\\"), col(Idea.body).ilike(pattern, escape="\\"))


@functools.cache
def _search_statement(*, full_text: bool, in_workspace: bool, staff: bool, signed_in: bool):
    """The search's statement for one kind of query and reader, built once: the query, the reader,
    the workspace and the page are bound parameters. Each hit comes with its workspace and its
    author's name."""
    statement = (
        select(Idea, Workspace, User.display_name)
        .join(Workspace, col(Workspace.id) == Idea.workspace_id)
        .outerjoin(User, col(User.id) == Idea.author_id)
        .where(_matches(full_text=full_text), col(Idea.hidden_at).is_(None))
    )
    if in_workspace:
        statement = statement.where(col(Idea.workspace_id) == bindparam("workspace_id"))
    if not staff:
        visible = col(Workspace.visibility) == Visibility.PUBLIC
        if signed_in:
            mine = select(Membership.workspace_id).where(
                col(Membership.user_id) == bindparam("reader_id"), Membership.status == MemberStatus.ACTIVE
            )
            visible = or_(visible, col(Workspace.id).in_(mine))
        statement = statement.where(visible)
    return (
        statement.order_by(col(Idea.id).desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


async def search_ideas(
    *,
    session: AsyncSession,
    query: str,
    user: User | None,
    staff: bool,
    workspace_id: int | None = None,
    page: int = 1,
) -> SearchResults:
    """Ideas matching ``query`` that this reader may see (public workspaces, their own, all for staff),
    in one workspace or across the network, newest first. One query. Newest first lets the database
    walk ideas backwards and stop at a page, instead of ranking every match of a common phrase."""
    query = clean_query(query)
    if not query:
        return SearchResults(query=query, hits=[], author_names={}, page=page, has_next=False)
    full_text = session.bind.dialect.name == "sqlite" and len(query) >= 3
    statement = _search_statement(
        full_text=full_text, in_workspace=workspace_id is not None, staff=staff, signed_in=user is not None
    )
    params = {
        "workspace_id": workspace_id,
        "reader_id": user.id if user else None,
        "offset": (page - 1) * PAGE_SIZE,
        "limit": PAGE_SIZE + 1,
    }
    if full_text:
        params["phrase"] = '"' + query.replace('"', '""') + '"'
    else:
        params["pattern"] = f"%{_escape_like(query)}%"
    rows = list((await session.exec(statement, params=params)).all())
    hits = [(idea, workspace) for idea, workspace, _name in rows[:PAGE_SIZE]]
    names = {idea.author_id: name for idea, _workspace, name in rows[:PAGE_SIZE] if name is not None}
    return SearchResults(
        query=query, hits=hits, author_names=names, page=page, has_next=len(rows) > PAGE_SIZE
    )

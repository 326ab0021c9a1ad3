"""Full-text search over ideas, English and Chinese alike.

SQLite: an FTS5 index with the trigram tokenizer (``search_idea``), which matches any substring of three
or more characters in any script. PostgreSQL: ILIKE over title and body, served by pg_trgm GIN indexes.
Queries shorter than three characters fall back to a plain substring match on both databases.
"""

from dataclasses import dataclass

from sqlalchemy import literal_column, or_, text
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
    authors: dict[int, User]
    page: int
    has_next: bool


def clean_query(query: str) -> str:
    return " ".join(query.split())[:QUERY_MAX]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches(dialect: str, query: str):
    if dialect == "sqlite" and len(query) >= 3:
        phrase = '"' + query.replace('"', '""') + '"'
        matching = (
            select(literal_column("rowid"))
            .select_from(text("search_idea"))
            .where(text("search_idea MATCH :phrase").bindparams(phrase=phrase))
        )
        return col(Idea.id).in_(matching)
    pattern = f"%{_escape_like(query)}%"
    return or_(col(Idea.title).ilike(pattern, escape="\\"), col(Idea.body).ilike(pattern, escape="\\"))


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
    in one workspace or across the network, newest first. Two queries. Newest first lets the database
    walk ideas backwards and stop at a page, instead of ranking every match of a common phrase."""
    query = clean_query(query)
    if not query:
        return SearchResults(query=query, hits=[], authors={}, page=page, has_next=False)
    dialect = session.bind.dialect.name
    statement = (
        select(Idea, Workspace)
        .join(Workspace, col(Workspace.id) == Idea.workspace_id)
        .where(_matches(dialect, query), col(Idea.hidden_at).is_(None))
    )
    if workspace_id is not None:
        statement = statement.where(Idea.workspace_id == workspace_id)
    if not staff:
        visible = col(Workspace.visibility) == Visibility.PUBLIC
        if user is not None:
            mine = select(Membership.workspace_id).where(
                Membership.user_id == user.id, Membership.status == MemberStatus.ACTIVE
            )
            visible = or_(visible, col(Workspace.id).in_(mine))
        statement = statement.where(visible)
    rows = list(
        (
            await session.exec(
                statement.order_by(col(Idea.id).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
            )
        ).all()
    )
    hits = rows[:PAGE_SIZE]
    author_ids = {idea.author_id for idea, _workspace in hits if idea.author_id}
    authors = {}
    if author_ids:
        authors = {
            u.id: u for u in (await session.exec(select(User).where(col(User.id).in_(author_ids)))).all()
        }
    return SearchResults(query=query, hits=hits, authors=authors, page=page, has_next=len(rows) > PAGE_SIZE)

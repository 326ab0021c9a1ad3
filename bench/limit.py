"""The stack's limit: the rows the app's busiest pages show, served as leanly as the stack allows.

An ASGI app on the app's own stack (FastAPI, Jinja2, SQLAlchemy's async engine made by
``app.core.db.create_engine`` with the app's driver and pool settings, served by uvicorn with one
worker) and nothing else: no middleware, no sign-in, no gettext, no ORM objects. Each endpoint runs
ONE SQLAlchemy Core statement that walks an index and renders ONE small template with the rows. The
paths are the app's, so a benchmark sends the same request to both (``bench/ratio.py``):

- ``GET /w/<slug>``: the workspace's header and its first page of ideas, newest first (with authors;
  a workspace without ideas answers 404 here),
- ``GET /w/<slug>/ideas/<id>``: the idea with its author and the comments of its first page of
  threads (each top-level comment with all its replies, as the idea page shows them),
- ``GET /search?q=...``: the first page of ideas matching ``q`` across the network, newest first,
- ``GET /workspaces``: the first page of workspaces with their cities and the reader's membership.

The app reads who is signed in from the session cookie; this server has no sign-in, so the reader
whose view it shows (what ``/search`` and ``/workspaces`` may list, the reader's membership badges)
is the query parameter ``reader`` (a user id); without it the view is an anonymous visitor's.

Run it like the app, against a database the app has migrated::

    COCREATE_DATABASE_URL=sqlite+aiosqlite:///var/scale.db .venv/bin/python -m uvicorn \\
        bench.limit:create_app --factory --port 8001
"""

import itertools
from contextlib import asynccontextmanager

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import DictLoader, Environment, select_autoescape
from sqlalchemy.ext.asyncio import AsyncConnection

from app.accounts.models import User
from app.comments.models import Comment
from app.core.config import Settings
from app.core.db import AUTOCOMMIT, create_engine
from app.ideas.models import Idea
from app.network.models import City
from app.workspaces.models import Membership, MemberStatus, Visibility, Workspace, WorkspaceCity

# The app's page sizes (app.ideas.service, app.comments.service, app.search.service,
# app.workspaces.service); one more row is read to know whether there is a next page.
IDEAS_PER_PAGE = 20
THREADS_PER_PAGE = 20
HITS_PER_PAGE = 20
WORKSPACES_PER_PAGE = 24
QUERY_MAX = 100
TRIGRAM = 3  # app.search.service: shorter queries are a plain substring match

workspace = Workspace.__table__
idea = Idea.__table__
comment = Comment.__table__
user = User.__table__
city = City.__table__
workspace_city = WorkspaceCity.__table__
membership = Membership.__table__


def _visible_to_reader():
    """Public workspaces and the reader's own (``reader`` bound to a user id, or NULL: none)."""
    mine = sa.select(membership.c.workspace_id).where(
        membership.c.user_id == sa.bindparam("reader"), membership.c.status == MemberStatus.ACTIVE
    )
    return sa.or_(workspace.c.visibility == Visibility.PUBLIC, workspace.c.id.in_(mine))


def _workspace_page() -> sa.Select:
    """The first page of a workspace's visible ideas, newest first, with their authors and, on every
    row, the workspace's header: the (workspace_id, created_at) index walked backwards from the
    workspace found by its slug, stopped after a page. (A workspace without ideas gives no row.)"""
    author = user.alias("author")
    found = sa.select(workspace.c.id).where(workspace.c.slug == sa.bindparam("slug")).scalar_subquery()
    return (
        sa.select(
            workspace.c.slug,
            workspace.c.title_en,
            workspace.c.title_zh,
            workspace.c.summary_en,
            workspace.c.member_count,
            workspace.c.idea_count,
            idea.c.id,
            idea.c.title,
            idea.c.status,
            idea.c.support_count,
            idea.c.comment_count,
            idea.c.created_at,
            author.c.display_name.label("author"),
        )
        .select_from(
            idea.join(workspace, workspace.c.id == idea.c.workspace_id).outerjoin(
                author, author.c.id == idea.c.author_id
            )
        )
        .where(idea.c.workspace_id == found, idea.c.hidden_at.is_(None))
        .order_by(idea.c.created_at.desc(), idea.c.id.desc())
        .limit(IDEAS_PER_PAGE + 1)
    )


def _idea_page() -> sa.Select:
    """An idea of a workspace with its author and the comments of its first page of threads (each
    top-level comment, oldest first, and all its replies): the (idea_id, thread_id, id) index."""
    author = user.alias("author")
    commenter = user.alias("commenter")
    threads = (
        sa.select(comment.c.id)
        .where(comment.c.idea_id == sa.bindparam("idea_id"), comment.c.parent_id.is_(None))
        .order_by(comment.c.thread_id, comment.c.id)
        .limit(THREADS_PER_PAGE + 1)
    )
    return (
        sa.select(
            workspace.c.slug,
            workspace.c.title_en,
            idea.c.id,
            idea.c.title,
            idea.c.body_html,
            idea.c.status,
            idea.c.support_count,
            idea.c.comment_count,
            idea.c.created_at,
            author.c.display_name.label("author"),
            comment.c.id.label("comment_id"),
            comment.c.thread_id,
            comment.c.depth,
            comment.c.body_html.label("comment_html"),
            comment.c.created_at.label("commented_at"),
            comment.c.hidden_at.label("comment_hidden_at"),
            commenter.c.display_name.label("commenter"),
        )
        .select_from(
            idea.join(workspace, workspace.c.id == idea.c.workspace_id)
            .outerjoin(author, author.c.id == idea.c.author_id)
            .outerjoin(comment, (comment.c.idea_id == idea.c.id) & comment.c.thread_id.in_(threads))
            .outerjoin(commenter, commenter.c.id == comment.c.author_id)
        )
        .where(idea.c.id == sa.bindparam("idea_id"), workspace.c.slug == sa.bindparam("slug"))
        .order_by(comment.c.thread_id, comment.c.id)
    )


def _search_page(dialect: str, trigram: bool) -> sa.Select:
    """The first page of visible ideas matching ``phrase`` (SQLite FTS5) or ``pattern`` (ILIKE, the
    pg_trgm indexes on PostgreSQL), newest first, with workspace and author, as app.search does."""
    if dialect == "sqlite" and trigram:
        matching = (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.text("search_idea"))
            .where(sa.text("search_idea MATCH :phrase"))
        )
        matches = idea.c.id.in_(matching)
    else:
        pattern = sa.bindparam("pattern")
        matches = sa.or_(idea.c.title.ilike(pattern, escape="\\"), idea.c.body.ilike(pattern, escape="\\"))
    author = user.alias("author")
    return (
        sa.select(
            idea.c.id,
            idea.c.title,
            idea.c.body,
            idea.c.support_count,
            workspace.c.slug,
            workspace.c.title_en,
            author.c.display_name.label("author"),
        )
        .select_from(
            idea.join(workspace, workspace.c.id == idea.c.workspace_id).outerjoin(
                author, author.c.id == idea.c.author_id
            )
        )
        .where(matches, idea.c.hidden_at.is_(None), _visible_to_reader())
        .order_by(idea.c.id.desc())
        .limit(HITS_PER_PAGE + 1)
    )


def _workspace_list() -> sa.Select:
    """The first page of workspaces the reader may see (open ones first, newest first) with their
    cities and the reader's membership status: the page in a subquery, the rest joined to it."""
    page = (
        sa.select(
            workspace.c.id,
            workspace.c.slug,
            workspace.c.title_en,
            workspace.c.title_zh,
            workspace.c.visibility,
            workspace.c.member_count,
            workspace.c.idea_count,
            workspace.c.archived_at.is_not(None).label("archived"),
        )
        .where(_visible_to_reader())
        .order_by(workspace.c.archived_at.is_not(None), workspace.c.id.desc())
        .limit(WORKSPACES_PER_PAGE + 1)
        .subquery("page")
    )
    mine = membership.alias("mine")
    return (
        sa.select(page, city.c.name_en.label("city"), mine.c.status.label("my_status"))
        .select_from(
            page.outerjoin(workspace_city, workspace_city.c.workspace_id == page.c.id)
            .outerjoin(city, city.c.id == workspace_city.c.city_id)
            .outerjoin(mine, (mine.c.workspace_id == page.c.id) & (mine.c.user_id == sa.bindparam("reader")))
        )
        .order_by(page.c.archived, page.c.id.desc(), city.c.name_en)
    )


BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{% block title %}{% endblock %} · cocreate</title></head>
<body><header><a href="/">cocreate</a> <a href="/workspaces">Workspaces</a></header>
<main>{% block content %}{% endblock %}</main></body></html>
"""

TEMPLATES = {
    "base.html": BASE,
    "workspace.html": """{% extends "base.html" %}
{% block title %}{{ head.title_en or head.title_zh }}{% endblock %}
{% block content %}
<h1>{{ head.title_en or head.title_zh }}</h1>
<p>{{ head.member_count }} members · {{ head.idea_count }} ideas</p>
<section>{{ head.summary_en }}</section>
<ul class="idea-list">
{% for row in ideas %}
<li class="card"><h3><a href="/w/{{ head.slug }}/ideas/{{ row.id }}">{{ row.title }}</a></h3>
<p class="muted">{{ row.author or "a former participant" }}
 · <time>{{ row.created_at.isoformat() }}</time></p>
<p><span class="badge status-{{ row.status }}">{{ row.status }}</span></p>
<p class="counts">{{ row.support_count }} supports · {{ row.comment_count }} comments</p></li>
{% endfor %}
</ul>
{% if has_next %}<a href="/w/{{ head.slug }}?page=2">Next</a>{% endif %}
{% endblock %}""",
    "idea.html": """{% extends "base.html" %}
{% block title %}{{ head.title }}{% endblock %}
{% block content %}
<p><a href="/w/{{ head.slug }}">{{ head.title_en }}</a></p>
<h1>{{ head.title }}</h1>
<p class="muted">{{ head.author or "a former participant" }} · <time>{{ head.created_at.isoformat() }}</time>
 · {{ head.status }} · {{ head.support_count }} supports · {{ head.comment_count }} comments</p>
<div class="prose">{{ head.body_html|safe }}</div>
<ol class="comment-list">
{% for row in comments %}
<li class="comment depth-{{ row.depth }}" id="comment-{{ row.comment_id }}">
<p class="muted"><strong>{{ row.commenter or "a former participant" }}</strong>
 · <time>{{ row.commented_at.isoformat() }}</time></p>
{% if row.comment_hidden_at %}<p class="empty">This comment was hidden.</p>
{% else %}<div class="prose">{{ row.comment_html|safe }}</div>{% endif %}
</li>
{% endfor %}
</ol>
{% if has_next %}<a href="/w/{{ head.slug }}/ideas/{{ head.id }}?comments=2">Next</a>{% endif %}
{% endblock %}""",
    "search.html": """{% extends "base.html" %}
{% block title %}Search{% endblock %}
{% block content %}
<h1>Search ideas across the network</h1>
<form method="get" action="/search"><input name="q" type="search" value="{{ query }}"></form>
<ul class="idea-list">
{% for row in hits %}
<li class="card"><h2 class="h3"><a href="/w/{{ row.slug }}/ideas/{{ row.id }}">{{ row.title }}</a></h2>
<p class="muted">{{ row.title_en }} · {{ row.author or "a former participant" }}
 · {{ row.support_count }} supports</p>
{% if row.body %}<p class="excerpt">{{ row.body|truncate(220) }}</p>{% endif %}</li>
{% endfor %}
</ul>
{% if has_next %}<a href="/search?q={{ query|urlencode }}&amp;page=2">Next</a>{% endif %}
{% endblock %}""",
    "workspaces.html": """{% extends "base.html" %}
{% block title %}Workspaces{% endblock %}
{% block content %}
<h1>Workspaces</h1>
<ul class="workspace-list">
{% for w in workspaces %}
<li class="card"><h2><a href="/w/{{ w.slug }}">{{ w.title_en or w.title_zh }}</a></h2>
<p class="muted">{{ w.cities|join(", ") }} · {{ w.member_count }} members</p>
<p><span class="badge">{{ w.visibility }}</span>
{% if w.archived %} <span class="badge">archived</span>{% endif %}
{% if w.my_status == "active" %}<span class="badge badge-member">You are a member</span>{% endif %}</p></li>
{% endfor %}
</ul>
{% if has_next %}<a href="/workspaces?page=2">Next</a>{% endif %}
{% endblock %}""",
}


def _like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def create_app(settings: Settings | None = None, connection: AsyncConnection | None = None) -> FastAPI:
    """The limit's ASGI app on the database of ``settings`` (by default read from the environment,
    ``COCREATE_DATABASE_URL``, as the app reads it), or on one open ``connection`` (a test's)."""
    engine = reads = None
    if connection is None:
        engine = create_engine(settings or Settings())
        dialect = engine.dialect.name
        # The app's reads (app.core.db, Mode.READ): on PostgreSQL without BEGIN and ROLLBACK around them.
        reads = engine if dialect == "sqlite" else engine.execution_options(isolation_level=AUTOCOMMIT)
    else:
        dialect = connection.dialect.name
    statements = {
        "workspace": _workspace_page(),
        "idea": _idea_page(),
        "search": _search_page(dialect, trigram=True),
        "search_short": _search_page(dialect, trigram=False),
        "workspaces": _workspace_list(),
    }
    templates = Environment(
        loader=DictLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        auto_reload=False,
    )

    async def rows(name: str, **params) -> list[sa.Row]:
        if reads is None:
            return list((await connection.execute(statements[name], params)).all())
        async with reads.connect() as pooled:
            return list((await pooled.execute(statements[name], params)).all())

    def page(template: str, **context) -> HTMLResponse:
        return HTMLResponse(templates.get_template(template).render(**context))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        if engine is not None:
            await engine.dispose()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz():
        await rows("workspaces", reader=None)
        return JSONResponse({"status": "ok"})

    @app.get("/w/{slug}")
    async def workspace_page(slug: str):
        found = await rows("workspace", slug=slug)
        if not found:
            raise HTTPException(status_code=404)
        return page(
            "workspace.html",
            head=found[0],
            ideas=found[:IDEAS_PER_PAGE],
            has_next=len(found) > IDEAS_PER_PAGE,
        )

    @app.get("/w/{slug}/ideas/{idea_id}")
    async def idea_page(slug: str, idea_id: int):
        found = await rows("idea", slug=slug, idea_id=idea_id)
        if not found:
            raise HTTPException(status_code=404)
        # The statement reads one thread more than a page, to know whether there is a next page.
        by_thread = itertools.groupby(found, key=lambda row: row.thread_id)
        threads = [list(grouped) for _thread, grouped in itertools.islice(by_thread, THREADS_PER_PAGE + 1)]
        comments = [row for thread in threads[:THREADS_PER_PAGE] for row in thread if row.comment_id]
        return page("idea.html", head=found[0], comments=comments, has_next=len(threads) > THREADS_PER_PAGE)

    @app.get("/search")
    async def search(q: str = "", reader: int | None = None):
        query = " ".join(q.split())[:QUERY_MAX]
        hits = []
        if len(query) >= TRIGRAM:
            phrase = '"' + query.replace('"', '""') + '"'
            hits = await rows("search", phrase=phrase, pattern=_like_pattern(query), reader=reader)
        elif query:
            hits = await rows("search_short", pattern=_like_pattern(query), reader=reader)
        return page("search.html", query=query, hits=hits[:HITS_PER_PAGE], has_next=len(hits) > HITS_PER_PAGE)

    @app.get("/workspaces")
    async def workspace_list(reader: int | None = None):
        listing = []
        for _id, grouped in itertools.groupby(
            await rows("workspaces", reader=reader), key=lambda row: row.id
        ):
            first, *others = grouped
            cities = [row.city for row in (first, *others) if row.city]
            listing.append({**first._mapping, "cities": cities})
        return page(
            "workspaces.html",
            workspaces=listing[:WORKSPACES_PER_PAGE],
            has_next=len(listing) > WORKSPACES_PER_PAGE,
        )

    return app

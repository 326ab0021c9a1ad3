"""``bench/limit.py``, the stack's limit for ``bench/ratio.py``: each endpoint answers 200 and lists
the same rows as the app's page it stands for (on the small scale, for an anonymous reader)."""

import re

import httpx
import pytest
from sqlmodel import col, select

from app.demo import scale
from app.ideas.models import Idea
from app.workspaces.models import Visibility, Workspace
from bench import limit
from bench.ratio import LISTED


def listed(kind: str, html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(LISTED[kind], html)))


@pytest.fixture
async def loaded(session):
    await scale.load(session=session, scale=scale.SCALES["small"], seed=7)
    await session.flush()
    workspace = (
        await session.exec(
            select(Workspace)
            .where(Workspace.visibility == Visibility.PUBLIC)
            .order_by(col(Workspace.idea_count).desc())
        )
    ).first()
    idea = (
        await session.exec(
            select(Idea)
            .where(Idea.workspace_id == workspace.id, col(Idea.hidden_at).is_(None))
            .order_by(col(Idea.comment_count).desc())
        )
    ).first()
    return workspace, idea


@pytest.fixture
async def limit_client(connection):
    app = limit.create_app(connection=connection)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


async def test_each_endpoint_lists_the_rows_of_the_apps_page(loaded, limit_client, client):
    workspace, idea = loaded
    assert idea.comment_count > 0
    pages = [
        ("workspace", f"/w/{workspace.slug}"),
        ("idea", f"/w/{workspace.slug}/ideas/{idea.id}"),
        ("search", "/search?q=%E7%BB%BF%E8%89%B2%E8%B5%B0%E5%BB%8A"),  # 绿色走廊
        ("workspaces", "/workspaces"),
    ]
    for kind, path in pages:
        ours = await limit_client.get(path)
        theirs = await client.get(path)
        assert ours.status_code == theirs.status_code == 200, path
        rows = listed(kind, ours.text)
        assert rows, path
        if kind == "idea":  # the app nests replies under their parents; the limit lists them in order
            assert sorted(rows) == sorted(listed(kind, theirs.text)), path
        else:
            assert rows == listed(kind, theirs.text), path


async def test_an_unknown_workspace_or_idea_is_not_found(loaded, limit_client):
    workspace, idea = loaded
    assert (await limit_client.get("/w/no-such-workspace")).status_code == 404
    assert (await limit_client.get(f"/w/no-such-workspace/ideas/{idea.id}")).status_code == 404
    assert (await limit_client.get(f"/w/{workspace.slug}/ideas/0")).status_code == 404

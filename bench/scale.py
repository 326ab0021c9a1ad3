"""Latency of the busiest pages at network scale: one client, sequential requests, a real server.

Load the data first (once per database), then run the benchmark against it::

    COCREATE_DATABASE_URL=sqlite+aiosqlite:///var/scale.db .venv/bin/cocreate migrate
    COCREATE_DATABASE_URL=sqlite+aiosqlite:///var/scale.db .venv/bin/cocreate seed --scale network
    .venv/bin/python -m bench.scale --database-url sqlite+aiosqlite:///var/scale.db

The same with ``postgresql+asyncpg://postgres@127.0.0.1:5432/cocreate_scale`` for PostgreSQL. The app is
served by uvicorn on a free port of 127.0.0.1 (``tests.e2e.server.running_app``, which also applies any
pending migration). It measures, for a scale user who is a member of the busiest public workspace:

- ``GET /w/<busiest>``: the workspace page (newest ideas, activity, topics) and ``?sort=supported``,
- ``GET /w/<busiest>/ideas/<id>``: the idea with the number of comments closest to 200, comments shown,
- ``GET /search?q=绿色走廊`` and ``GET /search?q=rain garden`` across the network, and search within the
  workspace,
- ``GET /workspaces``.

Medians and percentiles are in milliseconds (nearest rank); the target is a p99 under 100 ms per page.
"""

import argparse
import asyncio
import json
import sys
from dataclasses import asdict

import httpx
from sqlalchemy import text

from app.core.config import Settings
from app.core.db import create_engine
from app.demo import scale
from bench.pages import (
    REQUEST_TIMEOUT,
    BenchError,
    csrf_token,
    expect,
    format_table,
    machine,
    measure,
    positive,
)
from tests.e2e.server import running_app


async def _targets(database_url: str) -> dict[str, object]:
    """The busiest public workspace, one of its members, and its idea with about 200 comments."""
    engine = create_engine(Settings(database_url=database_url, _env_file=None))
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT id, slug, idea_count FROM workspace WHERE visibility = 'public' "
                        "ORDER BY idea_count DESC LIMIT 1"
                    )
                )
            ).first()
            if row is None or row.idea_count < 100:
                raise BenchError("no network-scale data here: run `cocreate seed --scale network` first")
            idea = (
                await connection.execute(
                    text(
                        "SELECT id, comment_count FROM idea WHERE workspace_id = :w "
                        "ORDER BY abs(comment_count - 200), id LIMIT 1"
                    ),
                    {"w": row.id},
                )
            ).first()
            email = (
                await connection.execute(
                    text(
                        'SELECT u.email FROM membership m JOIN "user" u ON u.id = m.user_id '
                        "WHERE m.workspace_id = :w AND u.email LIKE :domain ORDER BY u.id LIMIT 1"
                    ),
                    {"w": row.id, "domain": f"%@{scale.SCALE_EMAIL_DOMAIN}"},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    return {
        "slug": row.slug,
        "ideas": row.idea_count,
        "idea": idea.id,
        "comments": idea.comment_count,
        "email": email,
    }


def run(base_url: str, targets: dict, requests: int, warmup: int):
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT, follow_redirects=False) as client:
        form = expect(client.get("/login"), 200)
        data = {
            "email": targets["email"],
            "password": scale.SCALE_PASSWORD,
            "csrf_token": csrf_token(form.text),
        }
        expect(client.post("/login", data=data), 303)
        slug = targets["slug"]
        pages = [
            (f"GET /w/{slug}", f"/w/{slug}"),
            (f"GET /w/{slug}?sort=supported", f"/w/{slug}?sort=supported"),
            (f"GET idea ({targets['comments']} comments)", f"/w/{slug}/ideas/{targets['idea']}"),
            ("GET /search?q=绿色走廊", "/search?q=绿色走廊"),
            ("GET /search?q=rain garden", "/search?q=rain%20garden"),
            (f"GET /w/{slug}/search?q=绿色", f"/w/{slug}/search?q=绿色"),
            ("GET /workspaces", "/workspaces"),
        ]
        results = []
        for name, path in pages:
            print(f"  measuring {name} ...", file=sys.stderr, flush=True)
            results.append(
                measure(
                    name,
                    "member",
                    lambda _i, path=path: expect(client.get(path), 200).content,
                    requests,
                    warmup,
                )
            )
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", required=True, help="a database loaded with `cocreate seed --scale network`"
    )
    parser.add_argument("--requests", type=positive, default=200)
    parser.add_argument("--warmup", type=positive, default=20)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    try:
        targets = asyncio.run(_targets(args.database_url))
        with running_app(args.database_url) as base_url:
            results = run(base_url, targets, args.requests, args.warmup)
    except BenchError as error:
        print(f"bench.scale: {error}", file=sys.stderr)
        return 1
    kind = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite"
    print(
        f"{kind}, network scale; busiest workspace {targets['slug']} ({targets['ideas']} ideas); {machine()}"
    )
    print(format_table(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(
                {
                    "database": kind,
                    "targets": targets,
                    "machine": machine(),
                    "results": [asdict(r) for r in results],
                },
                file,
                indent=2,
                ensure_ascii=False,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a py-spy profile's time goes: the top functions and a few shares that matter for a page.

Reads py-spy's raw (collapsed) output, one line per distinct stack: ``frame;frame;...;frame count``,
outermost frame first, each frame ``function (path:line)`` (``py-spy record --format raw``). Idle
samples are not in it unless py-spy was given ``--idle``, so the shares are of the time the process
was busy. It prints the functions with the most samples on top of the stack (self) and anywhere in
it (total, each stack counted once per function), and the share of samples whose stack passes
through each of ``CATEGORIES`` (a sample may be in several: gettext is inside template rendering).

Usage::

    .venv/bin/python -m bench.flame var/profiles/sqlite-workspace.txt --top 10
"""

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*?) \((?P<path>.*?)(?::(?P<line>\d+))?\)$")

# Each sample goes to the first category, in this order, that its innermost frame matching any of
# them belongs to: a pattern of the frame's "function (file:line)" (py-spy writes paths from the
# package down). Markup escaping called by a template is rendering; a query run by a template's lazy
# attribute is SQLAlchemy; the middleware's frames count only for the time spent in them.
CATEGORIES = {
    "gettext (translations)": r"^\S*gettext\S* \(|^_ \(app/core/i18n|babel/|gettext\.py",
    "template rendering (Jinja2, markupsafe, the templates)": r"jinja2/|markupsafe/|\.html:",
    "ORM: building objects from rows": r"sqlalchemy/orm/loading\.py",
    "ORM: session, attributes, unit of work": r"sqlalchemy/orm/|sqlmodel/",
    "SQLAlchemy Core (compile, execute, results)": r"sqlalchemy/",
    "database driver (asyncpg, aiosqlite and SQLite in its thread)": r"asyncpg/|aiosqlite/|sqlite3/",
    "ASGI stack (Starlette, FastAPI, the app's middleware)": (
        r"starlette/|fastapi/|app/core/(security|db|i18n)\.py|middleware\.py"
    ),
    "the app's own Python (routes, services, helpers)": r"\(app/",
    "uvicorn, the event loop, sockets": r"uvicorn/|asyncio/|uvloop|httptools",
}
OTHER = "other (threads' start, standard library)"
# Threads waiting for work, which py-spy samples as busy: aiosqlite's thread per connection blocked
# on its queue, and the executor's idle workers. Left out of the shares.
WAITING = re.compile(r"^(_connection_worker_thread \(aiosqlite/|_worker \(concurrent/futures/thread\.py)")
APP_CODE = re.compile(r"\((app|core|accounts|web|ideas|comments|workspaces|search)/|\.html\)")


@dataclass
class Profile:
    samples: int
    waiting: int  # samples of threads waiting for work (WAITING), not in the others
    self_counts: Counter
    total_counts: Counter
    category_counts: Counter


def short(frame: str) -> str:
    """``function (path:line)`` as ``function (package/file.py)``: the last two parts of the path."""
    match = FRAME.match(frame)
    if match is None:
        return frame
    path = "/".join(Path(match["path"]).parts[-2:])
    return f"{match['function']} ({path})"


def category_of(frames: list[str], patterns: list[tuple[str, re.Pattern]]) -> str:
    """The category of the innermost frame that belongs to one (``CATEGORIES``' order breaks ties)."""
    for frame in reversed(frames):
        for name, pattern in patterns:
            if pattern.search(frame):
                return name
    return OTHER


def read(path: Path) -> Profile:
    """Counts the samples of a py-spy raw profile by function and by category."""
    patterns = [(name, re.compile(pattern)) for name, pattern in CATEGORIES.items()]
    samples = waiting = 0
    self_counts: Counter = Counter()
    total_counts: Counter = Counter()
    category_counts: Counter = Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        weight = int(count)
        frames = [frame for frame in stack.split(";") if frame]
        if not frames:
            continue
        if WAITING.match(frames[-1]):
            waiting += weight
            continue
        samples += weight
        names = [short(frame) for frame in frames]
        self_counts[names[-1]] += weight
        for name in set(names):
            total_counts[name] += weight
        category_counts[category_of(frames, patterns)] += weight
    return Profile(samples, waiting, self_counts, total_counts, category_counts)


def report(profile: Profile, top: int) -> str:
    """The profile as text: the share of each category, then the ``top`` functions by self time and
    the ``top`` functions of the app and its templates by total time (middleware calls left out:
    every request passes through them)."""
    if not profile.samples:
        return "no samples"

    def share(count: int) -> float:
        return 100 * count / profile.samples

    lines = [
        f"{profile.samples} samples, {profile.waiting} more of threads waiting for work",
        "",
        "where the time goes (innermost frame):",
    ]
    for category in [*CATEGORIES, OTHER]:
        lines.append(f"  {share(profile.category_counts[category]):5.1f} %  {category}")
    lines += ["", f"top {top} by self time:"]
    for name, count in profile.self_counts.most_common(top):
        lines.append(f"  {share(count):5.1f} %  {name}")
    own = [
        (name, count)
        for name, count in profile.total_counts.most_common()
        if APP_CODE.search(name) and not name.split(" ", 1)[0].endswith(".__call__")
    ]
    lines += ["", f"top {top} of the app's functions and templates by total time:"]
    for name, count in own[:top]:
        lines.append(f"  {share(count):5.1f} %  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flame", description=__doc__.splitlines()[0])
    parser.add_argument("profiles", type=Path, nargs="+", help="py-spy raw (collapsed) profiles")
    parser.add_argument("--top", type=int, default=10, help="how many functions to list")
    args = parser.parse_args(argv)
    for path in args.profiles:
        print(f"== {path}")
        print(report(read(path), args.top))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tally speed of the voting methods on random ballots: pure functions, no database, no server.

With a fixed seed it draws ``--ballots`` random ranked ballots over 20 options (each a random order of a
random number of the options, 1 to 20), and as many approval ballots (a random subset of the options) and
score ballots (a random subset, each scored 0..5). Each tally runs ``--repeat`` times; it prints the best
and the median time in milliseconds, with the machine.

Usage (from the repository root)::

    .venv/bin/python -m bench.tally
    .venv/bin/python -m bench.tally --ballots 20000 --repeat 5

It exits with 1 when the median of instant runoff or Schulze reaches 2 seconds.
"""

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.voting import tally
from bench.pages import machine, positive

SEED = 20260
OPTIONS = list(range(1, 21))
LIMIT_SECONDS = 2.0
LIMITED = frozenset({"instant_runoff", "schulze"})


@dataclass
class Timing:
    method: str
    ballots: int
    best_ms: float
    median_ms: float
    winner: int | None


def random_rankings(rng: random.Random, count: int) -> list[list[int]]:
    return [rng.sample(OPTIONS, rng.randint(1, len(OPTIONS))) for _ in range(count)]


def random_approvals(rng: random.Random, count: int) -> list[set[int]]:
    return [set(rng.sample(OPTIONS, rng.randint(0, len(OPTIONS)))) for _ in range(count)]


def random_scores(rng: random.Random, count: int) -> list[dict[int, int]]:
    return [
        {option: rng.randint(0, 5) for option in rng.sample(OPTIONS, rng.randint(0, len(OPTIONS)))}
        for _ in range(count)
    ]


def time_tally(method: Callable, ballots: list, repeat: int) -> Timing:
    seconds = []
    for _ in range(repeat):
        before = time.perf_counter()
        result = method(OPTIONS, ballots)
        seconds.append(time.perf_counter() - before)
    return Timing(
        method=method.__name__,
        ballots=len(ballots),
        best_ms=round(min(seconds) * 1000, 1),
        median_ms=round(statistics.median(seconds) * 1000, 1),
        winner=result.winner,
    )


def format_table(timings: list[Timing]) -> str:
    header = f"{'method':<16} {'ballots':>8} {'best':>9} {'median':>9} {'winner':>7}"
    lines = [header, "-" * len(header)]
    for t in timings:
        lines.append(f"{t.method:<16} {t.ballots:>8} {t.best_ms:>9.1f} {t.median_ms:>9.1f} {t.winner!s:>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tally", description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=positive, default=100_000, help="ballots per method")
    parser.add_argument("--repeat", type=positive, default=3, help="timed runs per method")
    args = parser.parse_args(argv)

    print(f"drawing {args.ballots} ballots of each kind (seed {SEED}) ...", file=sys.stderr, flush=True)
    rng = random.Random(SEED)
    rankings = random_rankings(rng, args.ballots)
    approvals = random_approvals(rng, args.ballots)
    scores = random_scores(rng, args.ballots)

    timings = [
        time_tally(tally.instant_runoff, rankings, args.repeat),
        time_tally(tally.schulze, rankings, args.repeat),
        time_tally(tally.approval, approvals, args.repeat),
        time_tally(tally.score, scores, args.repeat),
    ]
    info = machine()
    print(
        f"\n{info['nproc']} CPUs  Python {info['python']}  {info['platform']}\n"
        f"{len(OPTIONS)} options, seed {SEED}, best and median of {args.repeat} runs; ms\n"
    )
    print(format_table(timings))
    too_slow = [t for t in timings if t.method in LIMITED and t.median_ms >= LIMIT_SECONDS * 1000]
    for t in too_slow:
        print(f"bench.tally: {t.method} took {t.median_ms:.0f} ms, the limit is 2 s", file=sys.stderr)
    return 1 if too_slow else 0


if __name__ == "__main__":
    sys.exit(main())

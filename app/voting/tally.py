"""Tallies of six voting methods: pure functions of option ids and ballots, no storage, no web.

Every function takes ``options`` (the ballot's option ids in their listed order) and an iterable of
ballots, and returns a frozen result with ``options`` (the input order), ``ballots`` (the number of ballots
counted), ``ranking`` (every option, best first), ``winner`` (None when nothing was cast) and ``tied`` (the
options tied for first, the winner first: one option when nothing ties with it, none without a winner;
pages say "tied" rather than "leading" when there are two or more). A ballot that
names an option outside ``options``, or is otherwise malformed (a score outside 0..5, an option ranked
twice, an unknown consent choice), raises ``ValueError``: the storage layer validates ballots before they
are counted, so a bad one here is a bug to surface, never something to skip. The order of the ballots never
changes a result.

Ties, one rule everywhere: options of equal standing are ranked in the order they are listed in
``options``, earlier first. Instant runoff applies the same rule to elimination: of the options with the
fewest votes in a round, the one that had fewer votes in the latest earlier round where their votes differ
is eliminated, and if their votes were equal in every round, the one listed last in ``options`` (the one
the rule ranks lowest). An instant-runoff winner is tied with every option that would win were it listed
first, so a result that the listed order decides reads as a tie; Schulze ties the options nobody beats.
"""

import sys
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain

SCORES = range(6)
CONSENT_CHOICES = ("agree", "abstain", "disagree", "block")


@dataclass(frozen=True, kw_only=True)
class Result:
    options: tuple[int, ...]
    ballots: int
    ranking: list[int]
    winner: int | None
    tied: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class CountResult(Result):
    counts: dict[int, int]


@dataclass(frozen=True, kw_only=True)
class ScoreTally:
    total: int
    count: int
    mean: float | None
    histogram: list[int]
    """``histogram[s]``: how many ballots gave the score ``s`` (0..5)."""


@dataclass(frozen=True, kw_only=True)
class ScoreResult(Result):
    scores: dict[int, ScoreTally]


@dataclass(frozen=True, kw_only=True)
class ConsentTally:
    agree: int
    abstain: int
    disagree: int
    block: int
    passed: bool


@dataclass(frozen=True, kw_only=True)
class ConsentResult(Result):
    consents: dict[int, ConsentTally]


@dataclass(frozen=True, kw_only=True)
class RunoffRound:
    votes: dict[int, int]
    """Ballots counted for each option still in the race, in the order of ``options``."""
    exhausted: int
    eliminated: int | None
    winner: int | None


@dataclass(frozen=True, kw_only=True)
class RunoffResult(Result):
    rounds: list[RunoffRound]


@dataclass(frozen=True, kw_only=True)
class SchulzeResult(Result):
    pairwise: dict[int, dict[int, int]]
    """``pairwise[a][b]``: the number of ballots ranking ``a`` above ``b``."""
    strongest: dict[int, dict[int, int]]
    """``strongest[a][b]``: the strength of the strongest path from ``a`` to ``b``."""


def approval(options: Sequence[int], ballots: Iterable[Collection[int]]) -> CountResult:
    """Each ballot is the set of approved options; the option approved most often wins."""
    index = _index(options)
    ballots = list(ballots)
    counts = Counter(chain.from_iterable(map(set, ballots)))
    if counts.total() != sum(map(len, ballots)):
        raise ValueError("a ballot approves an option twice")
    return _count_result(options, index, len(ballots), counts)


def single_choice(options: Sequence[int], ballots: Iterable[int]) -> CountResult:
    """Each ballot is one option; the option chosen most often wins."""
    index = _index(options)
    counts = Counter(ballots)
    return _count_result(options, index, counts.total(), counts)


def dot(options: Sequence[int], ballots: Iterable[Mapping[int, int]]) -> CountResult:
    """Each ballot spreads dots over options (option id -> dots, 0 or more); the most dots win.

    How many dots a ballot may spend is the storage layer's rule; the tally counts what it is given.
    """
    index = _index(options)
    ballots = list(ballots)
    placements = Counter(chain.from_iterable(ballot.items() for ballot in ballots))
    _check_known((option for option, _ in placements), index)
    counts: Counter[int] = Counter()
    for (option, dots), times in placements.items():
        if not _is_whole(dots) or dots < 0:
            raise ValueError(f"{dots!r} dots on option {option}: dots are whole numbers, 0 or more")
        counts[option] += dots * times
    return _count_result(options, index, len(ballots), counts)


def score(options: Sequence[int], ballots: Iterable[Mapping[int, int]]) -> ScoreResult:
    """Each ballot scores some options from 0 to 5; an option a ballot leaves out is not scored by it
    (it does not count as a 0). Options are ranked by mean score, then by the number of scores; an option
    nobody scored ranks below every scored one. The winner is None when nobody scored anything."""
    index = _index(options)
    ballots = list(ballots)
    given = Counter(chain.from_iterable(ballot.items() for ballot in ballots))
    _check_known((option for option, _ in given), index)
    histograms = {option: [0] * len(SCORES) for option in options}
    for (option, value), times in given.items():
        if not _is_whole(value) or value not in SCORES:
            raise ValueError(f"score {value!r} for option {option}: scores are whole numbers from 0 to 5")
        histograms[option][value] += times
    scores = {option: _score_tally(histogram) for option, histogram in histograms.items()}

    def standing(option: int) -> tuple[bool, Fraction, int]:
        tally = scores[option]
        # An exact mean: two options with equal means must tie, whatever floats would round them to.
        mean = Fraction(tally.total, tally.count) if tally.count else Fraction(0)
        return tally.count > 0, mean, tally.count

    ranking = _ranked(options, standing)
    winner = ranking[0] if given else None
    return ScoreResult(
        options=tuple(options),
        ballots=len(ballots),
        ranking=ranking,
        winner=winner,
        tied=_level_with(winner, ranking, standing),
        scores=scores,
    )


def consent(options: Sequence[int], ballots: Iterable[Mapping[int, str]]) -> ConsentResult:
    """Each ballot gives some options one of "agree", "abstain", "disagree" or "block".

    An option passes when nobody blocks it and more ballots agree than disagree (abstentions count for
    neither side). Options are ranked passed first, then by fewer blocks, then by agree minus disagree, then
    by more agrees. The winner is the best-ranked option that passed, None when none did (so also when
    nothing was cast).
    """
    index = _index(options)
    ballots = list(ballots)
    given = Counter(chain.from_iterable(ballot.items() for ballot in ballots))
    _check_known((option for option, _ in given), index)
    choices = {option: dict.fromkeys(CONSENT_CHOICES, 0) for option in options}
    for (option, choice), times in given.items():
        if choice not in CONSENT_CHOICES:
            raise ValueError(f"{choice!r} for option {option}: the choices are {', '.join(CONSENT_CHOICES)}")
        choices[option][choice] += times
    consents = {
        option: ConsentTally(**counts, passed=counts["block"] == 0 and counts["agree"] > counts["disagree"])
        for option, counts in choices.items()
    }

    def standing(option: int) -> tuple[bool, int, int, int]:
        tally = consents[option]
        return tally.passed, -tally.block, tally.agree - tally.disagree, tally.agree

    ranking = _ranked(options, standing)
    winner = ranking[0] if ranking and consents[ranking[0]].passed else None
    return ConsentResult(
        options=tuple(options),
        ballots=len(ballots),
        ranking=ranking,
        winner=winner,
        tied=_level_with(winner, ranking, standing),
        consents=consents,
    )


def instant_runoff(options: Sequence[int], rankings: Iterable[Sequence[int]]) -> RunoffResult:
    """Each ballot ranks some options, best first (an empty ranking is a blank ballot).

    Each round counts every ballot for its best-ranked option still in the race; a ballot with none left is
    exhausted. An option holding more than half of the ballots that are not exhausted wins; otherwise the
    option with the fewest votes is eliminated (ties: see the module docstring) and the next round begins.
    The ranking is the last round's options by the same standing, then the eliminated ones, last eliminated
    first. With no ranked option on any ballot there is one round, no winner.
    """
    groups = _ranking_groups(rankings, _index(options))
    rounds, ranking, listed_order_decided = _runoff(options, groups)
    winner = rounds[-1].winner
    tied: tuple[int, ...] = () if winner is None else (winner,)
    if listed_order_decided and winner is not None:
        others = [
            option
            for option in ranking
            if option != winner
            and _runoff([option, *(o for o in options if o != option)], groups)[0][-1].winner == option
        ]
        tied = (winner, *others)
    return RunoffResult(
        options=tuple(options),
        ballots=groups.total(),
        ranking=ranking,
        winner=winner,
        tied=tied,
        rounds=rounds,
    )


def _runoff(
    options: Sequence[int], groups: Counter[tuple[int, ...]]
) -> tuple[list[RunoffRound], list[int], bool]:
    """The rounds, the ranking, and whether an elimination fell to the listed order (its options level
    in every round so far)."""
    index = _index(options)
    ballots = groups.total()
    # Identical rankings travel together: a pile holds (ranking, ballots, position of its current choice).
    piles: dict[int, list[tuple[tuple[int, ...], int, int]]] = {option: [] for option in options}
    exhausted = 0
    for ranking, weight in groups.items():
        if ranking:
            piles[ranking[0]].append((ranking, weight, 0))
        else:
            exhausted += weight
    totals = {option: sum(weight for _, weight, _ in pile) for option, pile in piles.items()}
    remaining = list(options)
    history: list[dict[int, int]] = []
    rounds: list[RunoffRound] = []
    eliminated: list[int] = []
    listed_order_decided = False

    def votes_so_far(option: int) -> tuple[int, ...]:
        return tuple(votes[option] for votes in reversed(history))

    def standing(option: int) -> tuple[int, ...]:
        return *votes_so_far(option), -index[option]

    while True:
        votes = {option: totals[option] for option in remaining}
        history.append(votes)
        active = ballots - exhausted
        leader = max(remaining, key=votes.__getitem__, default=None)
        if not active or 2 * votes[leader] > active:
            winner = leader if active else None
            rounds.append(RunoffRound(votes=votes, exhausted=exhausted, eliminated=None, winner=winner))
            break
        loser = min(remaining, key=standing)
        if any(votes_so_far(option) == votes_so_far(loser) for option in remaining if option != loser):
            listed_order_decided = True
        rounds.append(RunoffRound(votes=votes, exhausted=exhausted, eliminated=loser, winner=None))
        remaining.remove(loser)
        eliminated.append(loser)
        in_race = set(remaining)
        for ranking, weight, position in piles.pop(loser):
            for next_position in range(position + 1, len(ranking)):
                option = ranking[next_position]
                if option in in_race:
                    piles[option].append((ranking, weight, next_position))
                    totals[option] += weight
                    break
            else:
                exhausted += weight

    ranking = sorted(remaining, key=standing, reverse=True) + eliminated[::-1]
    return rounds, ranking, listed_order_decided


def schulze(options: Sequence[int], rankings: Iterable[Sequence[int]]) -> SchulzeResult:
    """Each ballot ranks some options, best first; a ranked option is above every unranked one, and the
    unranked ones are tied with each other.

    ``a`` beats ``b`` when the strongest path from ``a`` to ``b`` is stronger than the one back (links are
    pairwise wins weighed by the winning votes). That relation is transitive; the ranking takes, again and
    again, the earliest-listed option that no option left beats. The winner is None when no ballot ranks
    anything.
    """
    index = _index(options)
    groups = _ranking_groups(rankings, index)
    pairwise = _pairwise(options, groups)
    strongest = _strongest_paths(options, pairwise)

    def beaten(option: int, rivals: list[int]) -> bool:
        return any(strongest[rival][option] > strongest[option][rival] for rival in rivals if rival != option)

    ranking: list[int] = []
    left = list(options)
    while left:
        best = next(option for option in left if not beaten(option, left))
        ranking.append(best)
        left.remove(best)
    winner = ranking[0] if any(groups) else None
    tied = tuple(option for option in ranking if not beaten(option, options)) if winner is not None else ()
    return SchulzeResult(
        options=tuple(options),
        ballots=groups.total(),
        ranking=ranking,
        winner=winner,
        tied=tied,
        pairwise=pairwise,
        strongest=strongest,
    )


def _index(options: Sequence[int]) -> dict[int, int]:
    """Each option's position in ``options``."""
    index = {option: position for position, option in enumerate(options)}
    if len(index) != len(options):
        raise ValueError("an option is listed twice")
    return index


def _check_known(ids: Iterable[Hashable], index: Mapping[int, int]) -> None:
    unknown = set(ids).difference(index)
    if unknown:
        raise ValueError(f"ballots name options that are not on the ballot: {sorted(unknown, key=repr)}")


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ranked(options: Sequence[int], standing: Callable[[int], object]) -> list[int]:
    """Options by descending standing; the sort is stable, so equal standing keeps the listed order."""
    return sorted(options, key=standing, reverse=True)


def _count_result(
    options: Sequence[int], index: Mapping[int, int], ballots: int, counts: Counter
) -> CountResult:
    _check_known(counts, index)
    per_option = {option: counts[option] for option in options}
    ranking = _ranked(options, per_option.__getitem__)
    winner = ranking[0] if any(per_option.values()) else None
    return CountResult(
        options=tuple(options),
        ballots=ballots,
        ranking=ranking,
        winner=winner,
        tied=_level_with(winner, ranking, per_option.__getitem__),
        counts=per_option,
    )


def _level_with(winner: int | None, ranking: list[int], standing: Callable[[int], object]) -> tuple[int, ...]:
    """The options of the winner's standing, in ranking order (so the winner first)."""
    if winner is None:
        return ()
    return tuple(option for option in ranking if standing(option) == standing(winner))


def _score_tally(histogram: list[int]) -> ScoreTally:
    total = sum(value * times for value, times in zip(SCORES, histogram, strict=True))
    count = sum(histogram)
    return ScoreTally(total=total, count=count, mean=total / count if count else None, histogram=histogram)


def _ranking_groups(rankings: Iterable[Sequence[int]], index: Mapping[int, int]) -> Counter[tuple[int, ...]]:
    """Identical rankings counted together, each checked once."""
    groups = Counter(map(tuple, rankings))
    for ranking in groups:
        if len(set(ranking)) != len(ranking):
            raise ValueError(f"a ballot ranks an option twice: {list(ranking)}")
    _check_known(chain.from_iterable(groups), index)
    return groups


def _pairwise(options: Sequence[int], groups: Counter[tuple[int, ...]]) -> dict[int, dict[int, int]]:
    """``d[a][b]``, the number of ballots ranking ``a`` above ``b``, for every ballot at once.

    A loop over the pairs of every ballot is far too slow for 100,000 ballots, so the ballots become lanes
    of one big integer per option: lane ``i`` of ``lanes[a]`` holds ``n - position`` of ``a`` on ballot
    ``i`` (1..n, higher is better) or 0 when the ballot leaves ``a`` unranked. With ``high`` the lane's top
    bit in every lane, a lane of ``lanes[a] + high - 1 - lanes[b]`` is ``high + va - vb - 1``: it never
    borrows from its neighbour (``n < high``), and its top bit is set exactly when ``va > vb``. So one
    subtraction, one ``&`` and one ``bit_count`` count a pair over all ballots.
    """
    n = len(options)
    typecode = next(code for code in "BHLQ" if n < 1 << (8 * array(code).itemsize - 1))
    ballots = groups.total()
    columns = {option: array(typecode, bytes(array(typecode).itemsize * ballots)) for option in options}
    for ballot, ranking in enumerate(groups.elements()):
        for position, option in enumerate(ranking):
            columns[option][ballot] = n - position

    def lanes_of(value: int) -> int:
        return int.from_bytes(array(typecode, [value]).tobytes() * ballots, sys.byteorder)

    high = lanes_of(1 << (8 * array(typecode).itemsize - 1))
    lanes = {option: int.from_bytes(column.tobytes(), sys.byteorder) for option, column in columns.items()}
    raised = {option: lane + high - lanes_of(1) for option, lane in lanes.items()}
    return {a: {b: ((raised[a] - lanes[b]) & high).bit_count() for b in options if b != a} for a in options}


def _strongest_paths(
    options: Sequence[int], pairwise: dict[int, dict[int, int]]
) -> dict[int, dict[int, int]]:
    """Widest paths (Floyd-Warshall) over the links ``a -> b`` of strength ``d[a][b]`` where ``a`` wins."""
    strongest = {
        a: {b: pairwise[a][b] if pairwise[a][b] > pairwise[b][a] else 0 for b in options if b != a}
        for a in options
    }
    for via in options:
        for start in options:
            if start == via:
                continue
            for end in options:
                if end in (start, via):
                    continue
                through = min(strongest[start][via], strongest[via][end])
                if through > strongest[start][end]:
                    strongest[start][end] = through
    return strongest

"""The tallies of the six voting methods: known answers from the literature, then properties that hold for
any ballots (order does not matter, totals are kept, majority and Condorcet winners win, ties follow the
documented rule, unknown options are refused)."""

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from app.voting import tally
from app.voting.tally import CONSENT_CHOICES

# No example database, and few enough examples to keep the file fast.
PROPERTIES = settings(database=None, max_examples=60, deadline=None)
# Even without a database, Hypothesis caches the constants of local modules under ./.hypothesis, and does
# so while pytest collects the tests (before any fixture runs): keep that cache out of the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "cocreate-hypothesis")

A, B, C, D, E = 1, 2, 3, 4, 5

option_lists = st.lists(st.integers(-20, 1000), min_size=1, max_size=6, unique=True)


@st.composite
def partial_rankings(draw, options: list[int]) -> list[int]:
    order = draw(st.permutations(options))
    return order[: draw(st.integers(0, len(order)))]


@st.composite
def ranked_elections(draw, max_ballots: int = 30) -> tuple[list[int], list[list[int]]]:
    options = draw(option_lists)
    return options, draw(st.lists(partial_rankings(options), max_size=max_ballots))


def naive_pairwise(options: list[int], rankings: list[list[int]]) -> dict[int, dict[int, int]]:
    """The definition, ballot by ballot: unranked options sit below every ranked one, tied together."""
    below_all = len(options)
    pairwise = {a: dict.fromkeys(options, 0) for a in options}
    for ranking in rankings:
        position = {option: ranking.index(option) if option in ranking else below_all for option in options}
        for a in options:
            for b in options:
                if position[a] < position[b]:
                    pairwise[a][b] += 1
    return {a: {b: count for b, count in row.items() if b != a} for a, row in pairwise.items()}


def first_choices(rankings: list[list[int]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for ranking in rankings:
        if ranking:
            counts[ranking[0]] = counts.get(ranking[0], 0) + 1
    return counts


def ballots_of(letters: list[tuple[int, str]]) -> list[list[int]]:
    ids = {"A": A, "B": B, "C": C, "D": D, "E": E}
    return [[ids[letter] for letter in ranking] for times, ranking in letters for _ in range(times)]


# Known answers


def test_schulze_matches_the_45_voter_example_of_schulze_and_wikipedia():
    rankings = ballots_of(
        [
            (5, "ACBED"),
            (5, "ADECB"),
            (8, "BEDAC"),
            (3, "CABED"),
            (7, "CAEBD"),
            (2, "CBADE"),
            (7, "DCEBA"),
            (8, "EBADC"),
        ]
    )
    result = tally.schulze([A, B, C, D, E], rankings)

    assert result.ballots == 45
    assert result.pairwise[A] == {B: 20, C: 26, D: 30, E: 22}
    assert result.pairwise[E] == {A: 23, B: 27, C: 21, D: 31}
    assert result.strongest == {
        A: {B: 28, C: 28, D: 30, E: 24},
        B: {A: 25, C: 28, D: 33, E: 24},
        C: {A: 25, B: 29, D: 29, E: 24},
        D: {A: 25, B: 28, C: 28, E: 24},
        E: {A: 25, B: 28, C: 28, D: 31},
    }
    assert result.ranking == [E, A, C, B, D]
    assert result.winner == E


def test_schulze_counts_a_ranked_option_above_unranked_ones_which_tie():
    result = tally.schulze([A, B, C], [[A], [B, A]])

    assert result.pairwise == {A: {B: 1, C: 2}, B: {A: 1, C: 1}, C: {A: 0, B: 0}}


def test_schulze_counts_pairs_correctly_with_more_options_than_one_byte_holds():
    options = list(range(200))
    rankings = [options[::-1], options[:150], options[60:], []]

    assert tally.schulze(options, rankings).pairwise == naive_pairwise(options, rankings)


def test_instant_runoff_takes_three_rounds_and_the_plurality_leader_loses():
    rankings = ballots_of([(8, "A"), (7, "BC"), (4, "CB"), (2, "DCB")])

    result = tally.instant_runoff([A, B, C, D], rankings)

    assert [(r.votes, r.exhausted, r.eliminated, r.winner) for r in result.rounds] == [
        ({A: 8, B: 7, C: 4, D: 2}, 0, D, None),
        ({A: 8, B: 7, C: 6}, 0, C, None),
        ({A: 8, B: 13}, 0, None, B),
    ]
    assert result.winner == B
    assert result.ranking == [B, A, C, D]


def test_instant_runoff_counts_exhausted_ballots_out_of_the_majority():
    rankings = ballots_of([(3, "A"), (2, "B"), (2, "CB"), (2, "D")])

    result = tally.instant_runoff([A, B, C, D], rankings)

    assert [(r.eliminated, r.exhausted) for r in result.rounds] == [(D, 0), (C, 2), (None, 2)]
    # 4 of the 7 ballots still counting: a majority, though not of the 9 cast.
    assert result.rounds[-1].votes == {A: 3, B: 4}
    assert result.winner == B


def test_score_leaves_an_unscored_option_unscored_instead_of_counting_a_zero():
    result = tally.score([A, B, C], [{A: 5, B: 3}, {B: 3}, {B: 3, C: 0}])

    assert result.scores[A] == tally.ScoreTally(total=5, count=1, mean=5.0, histogram=[0, 0, 0, 0, 0, 1])
    assert result.scores[B].mean == 3.0
    assert result.ranking == [A, B, C]
    assert result.winner == A


def test_score_ranks_equal_means_by_the_number_of_scores_then_unscored_options_last():
    result = tally.score([A, B, C, D], [{A: 4, B: 4, D: 0}, {B: 4}])

    assert result.ranking == [B, A, D, C]
    assert result.scores[C] == tally.ScoreTally(total=0, count=0, mean=None, histogram=[0] * 6)


def test_consent_passes_an_option_without_block_and_with_more_agree_than_disagree():
    ballots = [
        {A: "agree", B: "agree", C: "agree", D: "agree"},
        {A: "agree", B: "block", C: "disagree", D: "abstain"},
        {A: "disagree", B: "agree", C: "abstain", D: "disagree"},
    ]

    result = tally.consent([A, B, C, D], ballots)

    assert result.consents[A] == tally.ConsentTally(agree=2, abstain=0, disagree=1, block=0, passed=True)
    assert [result.consents[option].passed for option in (B, C, D)] == [False, False, False]
    assert result.ranking == [A, C, D, B]
    assert result.winner == A


def test_consent_has_no_winner_when_no_option_passed():
    result = tally.consent([A, B], [{A: "block", B: "disagree"}])

    assert result.winner is None


def test_counting_methods_count_marks_per_option():
    assert tally.approval([A, B, C], [{A, B}, {B}, set()]).counts == {A: 1, B: 2, C: 0}
    assert tally.single_choice([A, B, C], [C, A, C]).counts == {A: 1, B: 0, C: 2}
    assert tally.dot([A, B, C], [{A: 3}, {B: 1, C: 2}, {C: 0}]).counts == {A: 3, B: 1, C: 2}


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, []),
        (tally.approval, [set(), set()]),
        (tally.single_choice, []),
        (tally.dot, [{A: 0}]),
        (tally.score, [{}]),
        (tally.consent, []),
        (tally.instant_runoff, [[], []]),
        (tally.schulze, [[]]),
    ],
)
def test_nothing_cast_has_no_winner_and_ranks_options_in_their_listed_order(method, ballots):
    result = method([C, A, B], ballots)

    assert result.winner is None
    assert result.ranking == [C, A, B]
    assert result.options == (C, A, B)
    assert result.ballots == len(ballots)


# The tie rule: equal standing goes to the option listed earlier; IRV looks back before it looks at the list.


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, [{A}, {B}]),
        (tally.single_choice, [A, B]),
        (tally.dot, [{A: 2, B: 2}]),
        (tally.score, [{A: 3}, {B: 3}]),
        (tally.consent, [{A: "agree", B: "agree"}]),
        (tally.instant_runoff, [[A], [B]]),
        (tally.schulze, [[A, B], [B, A]]),
    ],
)
def test_equal_standing_goes_to_the_option_listed_first(method, ballots):
    assert method([A, B], ballots).ranking == [A, B]
    assert method([B, A], ballots).ranking == [B, A]
    assert method([B, A], ballots).winner == B


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, [{A}, {B}]),
        (tally.single_choice, [A, B]),
        (tally.dot, [{A: 2, B: 2}]),
        (tally.score, [{A: 3}, {B: 3}]),
        (tally.consent, [{A: "agree", B: "agree"}]),
        (tally.instant_runoff, [[A], [B]]),
        (tally.schulze, [[A, B], [B, A]]),
    ],
)
def test_a_tie_for_first_names_every_option_in_it_the_winner_first(method, ballots):
    assert method([A, B, C], ballots).tied == (A, B)
    assert method([B, A, C], ballots).tied == (B, A)


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, [{A}, {A, B}]),
        (tally.single_choice, [A, B, A]),
        (tally.dot, [{A: 3, B: 2}]),
        (tally.score, [{A: 4}, {B: 3}]),
        (tally.consent, [{A: "agree", B: "abstain"}]),
        (tally.instant_runoff, [[A], [B], [A]]),
        (tally.schulze, [[A, B], [B, A], [A]]),
    ],
)
def test_a_clear_winner_is_tied_with_nobody(method, ballots):
    assert method([A, B, C], ballots).tied == (A,)


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, []),
        (tally.consent, [{A: "disagree", B: "block"}]),
        (tally.instant_runoff, [[]]),
        (tally.schulze, []),
    ],
)
def test_without_a_winner_nothing_is_tied(method, ballots):
    assert method([A, B], ballots).tied == ()


def test_instant_runoff_is_a_tie_when_the_listed_order_decides_who_wins():
    # B and C are level in every round; eliminating either one makes the other win.
    rankings = ballots_of([(3, "A"), (2, "BC"), (2, "CB")])

    assert tally.instant_runoff([A, B, C], rankings).tied == (B, C)
    assert tally.instant_runoff([A, C, B], rankings).tied == (C, B)


def test_instant_runoff_is_no_tie_when_the_listed_order_only_decides_who_goes_first():
    # C and D are level at the bottom, but A wins whichever of them goes first.
    rankings = ballots_of([(4, "A"), (2, "B"), (1, "C"), (1, "D")])

    assert tally.instant_runoff([A, B, C, D], rankings).tied == (A,)


def test_instant_runoff_eliminates_the_option_listed_last_when_tied_in_every_round():
    rankings = ballots_of([(3, "A"), (2, "BC"), (2, "CB")])

    result = tally.instant_runoff([A, B, C], rankings)

    assert result.rounds[0].eliminated == C
    assert result.winner == B
    assert tally.instant_runoff([A, C, B], rankings).winner == C


def test_instant_runoff_breaks_an_elimination_tie_by_the_earlier_rounds_before_the_list():
    # Round 2 ties B and C at 3; B had 2 to C's 3 in round 1, so B goes although C is listed last.
    rankings = ballots_of([(4, "A"), (2, "BC"), (3, "CA"), (1, "DBC")])

    result = tally.instant_runoff([A, B, C, D], rankings)

    assert [r.eliminated for r in result.rounds] == [D, B, None]
    assert result.rounds[1].votes == {A: 4, B: 3, C: 3}
    assert result.winner == C


# Refused ballots


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, [{A}, {A, 99}]),
        (tally.single_choice, [A, 99]),
        (tally.dot, [{99: 1}]),
        (tally.score, [{A: 2, 99: 3}]),
        (tally.consent, [{99: "agree"}]),
        (tally.instant_runoff, [[A, 99]]),
        (tally.schulze, [[99]]),
    ],
)
def test_a_ballot_naming_an_option_not_on_the_ballot_is_refused(method, ballots):
    with pytest.raises(ValueError, match="not on the ballot"):
        method([A, B], ballots)


@pytest.mark.parametrize(
    ("method", "ballots"),
    [
        (tally.approval, [[A, A]]),
        (tally.dot, [{A: -1}]),
        (tally.score, [{A: 6}]),
        (tally.score, [{A: 2.5}]),
        (tally.consent, [{A: "maybe"}]),
        (tally.instant_runoff, [[A, B, A]]),
        (tally.schulze, [[B, B]]),
    ],
)
def test_a_malformed_ballot_is_refused(method, ballots):
    with pytest.raises(ValueError):
        method([A, B], ballots)


def test_an_option_listed_twice_is_refused():
    with pytest.raises(ValueError, match="listed twice"):
        tally.approval([A, B, A], [])


# Properties


def ballots_for(method, options: list[int]) -> st.SearchStrategy:
    choice = st.sampled_from(options)
    per_method = {
        tally.approval: st.sets(choice),
        tally.single_choice: choice,
        tally.dot: st.dictionaries(choice, st.integers(0, 4)),
        tally.score: st.dictionaries(choice, st.integers(0, 5)),
        tally.consent: st.dictionaries(choice, st.sampled_from(CONSENT_CHOICES)),
        tally.instant_runoff: partial_rankings(options),
        tally.schulze: partial_rankings(options),
    }
    return st.lists(per_method[method], max_size=25)


ALL_METHODS = [
    tally.approval,
    tally.single_choice,
    tally.dot,
    tally.score,
    tally.consent,
    tally.instant_runoff,
    tally.schulze,
]


@pytest.mark.parametrize("method", ALL_METHODS)
@PROPERTIES
@given(data=st.data())
def test_the_order_of_the_ballots_never_changes_a_result(method, data):
    options = data.draw(option_lists)
    ballots = data.draw(ballots_for(method, options))
    shuffled = data.draw(st.permutations(ballots))

    assert method(options, shuffled) == method(options, ballots)


@pytest.mark.parametrize("method", ALL_METHODS)
@PROPERTIES
@given(data=st.data())
def test_every_result_ranks_each_option_once_and_the_winner_first(method, data):
    options = data.draw(option_lists)
    ballots = data.draw(ballots_for(method, options))

    result = method(options, ballots)

    assert sorted(result.ranking) == sorted(options)
    assert result.winner in (None, result.ranking[0])
    assert result.ballots == len(ballots)
    assert result.tied[:1] == (() if result.winner is None else (result.winner,))
    assert len(set(result.tied)) == len(result.tied)


@PROPERTIES
@given(data=st.data())
def test_counting_methods_keep_every_mark_cast(data):
    options = data.draw(option_lists)
    approvals = data.draw(ballots_for(tally.approval, options))
    choices = data.draw(ballots_for(tally.single_choice, options))
    dots = data.draw(ballots_for(tally.dot, options))

    assert sum(tally.approval(options, approvals).counts.values()) == sum(map(len, approvals))
    assert sum(tally.single_choice(options, choices).counts.values()) == len(choices)
    assert sum(tally.dot(options, dots).counts.values()) == sum(sum(ballot.values()) for ballot in dots)


@PROPERTIES
@given(election=ranked_elections())
def test_every_runoff_round_counts_each_ballot_once(election):
    options, rankings = election

    result = tally.instant_runoff(options, rankings)

    for round_ in result.rounds:
        assert sum(round_.votes.values()) + round_.exhausted == len(rankings)
    eliminated = [round_.eliminated for round_ in result.rounds[:-1]]
    assert result.ranking[len(options) - len(eliminated) :] == eliminated[::-1]


@PROPERTIES
@given(election=ranked_elections(), data=st.data())
def test_instant_runoff_elects_a_first_preference_majority_in_the_first_round(election, data):
    options, rankings = election
    favourite = data.draw(st.sampled_from(options))
    # Add just enough ballots ranking the favourite first to give it more than half of all ballots.
    firsts = first_choices(rankings).get(favourite, 0)
    extra = [[favourite, *data.draw(partial_rankings([o for o in options if o != favourite]))]]
    rankings = rankings + extra * max(1, len(rankings) - 2 * firsts + 1)
    majority = [o for o, count in first_choices(rankings).items() if 2 * count > len(rankings)]
    assert majority == [favourite]

    result = tally.instant_runoff(options, rankings)

    assert result.winner == favourite
    assert len(result.rounds) == 1


@PROPERTIES
@given(election=ranked_elections())
def test_instant_runoff_elects_the_majority_winner_whenever_there_is_one(election):
    options, rankings = election
    majority = [o for o, count in first_choices(rankings).items() if 2 * count > len(rankings)]

    result = tally.instant_runoff(options, rankings)

    if majority:
        assert result.winner == majority[0]


@PROPERTIES
@given(election=ranked_elections())
def test_schulze_pairwise_counts_match_the_definition(election):
    options, rankings = election

    assert tally.schulze(options, rankings).pairwise == naive_pairwise(options, rankings)


@PROPERTIES
@given(election=ranked_elections(), data=st.data())
def test_schulze_elects_the_condorcet_winner(election, data):
    options, rankings = election
    favourite = data.draw(st.sampled_from(options))
    # Ballots ranking only the favourite put it above every other option; add enough to beat each one.
    pairwise = naive_pairwise(options, rankings)
    deficit = max(
        (pairwise[o][favourite] - pairwise[favourite][o] for o in options if o != favourite), default=0
    )
    rankings = rankings + [[favourite]] * max(0, deficit + 1)
    pairwise = naive_pairwise(options, rankings)
    assert all(pairwise[favourite][o] > pairwise[o][favourite] for o in options if o != favourite)

    assert tally.schulze(options, rankings).winner == favourite


@PROPERTIES
@given(election=ranked_elections())
def test_schulze_elects_the_condorcet_winner_whenever_there_is_one(election):
    options, rankings = election
    pairwise = naive_pairwise(options, rankings)
    condorcet = [a for a in options if all(pairwise[a][b] > pairwise[b][a] for b in options if b != a)]

    result = tally.schulze(options, rankings)

    if condorcet and any(rankings):
        assert result.winner == condorcet[0]

"""What pages show of a ballot: the labels of methods, states and choices (templates call this module
``labels``), the tally as plain data for the results page, the live room and the CSV exports, and
what the voting form shows checked."""

from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.forms import (
    whole_numbers,
)
from app.core.i18n import N_
from app.voting import rules, storage, tally
from app.voting.models import (
    Ballot,
    BallotOption,
    BallotState,
    Eligibility,
    Method,
    ResultsVisibility,
    Vote,
)

METHOD_LABELS = {
    Method.APPROVAL: N_("Approval: tick every option you support, up to a limit"),
    Method.SINGLE: N_("Single choice: pick one option"),
    Method.RANKED: N_("Ranked: put the options in order (counted by instant runoff and by Schulze)"),
    Method.DOT: N_("Dot voting: spread a number of dots over the options"),
    Method.SCORE: N_("Score: rate each option from 0 to 5"),
    Method.CONSENT: N_("Consent: agree, abstain, disagree or block each proposal"),
}


SHORT_METHOD_LABELS = {
    Method.APPROVAL: N_("Approval"),
    Method.SINGLE: N_("Single choice"),
    Method.RANKED: N_("Ranked choice"),
    Method.DOT: N_("Dot voting"),
    Method.SCORE: N_("Score"),
    Method.CONSENT: N_("Consent"),
}


VISIBILITY_LABELS = {
    ResultsVisibility.LIVE: N_("Live, while the ballot is open"),
    ResultsVisibility.AFTER_VOTE: N_("To each voter once they have voted"),
    ResultsVisibility.AFTER_CLOSE: N_("When the ballot closes"),
}


ELIGIBILITY_LABELS = {
    Eligibility.MEMBERS: N_("Members of the workspace"),
    Eligibility.ATTENDEES: N_("People with a place in the session"),
}


STATE_LABELS = {
    BallotState.UPCOMING: N_("Not open yet"),
    BallotState.OPEN: N_("Open"),
    BallotState.CLOSED: N_("Closed"),
}


CONSENT_LABELS = {
    "agree": N_("Agree"),
    "abstain": N_("Abstain"),
    "disagree": N_("Disagree"),
    "block": N_("Block"),
}


def _ballot_marks(method: str, votes: list[Vote]) -> list:
    if method == Method.SINGLE:
        return [vote.choices["options"][0] for vote in votes]
    if method in (Method.APPROVAL, Method.RANKED):
        return [vote.choices["options"] for vote in votes]
    return [{int(option): mark for option, mark in vote.choices["marks"].items()} for vote in votes]


def results_view(ballot: Ballot, options: list[BallotOption], votes: list[Vote]) -> dict:
    """The tally as plain data (lists in the ballot's option order), for the results page, the live
    room's events and the CSV export alike."""
    ids = [option.id for option in options]
    labels = {option.id: option.label for option in options}
    marks = _ballot_marks(ballot.method, votes)
    view: dict = {
        "ballot_id": ballot.id,
        "method": ballot.method,
        "ballots": len(votes),
        "options": [
            {"id": option.id, "label": option.label, "idea_id": option.idea_id} for option in options
        ],
    }
    if ballot.method in (Method.APPROVAL, Method.SINGLE, Method.DOT):
        counter = {Method.APPROVAL: tally.approval, Method.SINGLE: tally.single_choice, Method.DOT: tally.dot}
        result = counter[ballot.method](ids, marks)
        top = max(result.counts.values(), default=0) or 1
        view["rows"] = [
            {
                "id": i,
                "label": labels[i],
                "value": result.counts.get(i, 0),
                "share": result.counts.get(i, 0) / top,
            }
            for i in result.ranking
        ]
    elif ballot.method == Method.SCORE:
        result = tally.score(ids, marks)
        view["rows"] = [
            {
                "id": i,
                "label": labels[i],
                "value": round(result.scores[i].mean, 2) if result.scores[i].mean is not None else None,
                "share": (result.scores[i].mean or 0) / rules.SCORE_MAX,
                "count": result.scores[i].count,
                "histogram": list(result.scores[i].histogram),
            }
            for i in result.ranking
        ]
    elif ballot.method == Method.CONSENT:
        result = tally.consent(ids, marks)
        view["rows"] = [
            {
                "id": i,
                "label": labels[i],
                **{choice: getattr(result.consents[i], choice) for choice in rules.CONSENT_CHOICES},
                "passed": result.consents[i].passed,
            }
            for i in result.ranking
        ]
    else:
        result = tally.instant_runoff(ids, marks)
        schulze = tally.schulze(ids, marks)
        view["rounds"] = [
            {
                "votes": [round_.votes.get(i) for i in ids],
                "exhausted": round_.exhausted,
                "eliminated": round_.eliminated,
                "winner": round_.winner,
            }
            for round_ in result.rounds
        ]
        first = result.rounds[0].votes if result.rounds else {}
        top = max(first.values(), default=0) or 1
        view["rows"] = [
            {"id": i, "label": labels[i], "value": first.get(i, 0), "share": first.get(i, 0) / top}
            for i in result.ranking
        ]
        view["schulze"] = {
            "ranking": schulze.ranking,
            "ranks": _schulze_ranks(schulze),
            "winner": schulze.winner,
            "tied": list(schulze.tied) if len(schulze.tied) > 1 else [],
            "pairwise": [[schulze.pairwise[a][b] if a != b else None for b in ids] for a in ids],
        }
    view["winner"] = result.winner
    # Two or more options level at the top: pages say "tied", never "leading".
    view["tied"] = list(result.tied) if len(result.tied) > 1 else []
    view["ranking"] = list(result.ranking)
    return view


def _schulze_ranks(result: tally.SchulzeResult) -> list[int]:
    """The place of each option of the Schulze ranking: an option shares the place of the one before it
    when neither beats the other."""
    strongest, ranks = result.strongest, []
    for position, option in enumerate(result.ranking):
        before = result.ranking[position - 1] if position else None
        level = before is not None and strongest[before][option] <= strongest[option][before]
        ranks.append(ranks[-1] if level else position + 1)
    return ranks


async def results(*, session: AsyncSession, ballot: Ballot, options: list[BallotOption]) -> dict:
    return results_view(ballot, options, await storage.papers(session=session, ballot=ballot))


def prefill(ballot: Ballot, options: list[BallotOption], vote: Vote | None, submitted=None) -> dict:
    """What the voting form shows checked: what was just sent back with an error, else the paper
    already cast."""
    chosen: set[int] = set()
    marks: dict[int, object] = {}
    reason = ""
    if submitted is not None:
        chosen = set(whole_numbers(submitted.getlist("option")))
        prefix = {Method.RANKED: "rank", Method.DOT: "dots", Method.SCORE: "score", Method.CONSENT: "consent"}
        if ballot.method in prefix:
            for option in options:
                value = submitted.get(f"{prefix[ballot.method]}-{option.id}", "")
                if isinstance(value, str) and value.strip():
                    marks[option.id] = value.strip()[:10]
        reason = str(submitted.get("reason", ""))[: rules.REASON_MAX]
    elif vote is not None:
        if "options" in vote.choices:
            chosen = set(vote.choices["options"])
            marks = {option_id: rank for rank, option_id in enumerate(vote.choices["options"], start=1)}
        else:
            marks = {int(option_id): mark for option_id, mark in vote.choices["marks"].items()}
        reason = vote.choices.get("reason", "")
    return {"chosen": chosen, "marks": marks, "reason": reason}

"""The CSV exports of a ballot: its results with every figure the page shows, and every paper, so
anyone can recount."""

import io

from app.core.exports import SafeCsvWriter
from app.voting import rules
from app.voting.models import (
    Ballot,
    BallotOption,
    Method,
    Vote,
)


def results_csv(view: dict) -> str:
    """One row per option, in ranking order, with every figure the page shows."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    method = view["method"]
    if method == Method.SCORE:
        writer.writerow(["rank", "option_id", "option", "mean", "scores", *[f"score_{s}" for s in range(6)]])
        for rank, row in enumerate(view["rows"], start=1):
            writer.writerow([rank, row["id"], row["label"], row["value"], row["count"], *row["histogram"]])
    elif method == Method.CONSENT:
        writer.writerow(["rank", "option_id", "option", *rules.CONSENT_CHOICES, "passed"])
        for rank, row in enumerate(view["rows"], start=1):
            writer.writerow(
                [rank, row["id"], row["label"], *[row[c] for c in rules.CONSENT_CHOICES], row["passed"]]
            )
    else:
        heading = (
            "first_preferences" if method == Method.RANKED else ("dots" if method == Method.DOT else "votes")
        )
        writer.writerow(["rank", "option_id", "option", heading])
        for rank, row in enumerate(view["rows"], start=1):
            writer.writerow([rank, row["id"], row["label"], row["value"]])
    if method == Method.RANKED:
        ids = [option["id"] for option in view["options"]]
        writer.writerow([])
        writer.writerow(["instant_runoff_round", *ids, "exhausted", "eliminated"])
        for number, round_ in enumerate(view["rounds"], start=1):
            writer.writerow(
                [
                    number,
                    *["" if v is None else v for v in round_["votes"]],
                    round_["exhausted"],
                    round_["eliminated"] or "",
                ]
            )
        writer.writerow([])
        writer.writerow(["schulze_pairwise", *ids])
        for a, row in zip(ids, view["schulze"]["pairwise"], strict=True):
            writer.writerow([a, *["" if v is None else v for v in row]])
    return out.getvalue()


def papers_csv(
    ballot: Ballot, options: list[BallotOption], votes: list[Vote], names: dict[int, str] | None
) -> str:
    """Every paper, so anyone can recount. Voters and times only with ``names`` (the moderators' copy of
    a ballot that is not anonymous); otherwise none, in an order that says nothing of who voted when."""
    named = names is not None and not ballot.anonymous
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    ids = [option.id for option in options]
    head = ["voter", "cast_at", "updated_at"] if named else []
    columns = [f"option_{i}" for i in ids]
    if ballot.method == Method.CONSENT:
        columns.append("reason")
    writer.writerow(["paper", *head, *columns])
    for number, vote in enumerate(votes, start=1):
        if ballot.method in (Method.APPROVAL, Method.SINGLE):
            marks = ["1" if i in vote.choices["options"] else "" for i in ids]
        elif ballot.method == Method.RANKED:
            order = vote.choices["options"]
            marks = [str(order.index(i) + 1) if i in order else "" for i in ids]
        else:
            given = vote.choices["marks"]
            marks = [str(given.get(str(i), "")) for i in ids]
        if ballot.method == Method.CONSENT:
            marks.append(vote.choices.get("reason", ""))
        who = (
            [names.get(vote.voter_id or 0, ""), vote.cast_at.isoformat(), vote.updated_at.isoformat()]
            if named
            else []
        )
        writer.writerow([number, *who, *marks])
    return out.getvalue()

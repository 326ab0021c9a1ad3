"""The rules of a ballot and of a paper, apart from where they are stored: what a ballot form must
hold (``clean_ballot``), what a paper's marks must keep for each method (``parse_choices``), who sees
the results when (``can_see_results``) and the voter's keyed hash (``voter_key``). A broken rule is a
``VoteRefused``."""

import hashlib
import hmac
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.cocreation.models import CocreationSession
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.forms import (
    FormError,
    clean_local_datetime,
    clean_text,
    form_text,
    number_between,
    whole_number,
)
from app.core.i18n import _, get_time_zone
from app.ideas.models import Idea
from app.voting.models import (
    Ballot,
    BallotState,
    Eligibility,
    Method,
    ResultsVisibility,
)
from app.workspaces.models import Workspace

QUESTION_MAX = 300


DESCRIPTION_MAX = 4000


OPTION_MAX = 200


OPTIONS_MAX = 30


DOTS_MAX = 100


REASON_MAX = 1000


SCORE_MAX = 5


CONSENT_CHOICES = ("agree", "abstain", "disagree", "block")


class VoteRefused(Refused):
    """A vote that may not be cast: the message says why; nothing was stored. 422 for a ballot paper
    that breaks a rule (or a closed ballot), 403 when the voter may not vote on this ballot at all."""

    default_status = 422


@dataclass
class BallotInput:
    question: str = ""
    description: str = ""
    method: str = Method.APPROVAL
    options_text: str = ""
    idea_ids: list[int] = field(default_factory=list)
    max_choices: str = ""
    dots: str = ""
    per_option_max: str = ""
    opens_at: str = ""
    closes_at: str = ""
    results_visibility: str = ResultsVisibility.AFTER_CLOSE
    anonymous: bool = False
    eligibility: str = Eligibility.MEMBERS


async def clean_ballot(
    session: AsyncSession, workspace: Workspace, cs: CocreationSession | None, data: BallotInput
) -> tuple[dict, list[tuple[str, int | None]]]:
    errors: dict[str, str] = {}
    values: dict = {
        "question": clean_text(data.question, field="question", errors=errors, max_length=QUESTION_MAX),
        "description": clean_text(
            data.description, field="description", errors=errors, max_length=DESCRIPTION_MAX, required=False
        ),
    }
    if data.method not in set(Method):
        errors["method"] = _("Choose a voting method from the list.")
    values["method"] = data.method
    options: list[tuple[str, int | None]] = []
    idea_ids = list(dict.fromkeys(data.idea_ids))
    if idea_ids:
        found = await session.exec(
            select(Idea).where(
                col(Idea.id).in_(idea_ids), Idea.workspace_id == workspace.id, col(Idea.hidden_at).is_(None)
            )
        )
        ideas = {idea.id: idea for idea in found.all()}
        if set(ideas) != set(idea_ids):
            errors["idea_ids"] = _("Choose ideas of this workspace.")
        options += [(ideas[i].title[:OPTION_MAX], i) for i in idea_ids if i in ideas]
    for line in data.options_text.splitlines():
        label = line.strip()
        if not label:
            continue
        if len(label) > OPTION_MAX:
            errors["options_text"] = _("Keep each option to at most %(max)s characters.", max=OPTION_MAX)
        options.append((label[:OPTION_MAX], None))
    labels = [label.casefold() for label, _idea in options]
    minimum = 1 if data.method == Method.CONSENT else 2
    if "options_text" in errors:
        pass  # an option too long: that is the message to see first
    elif len(set(labels)) != len(labels):
        errors["options_text"] = _("Each option must be different.")
    elif len(options) < minimum:
        errors["options_text"] = (
            _("Give the proposal to decide on.") if minimum == 1 else _("Give at least two options.")
        )
    elif len(options) > OPTIONS_MAX:
        errors["options_text"] = _("A ballot has at most %(max)s options.", max=OPTIONS_MAX)
    values["max_choices"] = values["dots"] = values["per_option_max"] = None
    if data.method == Method.APPROVAL:
        high = max(len(options), 1)
        values["max_choices"] = number_between(data.max_choices or str(high), 1, high)
        if values["max_choices"] is None:
            errors["max_choices"] = _("Give a whole number from 1 to %(max)s.", max=high)
    if data.method == Method.DOT:
        values["dots"] = number_between(data.dots, 1, DOTS_MAX)
        if values["dots"] is None:
            errors["dots"] = _("Give a whole number from 1 to %(max)s.", max=DOTS_MAX)
        high = values["dots"] or DOTS_MAX
        values["per_option_max"] = number_between(data.per_option_max or str(high), 1, high)
        if values["per_option_max"] is None:
            errors["per_option_max"] = _("Give a whole number from 1 to %(max)s.", max=high)
    zone = ZoneInfo(get_time_zone())
    opens_at = (
        clean_local_datetime(data.opens_at, zone=zone, field="opens_at", errors=errors)
        if data.opens_at.strip()
        else utcnow()
    )
    closes_at = clean_local_datetime(data.closes_at, zone=zone, field="closes_at", errors=errors)
    if closes_at is not None and opens_at is not None and closes_at <= opens_at:
        errors["closes_at"] = _("The ballot must close after it opens.")
    elif closes_at is not None and closes_at <= utcnow():
        errors["closes_at"] = _("The closing time has already passed.")
    values["opens_at"], values["closes_at"] = opens_at, closes_at
    if data.results_visibility not in set(ResultsVisibility):
        errors["results_visibility"] = _("Choose when results can be seen.")
    values["results_visibility"] = data.results_visibility
    if data.eligibility not in set(Eligibility) or (data.eligibility == Eligibility.ATTENDEES and cs is None):
        errors["eligibility"] = _("Choose who may vote.")
    values["eligibility"] = data.eligibility
    values["anonymous"] = bool(data.anonymous)
    if values["anonymous"] and data.results_visibility != ResultsVisibility.AFTER_CLOSE:
        # Totals that move as each person votes would tell who voted what.
        errors["results_visibility"] = _("An anonymous ballot shows its results only when it closes.")
    if errors:
        raise FormError(errors)
    return values, options


def voter_key(*, secret_key: str, ballot_id: int, user_id: int) -> str:
    """The same voter on the same ballot always gets the same key; without the server's secret the
    key does not tell who voted."""
    message = f"vote:{ballot_id}:{user_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def parse_choices(ballot: Ballot, option_ids: list[int], form) -> dict:
    """The voter's marks from the form, checked against the ballot's rules, as stored in the vote;
    ``option_ids`` are the ballot's options in their order."""
    ids = set(option_ids)
    method = ballot.method

    def chosen_ids() -> list[int]:
        values = [whole_number(v) for v in form.getlist("option")]
        if any(v not in ids for v in values):
            raise VoteRefused(_("Choose among the ballot's options."))
        return values

    if method == Method.APPROVAL:
        chosen = chosen_ids()
        if len(set(chosen)) != len(chosen):
            raise VoteRefused(_("Choose each option only once."))
        if not chosen:
            raise VoteRefused(_("Choose at least one option."))
        if len(chosen) > (ballot.max_choices or len(option_ids)):
            raise VoteRefused(_("Choose at most %(max)s options.", max=ballot.max_choices))
        return {"options": sorted(chosen)}
    if method == Method.SINGLE:
        chosen = chosen_ids()
        if len(chosen) != 1:
            raise VoteRefused(_("Choose one option."))
        return {"options": chosen}
    if method == Method.RANKED:
        ranks: dict[int, int] = {}
        for option_id in option_ids:
            value = form_text(form, f"rank-{option_id}").strip()
            if not value:
                continue
            rank = number_between(value, 1, len(option_ids))
            if rank is None:
                raise VoteRefused(_("Give ranks from 1 to %(max)s.", max=len(option_ids)))
            ranks[option_id] = rank
        if not ranks:
            raise VoteRefused(_("Rank at least one option."))
        if len(set(ranks.values())) != len(ranks):
            raise VoteRefused(_("Give each rank to one option only."))
        return {"options": sorted(ranks, key=ranks.__getitem__)}
    if method == Method.DOT:
        dots: dict[str, int] = {}
        for option_id in option_ids:
            placed = whole_number(form_text(form, f"dots-{option_id}").strip() or "0")
            if placed is None:
                raise VoteRefused(_("Give dots as whole numbers."))
            if placed > (ballot.per_option_max or 0):
                raise VoteRefused(_("Put at most %(max)s dots on one option.", max=ballot.per_option_max))
            if placed:
                dots[str(option_id)] = placed
        total = sum(dots.values())
        if total == 0:
            raise VoteRefused(_("Place at least one dot."))
        if total > (ballot.dots or 0):
            raise VoteRefused(_("You have %(max)s dots; you placed %(count)s.", max=ballot.dots, count=total))
        return {"marks": dots}
    if method == Method.SCORE:
        scores: dict[str, int] = {}
        for option_id in option_ids:
            value = form_text(form, f"score-{option_id}").strip()
            if not value:
                continue
            given = number_between(value, 0, SCORE_MAX)
            if given is None:
                raise VoteRefused(_("Give scores from 0 to %(max)s.", max=SCORE_MAX))
            scores[str(option_id)] = given
        if not scores:
            raise VoteRefused(_("Score at least one option."))
        return {"marks": scores}
    consent: dict[str, str] = {}
    for option_id in option_ids:
        value = form_text(form, f"consent-{option_id}").strip()
        if value not in CONSENT_CHOICES:
            raise VoteRefused(_("Say agree, abstain, disagree or block for each proposal."))
        consent[str(option_id)] = value
    reason = form_text(form, "reason").strip()
    if len(reason) > REASON_MAX:
        raise VoteRefused(_("Keep the reason to at most %(max)s characters.", max=REASON_MAX))
    if "block" in consent.values() and not reason:
        raise VoteRefused(_("A block needs a reason, so the group can address it."))
    return {"marks": consent, "reason": reason}


def can_see_results(ballot: Ballot, *, has_voted: bool) -> bool:
    state = ballot.state(utcnow())
    if state == BallotState.CLOSED or ballot.results_visibility == ResultsVisibility.LIVE:
        return True
    return ballot.results_visibility == ResultsVisibility.AFTER_VOTE and has_voted

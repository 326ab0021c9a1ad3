"""The ballots' part of a person's data (``app.core.personal_data``): the papers they cast, on
anonymous ballots too (found by their keyed hash, ``storage.papers_of_voter``)."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.core.db import utcnow
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register
from app.voting import service, storage
from app.voting.models import BallotOption, BallotState


def _marks(choices: dict, labels: dict[int, str]) -> dict:
    """A paper's marks with the options' labels beside their ids."""
    marks: dict = {}
    if "options" in choices:
        marks["options"] = [{"id": i, "label": labels.get(int(i), "")} for i in choices["options"]]
    if "marks" in choices:
        marks["marks"] = [
            {"id": int(i), "label": labels.get(int(i), ""), "mark": mark}
            for i, mark in choices["marks"].items()
        ]
    for key, value in choices.items():
        if key not in ("options", "marks"):
            marks[key] = value
    return marks


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    """The anonymous ballots are looked up a few hundred at a time."""
    papers = await storage.papers_of_voter(session=session, secret_key=context.secret_key, user_id=user.id)
    labels: dict[int, str] = {}
    if papers:
        options = await session.exec(
            select(BallotOption.id, BallotOption.label).where(
                col(BallotOption.ballot_id).in_({ballot.id for _vote, ballot in papers})
            )
        )
        labels = dict(options.all())
    now = utcnow()
    return {
        "ballot_papers": [
            {
                "ballot": {
                    "id": ballot.id,
                    "question": ballot.question,
                    "workspace_id": ballot.workspace_id,
                    "session_id": ballot.session_id,
                    "method": ballot.method,
                    "anonymous": ballot.anonymous,
                    "closed": ballot.state(now) == BallotState.CLOSED,
                },
                "choices": _marks(vote.choices, labels),
                "cast_at": iso(vote.cast_at),
                "changed_at": iso(vote.updated_at),
            }
            for vote, ballot in papers
        ]
    }


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    papers = await storage.papers_of_voter(session=session, secret_key=context.secret_key, user_id=user.id)
    context.counts["papers_removed"] += await service.forget_voter(
        session=session, papers=papers, remove_open=context.remove_contributions
    )


PART = register(
    PersonalData(
        name="voting",
        references={
            "vote.voter_id": (
                "emptied, and the paper's keyed hash replaced by a random key (see forget_voter)"
            ),
            "ballot.created_by_id": "emptied",
        },
        export_user=export_user,
        forget_user=forget_user,
        order=80,
    )
)

"""Moderation's part of a person's data (``app.core.personal_data``): the reports they made. The
cases' counts change here, in the domain that keeps them."""

from sqlalchemy import and_, case
from sqlmodel import col, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.comments.models import Comment
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register
from app.ideas.models import Idea
from app.moderation.models import CaseState, ModerationCase, Report, TargetKind
from app.workspaces.models import Membership


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    reports = await session.exec(
        select(Report, ModerationCase)
        .join(ModerationCase, col(ModerationCase.id) == Report.case_id)
        .where(Report.reporter_id == user.id)
        .order_by(col(Report.id))
    )
    return {
        "reports": [
            {
                "target": {
                    "kind": moderation_case.target_kind,
                    "id": moderation_case.target_id,
                    "workspace_id": moderation_case.workspace_id,
                },
                "reason": report.reason,
                "note": report.note or None,
                "at": iso(report.created_at),
            }
            for report, moderation_case in reports.all()
        ]
    }


async def _drop_cases(session: AsyncSession, kind: str, target_ids) -> None:
    await session.exec(
        delete(ModerationCase).where(
            col(ModerationCase.target_kind) == kind, col(ModerationCase.target_id).in_(target_ids)
        )
    )


async def _forget_reports(session: AsyncSession, user_id: int) -> None:
    """Each case the person reported counts one report fewer; among the reports since the last
    decision too, when theirs was one. A case still waiting for a moderator with no report left is
    closed (its history stays in the audit log). What was hidden stays hidden until a moderator looks."""
    rows = await session.exec(
        select(Report.case_id, Report.created_at)
        .where(Report.reporter_id == user_id)
        .order_by(col(Report.case_id))
    )
    case_ids = []
    for case_id, reported_at in rows.all():
        case_ids.append(case_id)
        open_since_decision = and_(
            or_(col(ModerationCase.decided_at).is_(None), col(ModerationCase.decided_at) < reported_at),
            col(ModerationCase.open_reports) > 0,
        )
        await session.exec(
            update(ModerationCase)
            .where(col(ModerationCase.id) == case_id)
            .values(
                report_count=ModerationCase.report_count - 1,
                open_reports=case(
                    (open_since_decision, ModerationCase.open_reports - 1), else_=ModerationCase.open_reports
                ),
            )
        )
    await session.exec(delete(Report).where(col(Report.reporter_id) == user_id))
    if case_ids:
        await session.exec(
            delete(ModerationCase).where(
                col(ModerationCase.id).in_(case_ids),
                col(ModerationCase.report_count) <= 0,
                col(ModerationCase.state) == CaseState.OPEN,
            )
        )


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    """Reports of the person as a member are about their memberships, which go with the account; the
    reports they made are taken back; with their contributions, the cases about their ideas, the
    comments on those and their own comments go too (before any of these rows does)."""
    await _drop_cases(session, TargetKind.MEMBER, select(Membership.id).where(Membership.user_id == user.id))
    await _forget_reports(session, user.id)
    if context.remove_contributions:
        their_ideas = select(Idea.id).where(Idea.author_id == user.id)
        await _drop_cases(session, TargetKind.IDEA, their_ideas)
        on_or_by_them = or_(col(Comment.idea_id).in_(their_ideas), Comment.author_id == user.id)
        await _drop_cases(session, TargetKind.COMMENT, select(Comment.id).where(on_or_by_them))


PART = register(
    PersonalData(
        name="moderation",
        references={
            "report.reporter_id": (
                "deleted; the case counts one report fewer, and a case left with none is closed"
            ),
            "moderation_case.author_id": "emptied: the case about kept content stays",
            "moderation_case.hidden_by_id": "emptied: the audit log keeps who acted",
            "moderation_case.decided_by_id": "emptied: the audit log keeps who acted",
        },
        export_user=export_user,
        forget_user=forget_user,
        # Before the memberships (workspaces, 30), ideas (50) and comments (60) its cases are about.
        order=20,
    )
)

"""Reports arriving together: every member counted once, the comment hidden once."""

import asyncio

import pytest
from sqlmodel import select

from app.audit.models import AuditEvent
from app.comments import service as comment_service
from app.comments.models import Comment
from app.core.errors import Refused
from app.ideas import service as idea_service
from app.moderation import service as moderation_service
from app.moderation.models import CaseState, ModerationCase, Report
from app.workspaces.models import Workspace
from tests.races import Arena


@pytest.fixture
async def arena(engine, database_url):
    arena = Arena(database_url)
    yield arena
    await arena.close()


async def test_reports_sent_at_once_each_count_and_hide_the_comment_once(arena):
    facilitator = await arena.user(role="facilitator")
    workspace = await arena.workspace(facilitator)
    author, *reporters = await arena.members(workspace, 13)
    async with arena.work() as session:
        idea = await idea_service.create(
            session=session, workspace=workspace, author=author, data=idea_service.IdeaInput(title="Swales")
        )
        comment = await comment_service.add(
            session=session, workspace=workspace, idea=idea, author=author, body="Spam", parent_id=None
        )

    async def report(reporter, reason="spam"):
        async with arena.work() as session:
            try:
                await moderation_service.report_comment(
                    session=session,
                    workspace=await session.get(Workspace, workspace.id),
                    comment=await session.get(Comment, comment.id),
                    reporter=reporter,
                    reason=reason,
                    note="",
                )
                return True
            except Refused:
                return False

    # Every reporter twice, all at once: each counts once.
    outcomes = await asyncio.gather(*(report(reporter) for reporter in reporters * 2))
    assert outcomes.count(True) == len(reporters)
    async with arena.work() as session:
        case = (
            await session.exec(select(ModerationCase).where(ModerationCase.target_id == comment.id))
        ).one()
        reports = (await session.exec(select(Report).where(Report.case_id == case.id))).all()
        hides = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action == "auto_hide", AuditEvent.target_id == comment.id)
            )
        ).all()
        stored = await session.get(Comment, comment.id)
    assert case.report_count == len(reporters) == len(reports)
    assert case.state == CaseState.HIDDEN and stored.hidden_at is not None
    assert len(hides) == 1

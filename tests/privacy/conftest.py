"""Privacy is tested on a person who has taken part in every way, beside another who must never
show up in their data, with an app whose data directory (where uploads are stored) is a fresh one."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import select
from starlette.datastructures import FormData

from app.accounts.models import User
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession
from app.comments import service as comment_service
from app.comments.models import Comment
from app.core.db import utcnow
from app.ideas import service as idea_service
from app.ideas.models import Idea
from app.moderation import service as moderation_service
from app.notifications import service as notification_service
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting.models import Ballot
from app.workspaces import service as workspace_service
from app.workspaces.models import Workspace
from tests.attachments.files import PDF, png
from tests.conftest import TEST_SECRET_KEY, log_in, make_settings, make_user, post_form
from tests.workspaces.conftest import facilitator, network, porto  # noqa: F401 (fixtures)


@pytest.fixture
def settings(database_url, tmp_path):
    return make_settings(database_url, data_dir=tmp_path)


async def member_of(session, workspace, display_name: str, email: str | None = None) -> User:
    user = await make_user(session, display_name=display_name, email=email)
    await workspace_service.join(session=session, workspace=workspace, user=user)
    return user


async def post_idea(client, workspace, title: str, files=()) -> int:
    """Through the form, so the files are stored as uploads are."""
    response = await post_form(
        client,
        f"/w/{workspace.slug}/ideas/new",
        {"title": title, "body": f"{title}: the details."},
        files=list(files) or None,
    )
    assert response.status_code == 303, response.text
    idea_id = int(response.headers["location"].rstrip("/").rsplit("/", 1)[-1])
    return idea_id


def picture(name="garden.png"):
    return ("files", (name, png(2, 2), "image/png"))


def document(name="plan.pdf"):
    return ("files", (name, PDF, "application/pdf"))


async def comment(session, workspace, idea_id, author, body, parent=None) -> Comment:
    idea = await session.get(Idea, idea_id)
    return await comment_service.add(
        session=session,
        workspace=workspace,
        idea=idea,
        author=author,
        body=body,
        parent_id=parent.id if parent else None,
    )


async def workshop(session, workspace, author, *, capacity=1) -> CocreationSession:
    data = session_service.SessionInput(
        title="River walk",
        phase="co-design",
        mode="in-person",
        place_name="Library",
        time_zone="UTC",
        starts_at=(utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        ends_at=(utcnow() + timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M"),
        capacity=str(capacity),
    )
    cs = await session_service.create(session=session, workspace=workspace, author=author, data=data)
    await session_service.set_status(session=session, cs=cs, status="scheduled", by=author)
    return cs


async def ballot(session, workspace, author, *, anonymous=False, question="Which first?") -> Ballot:
    data = voting_rules.BallotInput(
        question=question,
        method="approval",
        options_text="Rain gardens\nGreen roofs",
        closes_at=(utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        results_visibility="after-close" if anonymous else "live",
        anonymous=anonymous,
    )
    return await voting_service.create(
        session=session, workspace=workspace, cs=None, author=author, data=data
    )


async def vote(session, ballot_row: Ballot, user: User, choice: int = 0) -> None:
    options = await voting_storage.options_of(session=session, ballot_id=ballot_row.id)
    await voting_service.cast_vote(
        session=session,
        ballot=ballot_row,
        option_ids=[option.id for option in options],
        user=user,
        member=True,
        form=FormData([("option", str(options[choice].id))]),
        secret_key=TEST_SECRET_KEY,
    )


@dataclass
class Scene:
    """Ana took part in every way; Wei did too, on the same ideas. Nothing of Wei's may show up in
    Ana's data, and Ana's leaving must leave Wei's things as they were."""

    workspace: Workspace
    ana: User
    wei: User
    ana_idea: int
    wei_idea: int
    ana_comment: Comment  # on Wei's idea, which Wei answered
    ana_lone_comment: Comment  # on Wei's idea, nobody answered
    wei_reply: Comment
    wei_comment: Comment  # on Ana's idea
    workshop: CocreationSession
    open_ballot: Ballot
    closed_ballot: Ballot
    anonymous_ballot: Ballot


async def scene(session, client, other_client, workspace, host, *, files=()) -> Scene:
    ana = await member_of(session, workspace, "Ana Sousa", email="ana.sousa@example.org")
    wei = await member_of(session, workspace, "Wei Zhang", email="wei.zhang@example.org")
    await log_in(client, ana)
    await log_in(other_client, wei)
    ana_idea = await post_idea(client, workspace, "Ana's rain garden", files)
    wei_idea = await post_idea(other_client, workspace, "Wei's green roof", [picture("wei-roof.png")])
    ana_comment = await comment(session, workspace, wei_idea, ana, "Ana thinks roofs need soil.")
    wei_reply = await comment(
        session, workspace, wei_idea, wei, "Wei answers: twenty centimetres.", ana_comment
    )
    ana_lone_comment = await comment(session, workspace, wei_idea, ana, "Ana adds: and a drain.")
    wei_comment = await comment(session, workspace, ana_idea, wei, "Wei likes the rain garden.")
    wei_row = await session.get(Idea, wei_idea)
    await idea_service.toggle_support(session=session, idea=wei_row, user=ana)
    await idea_service.toggle_support(session=session, idea=await session.get(Idea, ana_idea), user=wei)
    await notification_service.toggle_follow(session=session, user_id=ana.id, idea_id=wei_idea)
    await notification_service.toggle_follow(session=session, user_id=wei.id, workspace_id=workspace.id)
    cs = await workshop(session, workspace, host, capacity=1)
    await session_service.register(session=session, cs=cs, user=ana)
    await session_service.register(session=session, cs=cs, user=wei)  # waits for a place
    open_ballot = await ballot(session, workspace, host, question="Open question?")
    closed_ballot = await ballot(session, workspace, host, question="Closed question?")
    anonymous_ballot = await ballot(session, workspace, host, anonymous=True, question="Secret question?")
    for voter in (ana, wei):
        await vote(session, open_ballot, voter)
        await vote(session, closed_ballot, voter, choice=1)
        await vote(session, anonymous_ballot, voter)
    await voting_service.close_early(session=session, ballot=closed_ballot)
    wei_reply_row = await session.get(Comment, wei_reply.id)
    await moderation_service.report_comment(
        session=session,
        workspace=workspace,
        comment=wei_reply_row,
        reporter=ana,
        reason="off-topic",
        note="Ana's note",
    )
    return Scene(
        workspace=workspace,
        ana=ana,
        wei=wei,
        ana_idea=ana_idea,
        wei_idea=wei_idea,
        ana_comment=ana_comment,
        ana_lone_comment=ana_lone_comment,
        wei_reply=wei_reply,
        wei_comment=wei_comment,
        workshop=cs,
        open_ballot=open_ballot,
        closed_ballot=closed_ballot,
        anonymous_ballot=anonymous_ballot,
    )


async def fresh(session, model, row_id):
    return (
        await session.exec(select(model).where(model.id == row_id).execution_options(populate_existing=True))
    ).first()

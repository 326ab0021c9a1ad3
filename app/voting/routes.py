"""Ballot pages: creating a ballot, voting and changing one's vote, results with charts, closing
early, and CSV exports of results and papers."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app.accounts import service as account_service
from app.accounts.deps import CurrentUser
from app.cocreation import permissions as session_permissions
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession
from app.core.db import Mode
from app.core.deps import ClientAddress, RowId, SessionDep, SettingsDep, lean, unit_mode
from app.core.errors import Refused
from app.core.forms import FormError, form_text, local_datetime_input, whole_number, whole_numbers
from app.core.i18n import _, get_time_zone
from app.core.templating import flash, is_htmx_fragment_request, render
from app.voting import exports as voting_exports
from app.voting import permissions
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting import views as voting_views
from app.voting.deps import voter
from app.voting.models import Ballot, BallotOption, BallotState, Eligibility, ResultsVisibility, Vote
from app.workspaces.deps import Visible, WorkspaceContext, allowed, allowed_on

router = APIRouter()


async def visible_ballot(
    ballot_id: RowId, session: SessionDep, context: Visible
) -> tuple[WorkspaceContext, Ballot]:
    ballot = await voting_storage.get(session=session, workspace_id=context.workspace.id, ballot_id=ballot_id)
    if ballot is None:
        raise HTTPException(status_code=404)
    if ballot.session_id is not None:
        cs = await session.get(CocreationSession, ballot.session_id)
        if cs is None or not session_permissions.can_view(
            context.user, context.workspace, context.membership, cs
        ):
            raise HTTPException(status_code=404)
    return context, ballot


VisibleBallot = Annotated[tuple[WorkspaceContext, Ballot], Depends(visible_ballot)]


def _may_manage(user, context: WorkspaceContext, _ballot: Ballot) -> bool:
    return context.can(permissions.can_manage)


ManagedBallot = Annotated[tuple[WorkspaceContext, Ballot], allowed_on(visible_ballot, _may_manage)]


def _url(context: WorkspaceContext, ballot: Ballot, tail: str = "") -> str:
    return f"/w/{context.workspace.slug}/ballots/{ballot.id}{tail}"


@router.get("/w/{slug}/ballots")
async def ballots_page(request: Request, session: SessionDep, context: Visible):
    ballots = await voting_storage.list_ballots(
        session=session,
        workspace_id=context.workspace.id,
        with_draft_sessions=context.can(permissions.can_manage),
    )
    return render(
        request,
        "voting/index.html",
        {
            "workspace": context.workspace,
            "ballots": ballots,
            "counts": await voting_storage.vote_counts(session=session, ballot_ids=[b.id for b in ballots]),
            "can_manage": context.can(permissions.can_manage),
            "now": voting_service.now(),
            "labels": voting_views,
        },
    )


async def _session_for(session, context: WorkspaceContext, session_id: str) -> CocreationSession | None:
    if not session_id.strip():
        return None
    cs = None
    if (number := whole_number(session_id)) is not None:
        cs = await session_service.get(session=session, workspace_id=context.workspace.id, session_id=number)
    if cs is None:
        raise HTTPException(status_code=404)
    return cs


async def _form_page(
    request, session, context, *, cs, form: voting_rules.BallotInput, errors, status_code=200
):
    return render(
        request,
        "voting/form.html",
        {
            "workspace": context.workspace,
            "cs": cs,
            "form": form,
            "errors": errors,
            "ideas": await voting_storage.candidate_ideas(session=session, workspace_id=context.workspace.id),
            "labels": voting_views,
            "time_zone": get_time_zone(),
        },
        status_code=status_code,
    )


@router.get("/w/{slug}/ballots/new")
async def new_ballot(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_manage)],
    user: CurrentUser,
    session_id: str = "",
):
    cs = await _session_for(session, context, session_id)
    form = voting_rules.BallotInput(
        closes_at=local_datetime_input(voting_service.now() + timedelta(hours=1), get_time_zone()),
        eligibility=Eligibility.ATTENDEES if cs else Eligibility.MEMBERS,
        results_visibility=ResultsVisibility.LIVE if cs else ResultsVisibility.AFTER_CLOSE,
    )
    return await _form_page(request, session, context, cs=cs, form=form, errors={})


@router.post("/w/{slug}/ballots/new")
async def create_ballot(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_manage)],
    user: CurrentUser,
):
    form = await request.form()
    cs = await _session_for(session, context, form_text(form, "session_id"))
    fields = {
        name: form_text(form, name)
        for name in (
            "question",
            "description",
            "method",
            "options_text",
            "max_choices",
            "dots",
            "per_option_max",
            "opens_at",
            "closes_at",
            "results_visibility",
            "eligibility",
        )
    }
    data = voting_rules.BallotInput(
        **fields,
        anonymous=form.get("anonymous") == "on",
        idea_ids=whole_numbers(form.getlist("idea_ids"))[:50],
    )
    try:
        ballot = await voting_service.create(
            session=session, workspace=context.workspace, cs=cs, author=user, data=data
        )
    except FormError as error:
        return await _form_page(
            request, session, context, cs=cs, form=data, errors=error.errors, status_code=422
        )
    response = RedirectResponse(_url(context, ballot), status_code=303)
    flash(request, response, _("The ballot is ready."), "success")
    return response


async def ballot_context(
    session,
    settings,
    context: WorkspaceContext,
    ballot: Ballot,
    *,
    options: list[BallotOption] | None = None,
    paper: Vote | None = None,
) -> dict:
    """What the ballot block shows this reader. Right after their vote (their ``paper``) their
    eligibility is known, and the options may be given: fewer queries on the busiest request."""
    just_voted = paper is not None
    if options is None:
        options = await voting_storage.options_of(session=session, ballot_id=ballot.id)
    vote = paper or await voting_storage.my_vote(
        session=session, ballot=ballot, user=context.user, secret_key=settings.voting_key
    )
    eligible = just_voted or await voting_service.is_eligible(
        session=session, ballot=ballot, user=context.user, member=context.can(permissions.can_vote_here)
    )
    visible = voting_rules.can_see_results(ballot, has_voted=vote is not None)
    cs = None
    if ballot.session_id and not just_voted:
        cs = await session.get(CocreationSession, ballot.session_id)
    return {
        "workspace": context.workspace,
        "ballot": ballot,
        "cs": cs,
        "options": options,
        "vote": vote,
        "eligible": eligible,
        "signed_in": context.user is not None,
        "state": ballot.state(voting_service.now()),
        "results": await voting_views.results(session=session, ballot=ballot, options=options)
        if visible
        else None,
        "turnout": await voting_storage.turnout(session=session, ballot_id=ballot.id),
        "can_manage": context.can(permissions.can_manage),
        "labels": voting_views,
        "error": None,
        "submitted": None,
    }


@router.get("/w/{slug}/ballots/{ballot_id}")
async def ballot_page(request: Request, session: SessionDep, settings: SettingsDep, loaded: VisibleBallot):
    context, ballot = loaded
    page = await ballot_context(session, settings, context, ballot)
    return render(
        request, "voting/ballot.html", page, block="ballot" if request.query_params.get("fragment") else None
    )


@router.post("/w/{slug}/ballots/{ballot_id}/vote", dependencies=[unit_mode(Mode.ALONE)])
@lean
async def cast_vote(
    request: Request,
    slug: str,
    ballot_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    address: ClientAddress,
):
    """A vote from the ballot's form: with htmx the ballot comes back in place, with the voter's marks;
    without JavaScript the browser goes back to the ballot page. Lean (``voting.deps.voter``): the
    sign-in and the voter's standing come in one statement, the options from the process's memory."""
    who = await voter(request, session, ballot_id, address, slug=slug[:80])
    context, ballot = who.context, who.ballot
    options = await voting_storage.options_cached(session=session, ballot=ballot)
    form = await request.form()
    try:
        done = await voting_service.cast_vote(
            session=session,
            ballot=ballot,
            option_ids=who.option_ids,
            user=who.user,
            member=who.member,
            form=form,
            secret_key=settings.voting_key,
        )
    except voting_rules.VoteRefused as error:
        page = await ballot_context(session, settings, context, ballot)
        page["error"] = error.message
        page["submitted"] = form
        status = 403 if not page["eligible"] and page["state"] == BallotState.OPEN else 422
        return render(request, "voting/ballot.html", page, status_code=status, block="ballot")
    message = _("Your vote has been recorded.") if done.first else _("Your vote has been updated.")
    if is_htmx_fragment_request(request):
        page = await ballot_context(session, settings, context, ballot, options=options, paper=done.paper)
        page["notice"] = message
        return render(request, "voting/ballot.html", page, block="ballot")
    response = RedirectResponse(_url(context, ballot), status_code=303)
    flash(request, response, message, "success")
    return response


@router.post("/w/{slug}/ballots/{ballot_id}/close")
async def close_ballot(request: Request, session: SessionDep, loaded: ManagedBallot, user: CurrentUser):
    context, ballot = loaded
    response = RedirectResponse(_url(context, ballot), status_code=303)
    try:
        await voting_service.close_early(session=session, ballot=ballot)
    except voting_rules.VoteRefused as error:
        flash(request, response, error.message, "error")
        return response
    flash(request, response, _("The ballot is closed."), "success")
    return response


def _csv(body: str, filename: str) -> Response:
    return Response(
        "\ufeff" + body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/w/{slug}/ballots/{ballot_id}/results.csv")
async def results_csv(session: SessionDep, settings: SettingsDep, loaded: VisibleBallot):
    context, ballot = loaded
    vote = await voting_storage.my_vote(
        session=session, ballot=ballot, user=context.user, secret_key=settings.voting_key
    )
    if not voting_rules.can_see_results(ballot, has_voted=vote is not None):
        raise Refused(_("The results are not shown yet."), 403)
    options = await voting_storage.options_of(session=session, ballot_id=ballot.id)
    view = await voting_views.results(session=session, ballot=ballot, options=options)
    return _csv(voting_exports.results_csv(view), f"ballot-{ballot.id}-results.csv")


@router.get("/w/{slug}/ballots/{ballot_id}/papers.csv")
async def papers_csv(session: SessionDep, loaded: VisibleBallot):
    """The papers themselves, once the ballot is closed (earlier they would show a running count).
    Everyone may recount; only the workspace's moderators see who cast which paper, and never on an
    anonymous ballot."""
    context, ballot = loaded
    if ballot.state(voting_service.now()) != BallotState.CLOSED:
        raise Refused(_("The papers can be downloaded once the ballot has closed."), 403)
    options = await voting_storage.options_of(session=session, ballot_id=ballot.id)
    votes = await voting_storage.papers(session=session, ballot=ballot)
    names = None
    if not ballot.anonymous and context.can(permissions.can_manage):
        names = await account_service.display_names(
            session=session, user_ids=[v.voter_id for v in votes if v.voter_id]
        )
    return _csv(voting_exports.papers_csv(ballot, options, votes, names), f"ballot-{ballot.id}-papers.csv")

"""Reporting a comment, hiding and restoring it, the author's request for review, and the moderation
queues: one per workspace for its moderators, and an inbox of every queue one may act on (all of
them for facilitators and admins, their workspaces' for city moderators)."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from app.accounts import service as account_service
from app.accounts.deps import CurrentUser
from app.comments.service import CommentNode
from app.core.deps import FormStr, RowId, SessionDep, rate_limited
from app.core.errors import Refused
from app.core.forms import FormError, form_text, whole_numbers
from app.core.i18n import _, ngettext
from app.core.templating import flash, is_htmx_fragment_request, render
from app.ideas import permissions as idea_permissions
from app.ideas.deps import VisibleIdea, visible_idea
from app.ideas.models import Idea
from app.moderation import permissions, sanctions
from app.moderation import service as moderation_service
from app.moderation.models import DECISION_LABELS, REASON_LABELS, STATE_LABELS, ReportReason
from app.web.comments import VisibleComment, comment_url, comments_context, visible_comment
from app.web.ideas import idea_view
from app.web.workspaces import members_view
from app.workspaces import permissions as workspace_permissions
from app.workspaces import service as workspace_service
from app.workspaces.deps import Visible, WorkspaceContext, allowed, allowed_on
from app.workspaces.models import Membership

router = APIRouter()


def _may_moderate(user, context: WorkspaceContext, _thing) -> bool:
    return context.can(permissions.can_moderate)


def _may_report_comment(user, context: WorkspaceContext, node: CommentNode) -> bool:
    return permissions.can_report(user, context.workspace, context.membership, node.comment)


def _may_report_idea(user, context: WorkspaceContext, idea: Idea) -> bool:
    return context.can(permissions.can_report_idea, idea)


ModeratedComment = Annotated[tuple[WorkspaceContext, CommentNode], allowed_on(visible_comment, _may_moderate)]
CommentToReport = Annotated[
    tuple[WorkspaceContext, CommentNode], allowed_on(visible_comment, _may_report_comment)
]
ModeratedIdea = Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_moderate)]
IdeaToReport = Annotated[tuple[WorkspaceContext, Idea], allowed_on(visible_idea, _may_report_idea)]


async def _reload(session, context: WorkspaceContext, node) -> None:
    """After a refused act rolled back: what the comment's page shows, loaded again."""


async def _comment_answer(
    request: Request,
    session,
    context: WorkspaceContext,
    node,
    message: str,
    *,
    status_code=200,
    errors=None,
    form=None,
):
    """htmx gets the comment's content again, with the message; a plain form goes back to the comment."""
    if is_htmx_fragment_request(request):
        await moderation_service.annotate(session=session, nodes=[node], viewer=context.user)
        return render(
            request,
            "comments/_content.html",
            comments_context(
                context,
                node=node,
                notice=message,
                notice_error=status_code >= 400,
                errors=errors or {},
                form=form or {},
            ),
            status_code=status_code,
        )
    response = RedirectResponse(
        await comment_url(session, context.workspace.slug, node.comment), status_code=303
    )
    flash(request, response, message, "error" if status_code >= 400 else "success")
    return response


async def _act_on_comment(request: Request, session, context, node, act, *, form: dict, done: str):
    """Runs a moderation act on a comment and answers: the comment again with the message, 422 with the
    form's errors, or the rules' refusal (403 or 409)."""
    try:
        await act()
    except FormError as error:
        return await _comment_answer(
            request,
            session,
            context,
            node,
            next(iter(error.errors.values())),
            status_code=422,
            errors=error.errors,
            form=form,
        )
    except Refused as refused:
        await _reload(session, context, node)
        return await _comment_answer(
            request, session, context, node, refused.message, status_code=refused.status
        )
    return await _comment_answer(request, session, context, node, done)


@router.post("/w/{slug}/comments/{comment_id}/report", dependencies=[rate_limited("report")])
async def report_comment(
    request: Request,
    session: SessionDep,
    loaded: CommentToReport,
    user: CurrentUser,
    reason: FormStr = "",
    note: FormStr = "",
):
    context, node = loaded

    async def act():
        await moderation_service.report_comment(
            session=session,
            workspace=context.workspace,
            comment=node.comment,
            reporter=user,
            reason=reason,
            note=note,
        )

    done = _("Thank you. The moderators of this workspace will look at it.")
    return await _act_on_comment(
        request, session, context, node, act, form={"reason": reason, "note": note}, done=done
    )


@router.post("/w/{slug}/comments/{comment_id}/hide")
async def hide_comment(
    request: Request, session: SessionDep, loaded: ModeratedComment, user: CurrentUser, reason: FormStr = ""
):
    context, node = loaded

    async def act():
        await moderation_service.hide_comment(
            session=session, workspace=context.workspace, comment=node.comment, moderator=user, reason=reason
        )

    done = _("The comment is hidden. Its author is told why.")
    return await _act_on_comment(
        request, session, context, node, act, form={"hide_reason": reason}, done=done
    )


async def _case_of(session, node):
    await moderation_service.annotate(session=session, nodes=[node], viewer=None)
    if node.case is None:
        raise HTTPException(status_code=404)
    return node.case


@router.post("/w/{slug}/comments/{comment_id}/restore")
async def restore_comment(
    request: Request, session: SessionDep, loaded: ModeratedComment, user: CurrentUser, reason: FormStr = ""
):
    context, node = loaded
    case = await _case_of(session, node)
    try:
        changed, _skipped = await moderation_service.decide(
            session=session,
            case_ids=[case.id],
            workspace_ids=[context.workspace.id],
            action=moderation_service.Action.RESTORE,
            moderator=user,
            reason=reason,
        )
    except FormError as error:
        return await _comment_answer(
            request,
            session,
            context,
            node,
            error.errors["reason"],
            status_code=422,
            errors=error.errors,
            form={"restore_reason": reason},
        )
    await session.refresh(node.comment)
    if not changed:
        return await _comment_answer(
            request, session, context, node, _("This comment is not hidden."), status_code=409
        )
    return await _comment_answer(
        request, session, context, node, _("The comment is shown again. Its author is told why.")
    )


@router.post("/w/{slug}/comments/{comment_id}/review")
async def request_review(
    request: Request, session: SessionDep, loaded: VisibleComment, user: CurrentUser, note: FormStr = ""
):
    context, node = loaded
    case = await _case_of(session, node)

    async def act():
        await moderation_service.request_review(
            session=session,
            case=case,
            target=moderation_service.comment_target(node.comment),
            author=user,
            note=note,
        )

    done = _("The moderators are asked to look again.")
    return await _act_on_comment(request, session, context, node, act, form={"review_note": note}, done=done)


# Ideas ----------------------------------------------------------------------------------------------


async def _act_on_idea(
    request: Request, session, context: WorkspaceContext, idea, act, *, form: dict, done: str
):
    """Runs a moderation act on an idea; success goes back to the idea with a message, a refusal or
    bad input comes back on the idea page with the form as it was sent."""
    try:
        await act()
    except FormError as error:
        return await idea_view(
            request, session, context, idea, errors=error.errors, form=form, status_code=422
        )
    except Refused as refused:
        return await idea_view(
            request, session, context, idea, notice=refused.message, status_code=refused.status
        )
    await session.refresh(idea)
    url = f"/w/{context.workspace.slug}/ideas/{idea.id}"
    if idea.hidden_at is not None and not context.can(idea_permissions.can_see, idea):
        url = f"/w/{context.workspace.slug}"  # the reporter who hid it can no longer open it
    response = RedirectResponse(url, status_code=303)
    flash(request, response, done, "success")
    return response


@router.post("/w/{slug}/ideas/{idea_id}/report", dependencies=[rate_limited("report")])
async def report_idea(
    request: Request,
    session: SessionDep,
    loaded: IdeaToReport,
    user: CurrentUser,
    reason: FormStr = "",
    note: FormStr = "",
):
    context, idea = loaded

    async def act():
        await moderation_service.report(
            session=session,
            workspace=context.workspace,
            target=moderation_service.idea_target(idea),
            reporter=user,
            reason=reason,
            note=note,
        )

    done = _("Thank you. The moderators of this workspace will look at it.")
    return await _act_on_idea(
        request, session, context, idea, act, form={"reason": reason, "note": note}, done=done
    )


@router.post("/w/{slug}/ideas/{idea_id}/hide")
async def hide_idea(
    request: Request, session: SessionDep, loaded: ModeratedIdea, user: CurrentUser, reason: FormStr = ""
):
    context, idea = loaded

    async def act():
        await moderation_service.hide(
            session=session,
            workspace=context.workspace,
            target=moderation_service.idea_target(idea),
            moderator=user,
            reason=reason,
        )

    done = _("The idea is hidden. Its author is told why.")
    return await _act_on_idea(request, session, context, idea, act, form={"hide_reason": reason}, done=done)


async def _idea_case(session, idea):
    case, _reported = await moderation_service.case_of(
        session=session, target=moderation_service.idea_target(idea), viewer=None
    )
    if case is None:
        raise HTTPException(status_code=404)
    return case


@router.post("/w/{slug}/ideas/{idea_id}/restore")
async def restore_idea(
    request: Request, session: SessionDep, loaded: ModeratedIdea, user: CurrentUser, reason: FormStr = ""
):
    context, idea = loaded
    case = await _idea_case(session, idea)

    async def act():
        changed, _skipped = await moderation_service.decide(
            session=session,
            case_ids=[case.id],
            workspace_ids=[context.workspace.id],
            action=moderation_service.Action.RESTORE,
            moderator=user,
            reason=reason,
        )
        if not changed:
            raise Refused(_("This idea is not hidden."))

    done = _("The idea is shown again. Its author is told why.")
    return await _act_on_idea(
        request, session, context, idea, act, form={"restore_reason": reason}, done=done
    )


@router.post("/w/{slug}/ideas/{idea_id}/review")
async def request_idea_review(
    request: Request, session: SessionDep, loaded: VisibleIdea, user: CurrentUser, note: FormStr = ""
):
    context, idea = loaded
    case = await _idea_case(session, idea)

    async def act():
        await moderation_service.request_review(
            session=session, case=case, target=moderation_service.idea_target(idea), author=user, note=note
        )

    done = _("The moderators are asked to look again.")
    return await _act_on_idea(request, session, context, idea, act, form={"review_note": note}, done=done)


@router.post("/w/{slug}/ideas/{idea_id}/lock")
async def lock_idea(
    request: Request, session: SessionDep, loaded: ModeratedIdea, user: CurrentUser, reason: FormStr = ""
):
    context, idea = loaded

    async def act():
        await moderation_service.set_locked(
            session=session,
            workspace=context.workspace,
            idea=idea,
            moderator=user,
            reason=reason,
            locked=True,
        )

    done = _("The idea is locked: it takes no new comments.")
    return await _act_on_idea(request, session, context, idea, act, form={"lock_reason": reason}, done=done)


@router.post("/w/{slug}/ideas/{idea_id}/unlock")
async def unlock_idea(request: Request, session: SessionDep, loaded: ModeratedIdea, user: CurrentUser):
    context, idea = loaded

    async def act():
        await moderation_service.set_locked(
            session=session, workspace=context.workspace, idea=idea, moderator=user, reason="", locked=False
        )

    done = _("The idea takes comments again.")
    return await _act_on_idea(request, session, context, idea, act, form={}, done=done)


# The queues -----------------------------------------------------------------------------------------


def _queue_page(
    request,
    *,
    context: WorkspaceContext | None,
    rows,
    more,
    filters,
    pending,
    every: bool,
    by_workspace=(),
    errors=None,
    status_code=200,
    form=None,
):
    base = f"/w/{context.workspace.slug}/moderation" if context else "/moderation"
    query = {"state": filters.state, "reason": filters.reason, "q": filters.q}
    return render(
        request,
        "moderation/queue.html",
        {
            "workspace": context.workspace if context else None,
            "rows": rows,
            "more": more,
            "filters": filters,
            "pending": pending,
            "every": every,
            "by_workspace": by_workspace,
            "base": base,
            "query": {key: value for key, value in query.items() if value},
            "urlencode": urlencode,
            "state_labels": STATE_LABELS,
            "decision_labels": DECISION_LABELS,
            "reason_labels": REASON_LABELS,
            "reasons": list(ReportReason),
            "hidden_states": moderation_service.HIDDEN_STATES,
            "errors": errors or {},
            "form": form or {},
            "thresholds": (moderation_service.THRESHOLD_MIN, moderation_service.THRESHOLD_MAX),
        },
        status_code=status_code,
    )


async def _show_queue(request, session, context: WorkspaceContext | None, workspace_ids, **extra):
    """One workspace's queue (``context``), or the inbox of the queues of ``workspace_ids`` (None:
    every workspace), with how many cases wait in each."""
    filters = moderation_service.QueueFilter.from_query(request.query_params)
    rows, more = await moderation_service.queue(session=session, workspace_ids=workspace_ids, filters=filters)
    pending = await moderation_service.pending_count(session=session, workspace_ids=workspace_ids)
    by_workspace = (
        await moderation_service.waiting_by_workspace(session=session, workspace_ids=workspace_ids)
        if context is None
        else ()
    )
    return _queue_page(
        request,
        context=context,
        rows=rows,
        more=more,
        filters=filters,
        pending=pending,
        every=workspace_ids is None,
        by_workspace=by_workspace,
        **extra,
    )


async def _decide(request, session, context: WorkspaceContext | None, user, workspace_ids):
    form = await request.form()
    try:
        changed, skipped = await moderation_service.decide(
            session=session,
            case_ids=whole_numbers(form.getlist("case")),
            workspace_ids=workspace_ids,
            action=form_text(form, "action"),
            moderator=user,
            reason=form_text(form, "reason"),
        )
    except FormError as error:
        return await _show_queue(
            request,
            session,
            context,
            workspace_ids,
            errors=error.errors,
            status_code=422,
            form={
                "action": form_text(form, "action"),
                "reason": form_text(form, "reason"),
                "cases": whole_numbers(form.getlist("case")),
            },
        )
    base = f"/w/{context.workspace.slug}/moderation" if context else "/moderation"
    back = base + ("?" + request.url.query if request.url.query else "")
    response = RedirectResponse(back, status_code=303)
    message = ngettext("%(num)s item changed.", "%(num)s items changed.", changed)
    if skipped:
        message += " " + _("%(num)s left as they were (already in that state).", num=skipped)
    flash(request, response, message, "success")
    return response


@router.get("/w/{slug}/moderation")
async def workspace_queue(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_moderate)],
    user: CurrentUser,
):
    return await _show_queue(request, session, context, [context.workspace.id])


@router.post("/w/{slug}/moderation")
async def workspace_decide(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_moderate)],
    user: CurrentUser,
):
    return await _decide(request, session, context, user, [context.workspace.id])


@router.post("/w/{slug}/moderation/threshold")
async def workspace_threshold(
    request: Request,
    session: SessionDep,
    context: Annotated[WorkspaceContext, allowed(permissions.can_moderate)],
    user: CurrentUser,
    threshold: FormStr = "",
):
    try:
        await moderation_service.set_threshold(
            session=session, workspace=context.workspace, value=threshold, moderator=user
        )
    except FormError as error:
        return await _show_queue(
            request,
            session,
            context,
            [context.workspace.id],
            errors=error.errors,
            status_code=422,
            form={"threshold": threshold},
        )
    response = RedirectResponse(f"/w/{context.workspace.slug}/moderation", status_code=303)
    flash(request, response, _("Saved."), "success")
    return response


async def inbox_scope(session: SessionDep, user: CurrentUser) -> list[int] | None:
    """The workspaces whose queues the user's inbox holds (None: all); 403 for one who moderates none."""
    workspace_ids = await moderation_service.inbox_scope(session=session, user=user)
    if not permissions.has_inbox(user, workspace_ids):
        raise HTTPException(status_code=403)
    return workspace_ids


InboxScope = Annotated[list[int] | None, Depends(inbox_scope)]


@router.get("/moderation")
async def inbox(request: Request, session: SessionDep, user: CurrentUser, workspace_ids: InboxScope):
    return await _show_queue(request, session, None, workspace_ids)


@router.post("/moderation")
async def inbox_decide(request: Request, session: SessionDep, user: CurrentUser, workspace_ids: InboxScope):
    return await _decide(request, session, None, user, workspace_ids)


# Warnings and bans ----------------------------------------------------------------------------------


async def sanction_target(
    membership_id: RowId, session: SessionDep, context: Visible, user: CurrentUser
) -> Membership:
    """The membership a warning or a ban is about: 404 when it is not of this workspace, 403 unless the
    user may sanction that member."""
    membership = await workspace_service.get_membership(
        session=session, workspace_id=context.workspace.id, membership_id=membership_id
    )
    if membership is None:
        raise HTTPException(status_code=404)
    target_user = await account_service.get(session=session, user_id=membership.user_id)
    if target_user is None or not workspace_permissions.can_sanction(
        user, context.workspace, context.membership, membership, target_user
    ):
        raise HTTPException(status_code=403)
    return membership


SanctionTarget = Annotated[Membership, Depends(sanction_target)]


async def reported_member(
    membership_id: RowId, session: SessionDep, context: Visible, user: CurrentUser
) -> Membership:
    """The membership a report is about: 404 when it is not of this workspace, 403 unless the user may
    report that member."""
    reported = await workspace_service.get_membership(
        session=session, workspace_id=context.workspace.id, membership_id=membership_id
    )
    if reported is None:
        raise HTTPException(status_code=404)
    if not context.can(permissions.can_report_member, reported):
        raise HTTPException(status_code=403)
    return reported


async def _act_on_member(request: Request, session, context: WorkspaceContext, act, message: str):
    """Runs an act about a member (a report, a warning, a ban) and goes back to the members page with
    its message, or with the form's errors (422)."""
    members = f"/w/{context.workspace.slug}/members"
    try:
        await act()
    except FormError as error:
        return await members_view(request, session, context, errors=error.errors, status_code=422)
    except Refused as refused:
        response = RedirectResponse(members, status_code=303)
        flash(request, response, refused.message, "error")
        return response
    response = RedirectResponse(members, status_code=303)
    flash(request, response, message, "success")
    return response


@router.post("/w/{slug}/members/{membership_id}/report", dependencies=[rate_limited("report")])
async def report_member(
    request: Request,
    session: SessionDep,
    context: Visible,
    user: CurrentUser,
    reported: Annotated[Membership, Depends(reported_member)],
    reason: FormStr = "",
    note: FormStr = "",
):

    async def act():
        await moderation_service.report(
            session=session,
            workspace=context.workspace,
            target=moderation_service.member_target(reported),
            reporter=user,
            reason=reason,
            note=note,
        )

    return await _act_on_member(
        request, session, context, act, _("Thank you. The moderators of this workspace will look at it.")
    )


@router.post("/w/{slug}/members/{membership_id}/warn")
async def warn_member(
    request: Request,
    session: SessionDep,
    context: Visible,
    user: CurrentUser,
    membership: SanctionTarget,
    reason: FormStr = "",
):
    async def act():
        await sanctions.warn(session=session, membership=membership, moderator=user, reason=reason)

    return await _act_on_member(request, session, context, act, _("The member is warned and told why."))


@router.post("/w/{slug}/members/{membership_id}/ban")
async def ban_member(
    request: Request,
    session: SessionDep,
    context: Visible,
    user: CurrentUser,
    membership: SanctionTarget,
    length: FormStr = "",
    reason: FormStr = "",
):
    async def act():
        await sanctions.ban(
            session=session, membership=membership, moderator=user, length=length, reason=reason
        )

    return await _act_on_member(
        request, session, context, act, _("The member is banned and told why. They can still read.")
    )


@router.post("/w/{slug}/members/{membership_id}/unban")
async def unban_member(
    request: Request,
    session: SessionDep,
    context: Visible,
    user: CurrentUser,
    membership: SanctionTarget,
    reason: FormStr = "",
):
    async def act():
        await sanctions.unban(session=session, membership=membership, moderator=user, reason=reason)

    return await _act_on_member(request, session, context, act, _("The ban is lifted."))

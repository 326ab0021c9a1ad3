"""Reports of comments, ideas and members, hiding content after enough of them, the moderators'
decisions, locking an idea, and the author's request for review.

Every change takes the case row's lock first (SELECT .. FOR UPDATE on PostgreSQL; SQLite has one
writer at a time), so reports arriving together are all counted and two moderators deciding at once
leave one consistent state. Each act is written to the audit log in the same transaction."""

import functools
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, not_, true
from sqlalchemy import case as sql_case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.comments.models import Comment
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.events import Notice, publish
from app.core.forms import FormError, clean_text, whole_number
from app.core.i18n import _
from app.ideas.models import Idea
from app.moderation.models import (
    NOTE_MAX,
    REASON_MAX,
    CaseState,
    ModerationCase,
    Report,
    ReportReason,
    TargetKind,
)
from app.workspaces import permissions as workspace_permissions
from app.workspaces import service as workspace_service
from app.workspaces.models import MemberRole, Membership, MemberStatus, Workspace

PAGE_SIZE = 30
NOTES_SHOWN = 5  # reporters' notes on a case in the queue, the newest
THRESHOLD_MIN, THRESHOLD_MAX = 1, 50
HIDDEN_STATES = (CaseState.HIDDEN, CaseState.REVIEW)
# ModerationCase.is_waiting in SQL: reports since the last decision, or a review asked for. Every
# decision sets open_reports to 0, so deciding closes the case.
WAITING = or_(col(ModerationCase.open_reports) > 0, col(ModerationCase.state) == CaseState.REVIEW)


class Action:
    HIDE = "hide"
    RESTORE = "restore"
    DISMISS = "dismiss"


ACTIONS = (Action.HIDE, Action.RESTORE, Action.DISMISS)


@dataclass
class Target:
    """What a case is about: a comment or an idea (which can be hidden), or a member (who cannot)."""

    kind: str
    obj: Comment | Idea | Membership
    author_id: int | None
    idea_id: int | None = None
    comment_id: int | None = None

    @property
    def id(self) -> int:
        return self.obj.id

    @property
    def can_hide(self) -> bool:
        return self.kind != TargetKind.MEMBER


def comment_target(comment: Comment) -> Target:
    return Target(
        TargetKind.COMMENT, comment, comment.author_id, idea_id=comment.idea_id, comment_id=comment.id
    )


def idea_target(idea: Idea) -> Target:
    return Target(TargetKind.IDEA, idea, idea.author_id, idea_id=idea.id)


def member_target(membership: Membership) -> Target:
    return Target(TargetKind.MEMBER, membership, membership.user_id)


# (kind, what happened) -> the notification its author gets
_NOTICES = {
    (TargetKind.COMMENT, "hidden"): "comment_hidden",
    (TargetKind.COMMENT, "restored"): "comment_restored",
    (TargetKind.COMMENT, "review"): "review_requested",
    (TargetKind.IDEA, "hidden"): "idea_hidden",
    (TargetKind.IDEA, "restored"): "idea_restored",
    (TargetKind.IDEA, "review"): "idea_review_requested",
    (TargetKind.COMMENT, "kept"): "comment_kept_hidden",
    (TargetKind.IDEA, "kept"): "idea_kept_hidden",
}
# kind -> what the workspace's moderators are told when a case starts waiting for them
_REPORTED = {
    TargetKind.COMMENT: "comment_reported",
    TargetKind.IDEA: "idea_reported",
    TargetKind.MEMBER: "member_reported",
}


async def _locked_case(session: AsyncSession, workspace_id: int, target: Target) -> ModerationCase:
    """The target's case, created when it has none, with its row locked until commit. The caller has
    made its unit of work."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    await session.exec(
        insert(ModerationCase.__table__)
        .values(
            workspace_id=workspace_id,
            target_kind=target.kind,
            target_id=target.id,
            author_id=target.author_id,
            state=CaseState.OPEN,
            report_count=0,
            open_reports=0,
            hidden_reason="",
            review_note="",
            decision_reason="",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["target_kind", "target_id"])
    )
    return (
        await session.exec(
            select(ModerationCase)
            .where(ModerationCase.target_kind == target.kind, ModerationCase.target_id == target.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()


def clean_reason(value: str, *, required: bool) -> str:
    errors: dict[str, str] = {}
    reason = clean_text(value, field="reason", errors=errors, max_length=REASON_MAX, required=required)
    if errors:
        raise FormError(errors)
    return reason


async def _set_hidden(session: AsyncSession, target: Target, hidden: bool) -> None:
    """Hides or shows the content. A hidden idea leaves its workspace's count of ideas (one atomic
    update, so hides racing posts keep the count right)."""
    target.obj.hidden_at = utcnow() if hidden else None
    session.add(target.obj)
    if target.kind == TargetKind.IDEA:
        step = -1 if hidden else 1
        await workspace_service.count_ideas(session, target.obj.workspace_id, step)


def _already_reported(kind: str) -> str:
    if kind == TargetKind.IDEA:
        return _("You have already reported this idea.")
    if kind == TargetKind.MEMBER:
        return _("You have already reported this member.")
    return _("You have already reported this comment.")


def _own_report(kind: str) -> str:
    if kind == TargetKind.IDEA:
        return _("You cannot report your own idea.")
    if kind == TargetKind.MEMBER:
        return _("You cannot report yourself.")
    return _("You cannot report your own comment.")


async def report(
    *,
    session: AsyncSession,
    workspace: Workspace,
    target: Target,
    reporter: User,
    reason: str,
    note: str,
) -> ModerationCase:
    """Records a member's report. Each member counts once per target; at the workspace's threshold of
    distinct reports since the last decision, a comment or an idea is hidden and its author told (a
    reported member is left to the moderators). The workspace's moderators are told when the case
    starts waiting for them, once: the reports that follow before a decision join the same case."""
    errors: dict[str, str] = {}
    if reason not in set(ReportReason):
        errors["reason"] = _("Choose a reason.")
    note = clean_text(note, field="note", errors=errors, max_length=NOTE_MAX, required=False)
    if errors:
        raise FormError(errors)
    if target.author_id == reporter.id:
        raise Refused(_own_report(target.kind), status=403)
    case = await _locked_case(session, workspace.id, target)
    try:
        async with session.begin_nested():
            session.add(Report(case_id=case.id, reporter_id=reporter.id, reason=reason, note=note))
    except IntegrityError:
        raise Refused(_already_reported(target.kind)) from None
    was_waiting = case.is_waiting
    now = utcnow()
    case.report_count += 1
    case.open_reports += 1
    case.updated_at = now
    if case.state in (CaseState.RESTORED, CaseState.DISMISSED):
        case.state = CaseState.OPEN  # new reports after a decision: a moderator looks again
    audit.record(
        session,
        action="report",
        actor=reporter,
        workspace_id=workspace.id,
        target_kind=target.kind,
        target_id=target.id,
        reason=note,
        data={"reason": reason},
    )
    if target.can_hide and case.state == CaseState.OPEN and case.open_reports >= workspace.report_threshold:
        case.state = CaseState.HIDDEN
        case.hidden_reason = ""
        case.hidden_by_id = None
        await _set_hidden(session, target, True)
        audit.record(
            session,
            action="auto_hide",
            actor=None,
            workspace_id=workspace.id,
            target_kind=target.kind,
            target_id=target.id,
            data={"reports": case.open_reports, "threshold": workspace.report_threshold},
        )
        await _tell_author(session, case, target, "hidden", actor_id=None)
    if not was_waiting:
        moderators = await workspace_service.moderator_ids(session=session, workspace_id=workspace.id)
        # No actor: the moderators' queue does not say who reported, nor does this.
        await publish(
            session,
            Notice(
                user_ids=set(moderators) - {reporter.id},
                kind=_REPORTED[target.kind],
                actor_id=None,
                workspace_id=workspace.id,
                idea_id=target.idea_id,
                comment_id=target.comment_id,
            ),
        )
    session.add(case)
    await session.flush()
    return case


async def report_comment(*, comment: Comment, **kwargs) -> ModerationCase:
    return await report(target=comment_target(comment), **kwargs)


async def _tell_author(
    session: AsyncSession, case: ModerationCase, target: Target, what: str, *, actor_id
) -> None:
    if case.author_id is not None:
        await publish(
            session,
            Notice(
                user_ids=[case.author_id],
                kind=_NOTICES[(target.kind, what)],
                actor_id=actor_id,
                workspace_id=case.workspace_id,
                idea_id=target.idea_id,
                comment_id=target.comment_id,
            ),
        )


async def hide(
    *, session: AsyncSession, workspace: Workspace, target: Target, moderator: User, reason: str
) -> ModerationCase:
    """A moderator hides a comment or an idea, reported or not, with a reason its author is shown; one
    hidden by reports, or whose author asks for a review, they keep hidden."""
    reason = clean_reason(reason, required=True)
    case = await _locked_case(session, workspace.id, target)
    if case.state in HIDDEN_STATES and not case.is_waiting:
        raise Refused(
            _("This idea is already hidden.")
            if target.kind == TargetKind.IDEA
            else _("This comment is already hidden.")
        )
    await _apply(session, case, target, Action.HIDE, moderator, reason)
    await session.flush()
    return case


async def hide_comment(*, comment: Comment, **kwargs) -> ModerationCase:
    return await hide(target=comment_target(comment), **kwargs)


async def _apply(
    session: AsyncSession, case: ModerationCase, target: Target, action: str, moderator: User, reason: str
) -> bool:
    """One decision on a locked case, which closes it (it no longer waits); False when it does not
    apply to the case's state (or a member's case, where there is nothing to hide or restore).
    Hiding what reports hid, or what its author asks to have looked at again, keeps it hidden with
    the moderator's reason."""
    now = utcnow()
    before = case.state
    hidden = case.state in HIDDEN_STATES
    if action == Action.HIDE and target.can_hide and (not hidden or case.is_waiting):
        case.state = CaseState.HIDDEN
        case.hidden_reason = reason
        case.hidden_by_id = moderator.id
        if not hidden:
            await _set_hidden(session, target, True)
        await _tell_author(session, case, target, "kept" if hidden else "hidden", actor_id=moderator.id)
    elif action == Action.RESTORE and case.state in HIDDEN_STATES and target.can_hide:
        case.state = CaseState.RESTORED
        await _set_hidden(session, target, False)
        await _tell_author(session, case, target, "restored", actor_id=moderator.id)
    elif action == Action.DISMISS and case.state == CaseState.OPEN:
        case.state = CaseState.DISMISSED
    else:
        return False
    case.open_reports = 0
    case.decision_reason = reason
    case.decided_by_id = moderator.id
    case.decided_at = now
    case.updated_at = now
    session.add(case)
    audit.record(
        session,
        action=action,
        actor=moderator,
        workspace_id=case.workspace_id,
        target_kind=case.target_kind,
        target_id=case.target_id,
        reason=reason,
        data={"before": before, "after": case.state},
    )
    return True


async def _targets_of(session: AsyncSession, cases: list[ModerationCase]) -> dict[int, Target]:
    """Each case's target, by case id: one query per kind of target, whatever the number of cases."""
    wanted: dict[str, dict[int, int]] = {}
    for case in cases:
        wanted.setdefault(case.target_kind, {})[case.target_id] = case.id
    models = {TargetKind.COMMENT: Comment, TargetKind.IDEA: Idea, TargetKind.MEMBER: Membership}
    makers = {
        TargetKind.COMMENT: comment_target,
        TargetKind.IDEA: idea_target,
        TargetKind.MEMBER: member_target,
    }
    targets: dict[int, Target] = {}
    for kind, by_target in wanted.items():
        model = models.get(kind)
        if model is None:
            continue
        rows = await session.exec(
            select(model).where(col(model.id).in_(list(by_target))).execution_options(populate_existing=True)
        )
        for obj in rows.all():
            targets[by_target[obj.id]] = makers[kind](obj)
    return targets


async def decide(
    *,
    session: AsyncSession,
    case_ids: list[int],
    workspace_ids: list[int] | None,
    action: str,
    moderator: User,
    reason: str,
) -> tuple[int, int]:
    """Applies ``action`` to the cases (only those of ``workspace_ids``, unless None: a facilitator's
    queue of every workspace). Hiding and restoring need a reason, which the author is shown.
    Returns how many cases changed and how many were skipped (already in that state, or gone)."""
    if action not in ACTIONS:
        raise FormError({"action": _("Choose what to do.")})
    reason = clean_reason(reason, required=action != Action.DISMISS)
    if not case_ids:
        raise FormError({"cases": _("Select at least one item.")})
    statement = (
        select(ModerationCase)
        .where(col(ModerationCase.id).in_(case_ids))
        .order_by(col(ModerationCase.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if workspace_ids is not None:
        statement = statement.where(col(ModerationCase.workspace_id).in_(workspace_ids))
    cases = list((await session.exec(statement)).all())
    targets = await _targets_of(session, cases)
    changed = 0
    for case in cases:
        if case.id in targets:
            changed += await _apply(session, case, targets[case.id], action, moderator, reason)
    await session.flush()
    return changed, len(case_ids) - changed


async def request_review(
    *, session: AsyncSession, case: ModerationCase, target: Target, author: User, note: str
) -> ModerationCase:
    """The author of hidden content (edited or not) asks the moderators to look again."""
    errors: dict[str, str] = {}
    note = clean_text(note, field="note", errors=errors, max_length=NOTE_MAX, required=False)
    if errors:
        raise FormError(errors)
    if case.author_id != author.id:
        raise Refused(_("Only the author can ask for a review."), status=403)
    case = await _locked_case(session, case.workspace_id, target)
    if case.state != CaseState.HIDDEN:
        raise Refused(_("A review can be asked only for hidden content that is not already waiting for one."))
    case.state = CaseState.REVIEW
    case.review_note = note
    case.updated_at = utcnow()
    session.add(case)
    moderators = await workspace_service.moderator_ids(session=session, workspace_id=case.workspace_id)
    await publish(
        session,
        Notice(
            user_ids=moderators,
            kind=_NOTICES[(target.kind, "review")],
            actor_id=author.id,
            workspace_id=case.workspace_id,
            idea_id=target.idea_id,
            comment_id=target.comment_id,
        ),
    )
    audit.record(
        session,
        action="review_request",
        actor=author,
        workspace_id=case.workspace_id,
        target_kind=case.target_kind,
        target_id=case.target_id,
        reason=note,
    )
    await session.flush()
    return case


# Locking an idea ------------------------------------------------------------------------------------


async def set_locked(
    *, session: AsyncSession, workspace: Workspace, idea: Idea, moderator: User, reason: str, locked: bool
) -> None:
    """Locks an idea against new comments (with a reason everyone reads), or opens it again. The idea's
    row is locked first, so two moderators acting at once leave one state and one audit entry."""
    reason = clean_reason(reason, required=locked)
    current = (
        await session.exec(
            select(Idea)
            .where(col(Idea.id) == idea.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    if current.is_locked == locked:
        raise Refused(_("This idea is already locked.") if locked else _("This idea is not locked."))
    before = {"locked": current.is_locked, "reason": current.lock_reason}
    current.locked_at = utcnow() if locked else None
    current.locked_by_id = moderator.id if locked else None
    current.lock_reason = reason if locked else ""
    session.add(current)
    audit.record(
        session,
        action="lock" if locked else "unlock",
        actor=moderator,
        workspace_id=workspace.id,
        target_kind=TargetKind.IDEA,
        target_id=idea.id,
        reason=reason,
        data={"before": before, "after": {"locked": locked, "reason": current.lock_reason}},
    )
    await session.flush()


# Reading cases --------------------------------------------------------------------------------------


@functools.cache
def _cases_statement(*, many: bool):
    """The cases of one target (``target_id``) or of several (``target_ids``) of a kind, each with
    whether the reader (``viewer_id``, None for nobody) reported it; built once, all of it bound."""
    reported = (
        select(Report.id)
        .where(col(Report.case_id) == ModerationCase.id, col(Report.reporter_id) == bindparam("viewer_id"))
        .exists()
    )
    target = (
        col(ModerationCase.target_id).in_(bindparam("target_ids", expanding=True))
        if many
        else col(ModerationCase.target_id) == bindparam("target_id")
    )
    kind = col(ModerationCase.target_kind) == bindparam("kind")
    return select(ModerationCase, reported).where(kind, target)


async def case_of(
    *, session: AsyncSession, target: Target, viewer: User | None
) -> tuple[ModerationCase | None, bool]:
    """The target's case (None when it has none) and whether the viewer reported it: one query."""
    params = {"kind": target.kind, "target_id": target.id, "viewer_id": viewer.id if viewer else None}
    row = (await session.exec(_cases_statement(many=False), params=params)).first()
    return (row[0], bool(row[1])) if row else (None, False)


async def annotate(*, session: AsyncSession, nodes: list, viewer: User | None) -> None:
    """Gives each comment node (and its replies) its case and whether the viewer reported it: one
    query, whatever the number of comments."""
    by_id = {node.comment.id: node for root in nodes for node in root.walk()}
    if not by_id:
        return
    viewer_id = viewer.id if viewer else None
    params = {"kind": TargetKind.COMMENT, "target_ids": list(by_id), "viewer_id": viewer_id}
    for case, reported in (await session.exec(_cases_statement(many=True), params=params)).all():
        node = by_id[case.target_id]
        node.case = case
        node.reported = bool(reported)


# The queue ------------------------------------------------------------------------------------------

# The queue's views: waiting for a decision (the default), by state, decided, or everything.
QUEUE_STATES = {
    "pending": WAITING,
    "open": col(ModerationCase.state) == CaseState.OPEN,
    "hidden": col(ModerationCase.state) == CaseState.HIDDEN,
    "review": col(ModerationCase.state) == CaseState.REVIEW,
    "closed": not_(WAITING),
    "all": true(),
}


@dataclass
class QueueFilter:
    state: str = "pending"
    reason: str = ""
    q: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params) -> "QueueFilter":
        state = params.get("state", "pending")
        reason = params.get("reason", "")
        page = whole_number(params.get("page", "1")) or 1
        return cls(
            state=state if state in QUEUE_STATES else "pending",
            reason=reason if reason in set(ReportReason) else "",
            q=params.get("q", "").strip()[:100],
            page=max(1, min(page, 10_000)),
        )


@dataclass
class QueueRow:
    case: ModerationCase
    workspace: Workspace
    author: User | None  # who wrote the content, or the reported member
    reasons: dict[str, int]
    comment: Comment | None = None
    idea: Idea | None = None  # the idea itself, or the one the comment is on
    notes: list[str] = field(default_factory=list)  # what reporters wrote, newest first
    decided_by: User | None = None  # the moderator of the last decision


async def queue(
    *, session: AsyncSession, workspace_ids: list[int] | None, filters: QueueFilter, per_page: int = PAGE_SIZE
) -> tuple[list[QueueRow], bool]:
    """A page of cases (comments, ideas and members), the ones that waited longest for a decision
    first (the latest decisions first among decided ones); with each, the reasons given and how
    often, and who decided last. Three queries, whatever the page holds. Returns the rows and
    whether there is a next page."""
    is_comment = ModerationCase.target_kind == TargetKind.COMMENT
    idea_id = sql_case(
        (ModerationCase.target_kind == TargetKind.IDEA, ModerationCase.target_id), else_=Comment.idea_id
    )
    decider = aliased(User)
    statement = (
        select(ModerationCase, Comment, Idea, Workspace, User, decider)
        .outerjoin(Comment, (col(Comment.id) == ModerationCase.target_id) & is_comment)
        .outerjoin(Idea, col(Idea.id) == idea_id)
        .join(Workspace, col(Workspace.id) == ModerationCase.workspace_id)
        .outerjoin(User, col(User.id) == ModerationCase.author_id)
        .outerjoin(decider, col(decider.id) == ModerationCase.decided_by_id)
        .where(QUEUE_STATES[filters.state])
    )
    if workspace_ids is not None:
        statement = statement.where(col(ModerationCase.workspace_id).in_(workspace_ids))
    if filters.reason:
        statement = statement.where(
            select(Report.id)
            .where(Report.case_id == ModerationCase.id, Report.reason == filters.reason)
            .exists()
        )
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                col(Comment.body).ilike(pattern, escape="\\"),
                col(Idea.title).ilike(pattern, escape="\\"),
                col(Idea.body).ilike(pattern, escape="\\") & (ModerationCase.target_kind == TargetKind.IDEA),
                col(User.display_name).ilike(pattern, escape="\\"),
            )
        )
    order = (col(ModerationCase.updated_at), col(ModerationCase.id))
    if filters.state == "closed":
        order = tuple(column.desc() for column in order)
    rows = list(
        (
            await session.exec(
                statement.order_by(*order).offset((filters.page - 1) * per_page).limit(per_page + 1)
            )
        ).all()
    )
    more = len(rows) > per_page
    rows = rows[:per_page]
    reasons: dict[int, dict[str, int]] = {row[0].id: {} for row in rows}
    notes: dict[int, list[str]] = {}
    if reasons:
        counted = await session.exec(
            select(Report.case_id, Report.reason, func.count())
            .where(col(Report.case_id).in_(list(reasons)))
            .group_by(Report.case_id, Report.reason)
        )
        for case_id, reason, count in counted.all():
            reasons[case_id][reason] = count
        written = await session.exec(
            select(Report.case_id, Report.note)
            .where(col(Report.case_id).in_(list(reasons)), Report.note != "")
            .order_by(col(Report.id).desc())
        )
        for case_id, note in written.all():
            if len(notes.setdefault(case_id, [])) < NOTES_SHOWN:
                notes[case_id].append(note)
    return [
        QueueRow(
            case=case,
            workspace=workspace,
            author=author,
            reasons=reasons[case.id],
            comment=comment,
            idea=idea,
            notes=notes.get(case.id, []),
            decided_by=decided_by,
        )
        for case, comment, idea, workspace, author, decided_by in rows
    ], more


def waiting_in(workspace_id):
    """How many cases wait for a decision in one workspace, as a statement (``workspace_id`` may be
    bound)."""
    return (
        select(func.count())
        .select_from(ModerationCase)
        .where(WAITING, col(ModerationCase.workspace_id) == workspace_id)
    )


async def pending_count(*, session: AsyncSession, workspace_ids: list[int] | None) -> int:
    statement = select(func.count()).select_from(ModerationCase).where(WAITING)
    if workspace_ids is not None:
        statement = statement.where(col(ModerationCase.workspace_id).in_(workspace_ids))
    return (await session.exec(statement)).one()


async def waiting_by_workspace(
    *, session: AsyncSession, workspace_ids: list[int] | None, limit: int = 50
) -> list[tuple[Workspace, int]]:
    """The workspaces with cases waiting, and how many, the most first: the inbox's summary."""
    waiting = func.count(col(ModerationCase.id)).label("waiting")
    statement = (
        select(Workspace, waiting)
        .join(ModerationCase, col(ModerationCase.workspace_id) == Workspace.id)
        .where(WAITING)
        .group_by(col(Workspace.id))
        .order_by(waiting.desc(), col(Workspace.id))
        .limit(limit)
    )
    if workspace_ids is not None:
        statement = statement.where(col(ModerationCase.workspace_id).in_(workspace_ids))
    return [(workspace, count) for workspace, count in (await session.exec(statement)).all()]


def _moderated_by(user_id, now=None):
    """The ids of the workspaces the user moderates as a city official (``can_moderate`` for one who
    is not staff), as a subquery. ``user_id`` and ``now`` may be bound parameters."""
    return select(Membership.workspace_id).where(
        Membership.user_id == user_id,
        Membership.role == MemberRole.MODERATOR,
        or_(
            Membership.status == MemberStatus.ACTIVE,
            and_(
                Membership.status == MemberStatus.BANNED,
                col(Membership.banned_until) <= (utcnow() if now is None else now),
            ),
        ),
    )


async def inbox_scope(*, session: AsyncSession, user: User) -> list[int] | None:
    """Whose queues the user's inbox holds: None for every workspace (facilitators and admins), else
    the ids of the workspaces they moderate (none for someone who moderates nothing)."""
    if workspace_permissions.is_staff(user):
        return None
    return list((await session.exec(_moderated_by(user.id))).all())


def waiting_for(*, staff: bool, reader_id, now=None):
    """For the header, as parts of one statement: how many cases wait in the workspaces the reader
    moderates (every workspace for ``staff``), and whether they moderate any. ``reader_id`` and
    ``now`` may be bound parameters."""
    count = select(func.count()).select_from(ModerationCase).where(WAITING)
    if staff:
        return count.scalar_subquery(), true()
    moderated = _moderated_by(reader_id, now)
    return (
        count.where(col(ModerationCase.workspace_id).in_(moderated)).scalar_subquery(),
        moderated.exists(),
    )


async def set_threshold(*, session: AsyncSession, workspace: Workspace, value: str, moderator: User) -> None:
    number = whole_number(value)
    if number is None or not THRESHOLD_MIN <= number <= THRESHOLD_MAX:
        raise FormError(
            {
                "threshold": _(
                    "Use a whole number from %(min)s to %(max)s.", min=THRESHOLD_MIN, max=THRESHOLD_MAX
                )
            }
        )
    before = workspace.report_threshold
    workspace.report_threshold = number
    session.add(workspace)
    audit.record(
        session,
        action="threshold",
        actor=moderator,
        workspace_id=workspace.id,
        target_kind="workspace",
        target_id=workspace.id,
        data={"from": before, "to": number},
    )
    await session.flush()

"""Privacy: everything the platform holds about a person, as a zip they download, and the deletion of
their account.

Deleting an account deletes its ``user`` row, in one transaction with everything that has to change
with it. Every column pointing at a user is listed in ``USER_REFERENCES`` with what becomes of it (a
test holds the list to the schema, so a new table cannot be forgotten). Counters kept on other rows
(supports, comments, members, places, reports) are changed by relative updates in the same
transaction, so they stay right when others act at the same moment."""

import io
import json
import logging
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, case, text
from sqlmodel import col, delete, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import AuthSession, Role, User
from app.attachments import service as attachment_service
from app.attachments.models import Attachment
from app.attachments.storage import Storage
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession, Registration
from app.comments.models import Comment
from app.core import live, ratelimit
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.forms import FormError
from app.core.i18n import _
from app.ideas import service as idea_service
from app.ideas.models import Idea, Support
from app.moderation.models import CaseState, ModerationCase, Report, TargetKind
from app.network.models import Organisation
from app.notifications.models import Follow, Notification
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting.models import BallotOption, BallotState
from app.workspaces import service as workspace_service
from app.workspaces.models import Membership, MemberStatus, Workspace

logger = logging.getLogger("cocreate")

EXPORT_VERSION = 1
# Downloads are heavy (every row and file of the account): a few an hour are plenty.
EXPORT_BUCKET = "data-export"
EXPORT_LIMIT = 10
EXPORT_WINDOW = timedelta(hours=1)
# How long the audit log keeps an entry (see ``prune``).
AUDIT_RETENTION_YEARS = 5

# What deleting an account does to each column that points at a user ("table.column").
USER_REFERENCES = {
    "auth_session.user_id": "deleted: logged out on every device",
    "membership.user_id": "deleted; the workspace's member count loses it, a pending request is withdrawn",
    "membership.decided_by_id": "emptied: the decision stays",
    "support.user_id": "deleted; each idea's support count loses it",
    "follow.user_id": "deleted",
    "notification.user_id": "deleted",
    "notification.actor_id": "emptied: others' notifications say 'Someone'",
    "registration.user_id": "deleted; a place held in a session still open goes to the first person waiting",
    "report.reporter_id": "deleted; the case counts one report fewer, and a case left with none is closed",
    "vote.voter_id": "emptied, and the paper's keyed hash replaced by a random key (see forget_voter)",
    "idea.author_id": "emptied ('a former participant'), or the idea deleted with its files",
    "comment.author_id": "emptied ('a former participant'), or the comment removed",
    "attachment.uploader_id": "emptied: a file stays with its idea, and goes when the idea goes",
    "moderation_case.author_id": "emptied: the case about kept content stays",
    "moderation_case.hidden_by_id": "emptied: the audit log keeps who acted",
    "moderation_case.decided_by_id": "emptied: the audit log keeps who acted",
    "idea.locked_by_id": "emptied",
    "idea_status_change.changed_by_id": "emptied: the public history of the idea stays",
    "activity.actor_id": "emptied: the workspace's feed stays",
    "activity.subject_id": "emptied",
    "workspace.created_by_id": "emptied",
    "topic.created_by_id": "emptied",
    "topic_seed.created_by_id": "emptied",
    "cocreation_session.created_by_id": "emptied",
    "ballot.created_by_id": "emptied",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# Export -----------------------------------------------------------------------------------------------


@dataclass
class ExportFile:
    member: str
    path: Path


@dataclass
class Export:
    """``data.json``'s content, and the stored files that go into the zip with it."""

    data: dict
    files: list[ExportFile] = field(default_factory=list)


def attachment_member(idea_id: int, filename: str, taken: set[str]) -> str:
    """``attachments/<idea id>/<name>``: the name as the uploader gave it, reduced to one harmless
    part (no folders, no ``..``, no control characters such as NUL), made unique within the folder."""
    name = attachment_service.tidy_filename(filename)[: attachment_service.FILENAME_MAX] or "file"
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    candidate, number = name, 2
    while f"attachments/{idea_id}/{candidate}" in taken:
        candidate, number = f"{stem} ({number}){dot}{extension}", number + 1
    member = f"attachments/{idea_id}/{candidate}"
    taken.add(member)
    return member


def _workspace(workspace: Workspace | None) -> dict | None:
    if workspace is None:
        return None
    return {
        "id": workspace.id,
        "slug": workspace.slug,
        "title_en": workspace.title_en,
        "title_zh": workspace.title_zh,
    }


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


async def collect(*, session: AsyncSession, storage: Storage, secret_key: str, user: User) -> Export:
    """Everything kept about ``user`` and by them, read in a fixed number of queries however much
    there is (the anonymous ballots are looked up a few hundred at a time)."""
    user = await session.get(User, user.id, populate_existing=True)
    organisation = await session.get(Organisation, user.organisation_id) if user.organisation_id else None
    data: dict = {
        "format": {
            "name": "cocreate personal data",
            "version": EXPORT_VERSION,
            "exported_at": _iso(utcnow()),
        },
        "about": {
            "contents": _(
                "Your account, your memberships, ideas, comments, supports, follows, registrations, ballot "
                "papers, notifications, reports and login sessions, the audit log's entries about what you "
                "did or what was done about you, and the files you uploaded (in the attachments folder)."
            ),
            "anonymous_ballots": _(
                "Anonymous ballots store no account with a paper, only a keyed hash of the ballot and the "
                "voter. Your papers there are included because the server, which holds the key, worked your "
                "hash out again for this export; the ballot's own exports never name you."
            ),
            "not_included": _(
                "Your password (only a one-way hash of it is kept), what other people wrote (replies to "
                "you, the names of moderators who acted about you), and short-lived counters against abuse."
            ),
        },
        "profile": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "language": user.locale,
            "time_zone": user.time_zone,
            "role": user.role,
            "organisation": organisation.name if organisation else None,
            "active": user.is_active,
            "disabled_at": _iso(user.disabled_at),
            "disabled_reason": user.disabled_reason or None,
            "created_at": _iso(user.created_at),
            "updated_at": _iso(user.updated_at),
            "last_login_at": _iso(user.last_login_at),
        },
    }

    memberships = await session.exec(
        select(Membership, Workspace)
        .join(Workspace, col(Workspace.id) == Membership.workspace_id)
        .where(Membership.user_id == user.id)
        .order_by(col(Membership.id))
    )
    data["memberships"] = [
        {
            "workspace": _workspace(workspace),
            "role": membership.role,
            "status": membership.status,
            "message": membership.message or None,
            "asked_at": _iso(membership.created_at),
            "decided_at": _iso(membership.decided_at),
            "banned_until": _iso(membership.banned_until)
            if membership.status == MemberStatus.BANNED
            else None,
            "ban_reason": membership.ban_reason or None,
            "warning": membership.warning or None,
            "warned_at": _iso(membership.warned_at),
        }
        for membership, workspace in memberships.all()
    ]

    ideas = list(
        (
            await session.exec(
                select(Idea, Workspace)
                .join(Workspace, col(Workspace.id) == Idea.workspace_id)
                .where(Idea.author_id == user.id)
                .order_by(col(Idea.id))
            )
        ).all()
    )
    tags = await idea_service.tags_of(session=session, idea_ids=[idea.id for idea, _workspace_row in ideas])
    data["ideas"] = [
        {
            "id": idea.id,
            "workspace": _workspace(workspace),
            "title": idea.title,
            "body": idea.body,
            "tags": tags[idea.id],
            "place_name": idea.place_name or None,
            "latitude": idea.latitude,
            "longitude": idea.longitude,
            "status": idea.status,
            "supports": idea.support_count,
            "comments": idea.comment_count,
            "hidden": idea.is_hidden,
            "locked": idea.is_locked,
            "created_at": _iso(idea.created_at),
            "updated_at": _iso(idea.updated_at),
        }
        for idea, workspace in ideas
    ]

    comments = await session.exec(
        select(Comment, Idea.title, Idea.workspace_id)
        .join(Idea, col(Idea.id) == Comment.idea_id)
        .where(Comment.author_id == user.id)
        .order_by(col(Comment.id))
    )
    data["comments"] = [
        {
            "id": comment.id,
            "idea": {"id": comment.idea_id, "title": title, "workspace_id": workspace_id},
            "reply_to": comment.parent_id,
            "body": comment.body,
            "hidden": comment.hidden_at is not None,
            "created_at": _iso(comment.created_at),
            "edited_at": _iso(comment.edited_at),
        }
        for comment, title, workspace_id in comments.all()
    ]

    supports = await session.exec(
        select(Support, Idea.title, Idea.workspace_id)
        .join(Idea, col(Idea.id) == Support.idea_id)
        .where(Support.user_id == user.id)
        .order_by(col(Support.id))
    )
    data["supports"] = [
        {
            "idea": {"id": support.idea_id, "title": title, "workspace_id": workspace_id},
            "at": _iso(support.created_at),
        }
        for support, title, workspace_id in supports.all()
    ]

    follows = await session.exec(
        select(Follow, Workspace.slug, Idea.title)
        .outerjoin(Workspace, col(Workspace.id) == Follow.workspace_id)
        .outerjoin(Idea, col(Idea.id) == Follow.idea_id)
        .where(Follow.user_id == user.id)
        .order_by(col(Follow.id))
    )
    data["follows"] = [
        {
            "workspace": {"id": follow.workspace_id, "slug": slug} if follow.workspace_id else None,
            "idea": {"id": follow.idea_id, "title": title} if follow.idea_id else None,
            "since": _iso(follow.created_at),
        }
        for follow, slug, title in follows.all()
    ]

    registrations = await session.exec(
        select(Registration, CocreationSession)
        .join(CocreationSession, col(CocreationSession.id) == Registration.session_id)
        .where(Registration.user_id == user.id)
        .order_by(col(Registration.id))
    )
    data["session_registrations"] = [
        {
            "session": {
                "id": cs.id,
                "title": cs.title,
                "workspace_id": cs.workspace_id,
                "starts_at": _iso(cs.starts_at),
                "ends_at": _iso(cs.ends_at),
            },
            "status": registration.status,
            "attended": registration.attended,
            "asked_at": _iso(registration.queued_at),
            "updated_at": _iso(registration.updated_at),
        }
        for registration, cs in registrations.all()
    ]

    papers = await voting_storage.papers_of_voter(session=session, secret_key=secret_key, user_id=user.id)
    labels: dict[int, str] = {}
    if papers:
        options = await session.exec(
            select(BallotOption.id, BallotOption.label).where(
                col(BallotOption.ballot_id).in_({ballot.id for _vote, ballot in papers})
            )
        )
        labels = dict(options.all())
    now = utcnow()
    data["ballot_papers"] = [
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
            "cast_at": _iso(vote.cast_at),
            "changed_at": _iso(vote.updated_at),
        }
        for vote, ballot in papers
    ]

    notifications = await session.exec(
        select(Notification).where(Notification.user_id == user.id).order_by(col(Notification.id))
    )
    data["notifications"] = [
        {
            "kind": notification.kind,
            "workspace_id": notification.workspace_id,
            "idea_id": notification.idea_id,
            "comment_id": notification.comment_id,
            "session_id": notification.session_id,
            "created_at": _iso(notification.created_at),
            "read_at": _iso(notification.read_at),
        }
        for notification in notifications.all()
    ]

    reports = await session.exec(
        select(Report, ModerationCase)
        .join(ModerationCase, col(ModerationCase.id) == Report.case_id)
        .where(Report.reporter_id == user.id)
        .order_by(col(Report.id))
    )
    data["reports"] = [
        {
            "target": {"kind": case.target_kind, "id": case.target_id, "workspace_id": case.workspace_id},
            "reason": report.reason,
            "note": report.note or None,
            "at": _iso(report.created_at),
        }
        for report, case in reports.all()
    ]

    logins = await session.exec(
        select(AuthSession).where(AuthSession.user_id == user.id).order_by(col(AuthSession.id))
    )
    data["login_sessions"] = [
        {
            "started_at": _iso(login.created_at),
            "last_seen_at": _iso(login.last_seen_at),
            "expires_at": _iso(login.expires_at),
            "ended_at": _iso(login.revoked_at),
            "ip_address": login.ip_address,
            "user_agent": login.user_agent,
        }
        for login in logins.all()
    ]

    # Ids are never reused, and nothing before the account was made can be about it.
    events = await session.exec(
        select(AuditEvent)
        .where(
            col(AuditEvent.created_at) >= user.created_at,
            or_(
                col(AuditEvent.actor_id) == user.id,
                and_(col(AuditEvent.target_kind) == "user", col(AuditEvent.target_id) == user.id),
            ),
        )
        .order_by(col(AuditEvent.id))
    )
    data["audit_log"] = []
    for event in events.all():
        entry = {
            "at": _iso(event.created_at),
            "action": event.action,
            "by_you": event.actor_id == user.id,
            "workspace_id": event.workspace_id,
            "target": {"kind": event.target_kind, "id": event.target_id} if event.target_kind else None,
            "reason": event.reason or None,
            "data": event.data,
        }
        data["audit_log"].append(entry)

    export = Export(data=data)
    attachments = await session.exec(
        select(Attachment)
        .where(Attachment.uploader_id == user.id)
        .order_by(col(Attachment.idea_id), col(Attachment.id))
    )
    data["attachments"] = []
    taken: set[str] = set()
    for attachment in attachments.all():
        path = storage.path(attachment.storage_key)
        member = attachment_member(attachment.idea_id, attachment.filename, taken) if path.is_file() else None
        if member is not None:
            export.files.append(ExportFile(member=member, path=path))
        data["attachments"].append(
            {
                "idea_id": attachment.idea_id,
                "name": attachment.filename,
                "type": attachment.content_type,
                "bytes": attachment.size_bytes,
                "description": attachment.description,
                "uploaded_at": _iso(attachment.created_at),
                "file": member,
            }
        )
    return export


async def count_export(*, session: AsyncSession, user: User) -> None:
    """Raises RateLimited past EXPORT_LIMIT downloads in EXPORT_WINDOW; else counts this one."""
    await ratelimit.count(
        session=session,
        counters=[ratelimit.Counter(EXPORT_BUCKET, f"user:{user.id}", EXPORT_LIMIT)],
        window=EXPORT_WINDOW,
    )


class _Chunks(io.RawIOBase):
    """Where the zip is written: taken away a piece at a time, never held whole."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, piece) -> int:
        self.pieces.append(bytes(piece))
        return len(piece)

    def take(self) -> bytes:
        data = b"".join(self.pieces)
        self.pieces.clear()
        return data


READ_SIZE = 256 * 1024


def zip_stream(export: Export) -> Iterator[bytes]:
    """The zip, as it is made: ``data.json`` first, then each file read from storage in pieces. A
    file gone from storage since the export was read is left out."""
    out = _Chunks()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(export.data, ensure_ascii=False, indent=2))
        yield out.take()
        for file in export.files:
            try:
                source = file.path.open("rb")
            except OSError:
                logger.warning("export: file %s is gone", file.path.name)
                continue
            # Pictures and PDFs are compressed already.
            info = zipfile.ZipInfo(file.member, date_time=utcnow().timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with source, archive.open(info, "w") as target:
                while piece := source.read(READ_SIZE):
                    target.write(piece)
                    yield out.take()
    yield out.take()


# Deletion ---------------------------------------------------------------------------------------------


@dataclass
class Deletion:
    """What deleting the account did, for the confirmation and the audit log."""

    ideas_removed: int = 0
    comments_removed: int = 0
    comments_emptied: int = 0
    papers_removed: int = 0
    places_given: int = 0
    files: list[str] = field(default_factory=list)


async def check_password(*, session: AsyncSession, user: User, password: str) -> None:
    """Raises FormError for a wrong password, and RateLimited after too many of them (wrong passwords
    on the deletion form are limited like failed logins: a stolen session cannot guess on)."""
    if not await account_service.recheck_password(session=session, user=user, password=password):
        raise FormError({"password": _("This is not your password.")})


async def _refuse_last_admin(session: AsyncSession, user: User) -> None:
    if user.role != Role.ADMIN:
        return
    # The other admins' rows stay locked until the commit (PostgreSQL), so two admins deleting
    # their accounts at once cannot both see the other one still there.
    others = await session.exec(
        select(User.id)
        .where(User.role == Role.ADMIN, col(User.is_active), User.id != user.id)
        .with_for_update()
    )
    if not others.all():
        raise Refused(
            _(
                "You are the only administrator. Make someone else an administrator before you delete "
                "your account, so that the platform is not left without one."
            )
        )


async def _forget_supports(session: AsyncSession, user_id: int) -> None:
    mine = select(Support.idea_id).where(Support.user_id == user_id)
    await idea_service.count_supports(session, mine, -1)
    await session.exec(delete(Support).where(col(Support.user_id) == user_id))


async def _forget_memberships(session: AsyncSession, user_id: int) -> None:
    """Active and banned members are counted (a ban keeps the place); a request to join is withdrawn
    from the moderators' notifications."""
    counted = select(Membership.workspace_id).where(
        Membership.user_id == user_id,
        col(Membership.status).in_((MemberStatus.ACTIVE, MemberStatus.BANNED)),
    )
    await workspace_service.count_members(session, counted, -1)
    await session.exec(
        delete(Notification).where(
            col(Notification.kind) == "membership_requested", col(Notification.actor_id) == user_id
        )
    )
    await session.exec(delete(Membership).where(col(Membership.user_id) == user_id))


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


async def _drop_cases(session: AsyncSession, kind: str, target_ids) -> None:
    await session.exec(
        delete(ModerationCase).where(
            col(ModerationCase.target_kind) == kind, col(ModerationCase.target_id).in_(target_ids)
        )
    )


async def _remove_ideas(session: AsyncSession, user_id: int) -> tuple[int, list[str]]:
    """Deletes the person's ideas with their comments, supports, tags and files (whose storage keys
    are returned, to be removed once the transaction commits). Each workspace counts its shown ideas
    (a hidden idea is out of every count), so only those are taken off."""
    ideas = list(
        (
            await session.exec(
                select(Idea.id, Idea.workspace_id, Idea.hidden_at).where(Idea.author_id == user_id)
            )
        ).all()
    )
    if not ideas:
        return 0, []
    idea_ids = [idea_id for idea_id, _workspace_id, _hidden in ideas]
    keys = list(
        (
            await session.exec(select(Attachment.storage_key).where(col(Attachment.idea_id).in_(idea_ids)))
        ).all()
    )
    shown = Counter(workspace_id for _idea_id, workspace_id, hidden_at in ideas if hidden_at is None)
    for workspace_id, number in sorted(shown.items()):
        await workspace_service.count_ideas(session, workspace_id, -number)
    await _drop_cases(session, TargetKind.IDEA, idea_ids)
    await _drop_cases(
        session, TargetKind.COMMENT, select(Comment.id).where(col(Comment.idea_id).in_(idea_ids))
    )
    await session.exec(delete(Idea).where(col(Idea.id).in_(idea_ids)))
    return len(idea_ids), keys


async def _remove_comments(session: AsyncSession, user_id: int) -> tuple[int, int]:
    """Deletes the person's comments, except one that others replied to (below it, at any depth):
    that one keeps its place in the thread as a removed comment, without its words, so nobody's
    reply is lost. Each idea counts its comments one fewer for every comment of theirs, deleted or
    emptied. Returns how many were deleted and how many emptied."""
    mine = list(
        (await session.exec(select(Comment.id, Comment.thread_id).where(Comment.author_id == user_id))).all()
    )
    if not mine:
        return 0, 0
    thread_ids = sorted({thread_id for _id, thread_id in mine})
    rows = await session.exec(
        select(Comment.id, Comment.parent_id, Comment.author_id, Comment.body == "").where(
            col(Comment.thread_id).in_(thread_ids)
        )
    )
    children: dict[int, list[int]] = {}
    others: set[int] = set()  # comments with someone else's words in them
    for comment_id, parent_id, author_id, removed in rows.all():
        children.setdefault(parent_id, []).append(comment_id)
        if author_id != user_id and not removed:
            others.add(comment_id)

    def holds_others(comment_id: int) -> bool:
        return comment_id in others or any(holds_others(child) for child in children.get(comment_id, ()))

    my_ids = {comment_id for comment_id, _thread_id in mine}
    emptied = sorted(comment_id for comment_id in my_ids if holds_others(comment_id))
    deleted = sorted(my_ids - set(emptied))
    per_idea = (
        select(Comment.idea_id, func.count()).where(Comment.author_id == user_id).group_by(Comment.idea_id)
    )
    for idea_id, number in sorted((await session.exec(per_idea)).all()):
        await idea_service.count_comments(session, idea_id, -number)
    await _drop_cases(session, TargetKind.COMMENT, sorted(my_ids))
    if emptied:
        await session.exec(
            update(Comment)
            .where(col(Comment.id).in_(emptied))
            .values(body="", body_html="", author_id=None, hidden_at=None, edited_at=None)
        )
    # Replies below a deleted comment are the person's own or removed ones: they go with it.
    await session.exec(delete(Comment).where(col(Comment.id).in_(deleted)))
    return len(deleted), len(emptied)


async def delete_account(
    *,
    session: AsyncSession,
    user: User,
    password: str,
    remove_contributions: bool,
    secret_key: str,
) -> Deletion:
    """Deletes the account once its password is given again; with ``remove_contributions`` its ideas
    (with their files and discussions), comments and papers on ballots still open go too. Raises
    FormError (wrong password), RateLimited, or Refused (the last admin). All in one transaction,
    with an entry in the audit log that names nobody; the returned ``files`` are the storage keys
    to remove once it has committed (``app.attachments.service.remove_files``)."""
    # The guess is counted first, apart from this transaction (``ratelimit.count``).
    await check_password(session=session, user=user, password=password)
    user = await session.get(User, user.id, populate_existing=True)
    if user is None:  # deleted by a request sent just before this one
        return Deletion()
    await _refuse_last_admin(session, user)
    done = Deletion()
    promoted = await session_service.give_up_places(session=session, user_id=user.id)
    done.places_given = len(promoted)
    await _forget_supports(session, user.id)
    # Reports of the person as a member are about their memberships, which go next.
    await _drop_cases(session, TargetKind.MEMBER, select(Membership.id).where(Membership.user_id == user.id))
    await _forget_memberships(session, user.id)
    await _forget_reports(session, user.id)
    if remove_contributions:
        done.ideas_removed, done.files = await _remove_ideas(session, user.id)
        done.comments_removed, done.comments_emptied = await _remove_comments(session, user.id)
    await session.exec(
        delete(ratelimit.RateLimitHit).where(
            or_(
                col(ratelimit.RateLimitHit.key) == f"user:{user.id}",
                and_(
                    col(ratelimit.RateLimitHit.bucket) == account_service.LOGIN_ACCOUNT_BUCKET,
                    col(ratelimit.RateLimitHit.key) == user.email,
                ),
            )
        )
    )
    papers = await voting_storage.papers_of_voter(session=session, secret_key=secret_key, user_id=user.id)
    done.papers_removed = await voting_service.forget_voter(
        session=session, papers=papers, remove_open=remove_contributions
    )
    audit.record(
        session,
        action="account_deleted",
        actor=None,
        target_kind="user",
        target_id=user.id,
        data={
            "contributions_removed": remove_contributions,
            "ideas_removed": done.ideas_removed,
            "comments_removed": done.comments_removed + done.comments_emptied,
            "ballot_papers_removed": done.papers_removed,
            "places_given": done.places_given,
        },
    )
    await session.exec(delete(User).where(col(User.id) == user.id))
    await session.flush()
    return done


# Retention -------------------------------------------------------------------------------------------

# The append-only guards the audit log's migration made (0009), lifted only inside ``prune``'s
# transaction to delete what is past AUDIT_RETENTION_YEARS, and put back before it commits.
SQLITE_AUDIT_NO_DELETE = (
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
)


async def _delete_old_audit(session: AsyncSession, before: datetime) -> None:
    old = delete(AuditEvent).where(col(AuditEvent.created_at) < before)
    if session.bind.dialect.name == "sqlite":
        await session.exec(text("DROP TRIGGER audit_event_no_delete"))
        await session.exec(old)
        await session.exec(text(SQLITE_AUDIT_NO_DELETE))
    else:
        await session.exec(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        await session.exec(old)
        await session.exec(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


async def prune(*, session: AsyncSession, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """The daily clean-up (``cocreate prune``): deletes what is past the times the privacy page gives.
    Ended login sessions a day after they ended, counters against abuse past their window, live room
    events past theirs, and audit entries older than AUDIT_RETENTION_YEARS. Returns how many of each."""
    now = now or utcnow()
    ended = now - account_service.ENDED_SESSION_RETENTION
    idle = timedelta(minutes=settings.session_idle_minutes)
    logins = await session.exec(
        delete(AuthSession).where(
            or_(
                col(AuthSession.expires_at) < ended,
                col(AuthSession.revoked_at) < ended,
                col(AuthSession.last_seen_at) < ended - idle,
            )
        )
    )
    counters = await session.exec(
        delete(ratelimit.RateLimitHit).where(
            col(ratelimit.RateLimitHit.created_at) < now - ratelimit.RETENTION
        )
    )
    await live.delete_expired(session)
    before = now - timedelta(days=round(365.25 * AUDIT_RETENTION_YEARS))
    old = (
        await session.exec(
            select(func.count()).select_from(AuditEvent).where(col(AuditEvent.created_at) < before)
        )
    ).one()
    if old:
        await _delete_old_audit(session, before)
    await session.flush()
    return {"login_sessions": logins.rowcount, "counters": counters.rowcount, "audit_entries": old}

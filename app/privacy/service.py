"""Privacy: everything the platform holds about a person, as a zip they download, and the deletion of
their account.

Each domain holds its part of a person's data and registers it (``app.core.personal_data``): its
sections of the export, how it forgets the person, and what becomes of each of its columns pointing
at a user. Privacy asks every part in turn and reads or writes none of their tables itself. Deleting
an account deletes its ``user`` row, in one transaction with everything that has to change with it:
the parts change their counters (supports, comments, members, places, reports) by relative updates,
so they stay right when others act at the same moment. Every column pointing at a user is decided by
one part (``user_references``; a test holds them to the schema, so a new table cannot be forgotten)."""

import io
import json
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import col, delete, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import AuthSession, Role, User
from app.attachments.personal_data import attachment_member
from app.attachments.storage import Storage
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.core import live, personal_data, ratelimit
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.forms import FormError
from app.core.i18n import _
from app.core.personal_data import ExportContext, ExportFile, ForgetContext, iso
from app.network import service as network_service

logger = logging.getLogger("cocreate")

EXPORT_VERSION = 1
# Downloads are heavy (every row and file of the account): a few an hour are plenty.
EXPORT_BUCKET = "data-export"
EXPORT_LIMIT = 10
EXPORT_WINDOW = timedelta(hours=1)
# How long the audit log keeps an entry (see ``prune``).
AUDIT_RETENTION_YEARS = 5
# ``data.json``'s sections, in the order it gives them, after its head (format, about, profile). A
# part's section not named here follows them.
SECTIONS = (
    "memberships",
    "ideas",
    "comments",
    "supports",
    "follows",
    "session_registrations",
    "ballot_papers",
    "notifications",
    "reports",
    "login_sessions",
    "audit_log",
    "attachments",
)

__all__ = ["ExportFile", "attachment_member"]


def _parts() -> list[personal_data.PersonalData]:
    found = personal_data.parts()
    if not found:  # deleting an account without them would leave every counter wrong
        raise RuntimeError("no personal data part is registered: import app.handlers first")
    return found


def user_references() -> dict[str, str]:
    """What deleting an account does to each column that points at a user ("table.column"), as the
    domains' parts decide it."""
    return {column: decision for part in _parts() for column, decision in part.references.items()}


# Export -----------------------------------------------------------------------------------------------


@dataclass
class Export:
    """``data.json``'s content, and the stored files that go into the zip with it."""

    data: dict
    files: list[ExportFile] = field(default_factory=list)


async def collect(*, session: AsyncSession, storage: Storage, secret_key: str, user: User) -> Export:
    """Everything kept about ``user`` and by them, each domain's sections from its part, read in a
    fixed number of queries however much there is."""
    user = await session.get(User, user.id, populate_existing=True)
    organisation = await network_service.get_organisation(
        session=session, organisation_id=user.organisation_id
    )
    data: dict = {
        "format": {
            "name": "cocreate personal data",
            "version": EXPORT_VERSION,
            "exported_at": iso(utcnow()),
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
            "disabled_at": iso(user.disabled_at),
            "disabled_reason": user.disabled_reason or None,
            "created_at": iso(user.created_at),
            "updated_at": iso(user.updated_at),
            "last_login_at": iso(user.last_login_at),
        },
    }
    context = ExportContext(storage=storage, secret_key=secret_key)
    sections: dict = {}
    for part in _parts():
        if part.export_user is None:
            continue
        for name, section in (await part.export_user(session, user, context)).items():
            if name in data or name in sections:
                raise RuntimeError(f"two parts give the export's section {name!r}")
            sections[name] = section
    for name in SECTIONS:
        if name in sections:
            data[name] = sections.pop(name)
    data.update(sections)
    return Export(data=data, files=context.files)


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
    FormError (wrong password), RateLimited, or Refused (the last admin). All in one transaction:
    every domain's part forgets the person in its order (``app.core.personal_data``), then the audit
    log gets an entry that names nobody and the ``user`` row goes. The returned ``files`` are the
    storage keys to remove once it has committed (``app.attachments.service.remove_files``)."""
    # The guess is counted first, apart from this transaction (``ratelimit.count``).
    await check_password(session=session, user=user, password=password)
    _parts()
    user = await session.get(User, user.id, populate_existing=True)
    if user is None:  # deleted by a request sent just before this one
        return Deletion()
    await _refuse_last_admin(session, user)
    context = ForgetContext(secret_key=secret_key, remove_contributions=remove_contributions)
    for part in personal_data.forgetting():
        await part.forget_user(session, user, context)
    counts = context.counts
    done = Deletion(
        ideas_removed=counts["ideas_removed"],
        comments_removed=counts["comments_removed"],
        comments_emptied=counts["comments_emptied"],
        papers_removed=counts["papers_removed"],
        places_given=counts["places_given"],
        files=context.files,
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
    await account_service.delete_user(session=session, user_id=user.id)
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

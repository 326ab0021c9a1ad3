"""Warnings and bans of workspace members. Each change takes the membership row's lock, tells the
member and is written to the audit log, in one transaction."""

from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.audit import service as audit
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.events import Notice, publish
from app.core.forms import FormError, clean_text
from app.core.i18n import N_, _
from app.moderation.models import REASON_MAX
from app.moderation.service import clean_reason
from app.workspaces.models import Membership, MemberStatus

# The lengths a moderator picks from: days, or None for good.
BAN_LENGTHS = {"1": 1, "7": 7, "30": 30, "forever": None}
BAN_LENGTH_LABELS = {"1": N_("One day"), "7": N_("A week"), "30": N_("30 days"), "forever": N_("For good")}


async def _locked_membership(session: AsyncSession, membership_id: int) -> Membership:
    return (
        await session.exec(
            select(Membership)
            .where(Membership.id == membership_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()


async def _record_sanction(
    session: AsyncSession, membership: Membership, moderator: User, *, action: str, reason: str, data=None
) -> Membership:
    """Saves the changed membership, tells the member and logs the act, in one transaction."""
    session.add(membership)
    await publish(
        session,
        Notice(
            user_ids=[membership.user_id],
            kind=SANCTION_NOTICES[action],
            actor_id=moderator.id,
            workspace_id=membership.workspace_id,
        ),
    )
    audit.record(
        session,
        action=action,
        actor=moderator,
        workspace_id=membership.workspace_id,
        target_kind="user",
        target_id=membership.user_id,
        reason=reason,
        data=data,
    )
    await session.flush()
    return membership


SANCTION_NOTICES = {"warn": "member_warned", "ban": "member_banned", "unban": "member_unbanned"}


async def warn(*, session: AsyncSession, membership: Membership, moderator: User, reason: str) -> Membership:
    """A warning the member reads on the workspace's page (the last one is kept) and is told of."""
    reason = clean_reason(reason, required=True)
    membership = await _locked_membership(session, membership.id)
    membership.warning = reason
    membership.warned_at = utcnow()
    return await _record_sanction(session, membership, moderator, action="warn", reason=reason)


async def ban(
    *, session: AsyncSession, membership: Membership, moderator: User, length: str, reason: str
) -> Membership:
    """Bans a member from posting, commenting, supporting, reporting, registering and voting, for a
    number of days or for good; they still read. Their membership stays, so they cannot leave and
    join again to escape it."""
    errors: dict[str, str] = {}
    if length not in BAN_LENGTHS:
        errors["length"] = _("Choose how long the ban lasts.")
    reason = clean_text(reason, field="reason", errors=errors, max_length=REASON_MAX)
    if errors:
        raise FormError(errors)
    membership = await _locked_membership(session, membership.id)
    if membership.status not in (MemberStatus.ACTIVE, MemberStatus.BANNED):
        raise Refused(_("Only members can be banned."))
    days = BAN_LENGTHS[length]
    membership.status = MemberStatus.BANNED
    membership.banned_until = None if days is None else utcnow() + timedelta(days=days)
    membership.ban_reason = reason
    until = membership.banned_until.isoformat() if membership.banned_until else None
    return await _record_sanction(
        session, membership, moderator, action="ban", reason=reason, data={"until": until}
    )


async def unban(*, session: AsyncSession, membership: Membership, moderator: User, reason: str) -> Membership:
    reason = clean_reason(reason, required=False)
    membership = await _locked_membership(session, membership.id)
    if membership.status != MemberStatus.BANNED:
        raise Refused(_("This member is not banned."))
    membership.status = MemberStatus.ACTIVE
    membership.banned_until = None
    membership.ban_reason = ""
    return await _record_sanction(session, membership, moderator, action="unban", reason=reason)

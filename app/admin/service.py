"""Administration of accounts: finding them, changing their global role, disabling and enabling them.

Every change locks the rows its rules read: the account changed, the admin acting and every active
admin (SELECT .. FOR UPDATE in id order on PostgreSQL, so two admins acting at once wait for each other
in turn and never in a circle; SQLite has one writer at a time). So two admins demoting each other at
once leave one admin. Each change is written to the audit log in the same transaction."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import and_, col, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service as account_service
from app.accounts.models import Role, User
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Refused
from app.core.forms import FormError, clean_text, whole_number
from app.core.i18n import N_, _
from app.moderation.models import REASON_MAX
from app.moderation.service import clean_reason
from app.network.models import Organisation
from app.workspaces.models import Membership, Workspace

PAGE_SIZE = 50
SEARCH_MAX = 100
MEMBERSHIPS_SHOWN = 100

ROLE_LABELS = {
    Role.CITIZEN: N_("Citizen"),
    Role.FACILITATOR: N_("Network facilitator"),
    Role.ADMIN: N_("Administrator"),
}
STATE_LABELS = {"active": N_("Active"), "disabled": N_("Disabled")}


class Action:
    ROLE_CHANGE = "role_change"
    DISABLE = "account_disable"
    ENABLE = "account_enable"


ACCOUNT_ACTIONS = (Action.ROLE_CHANGE, Action.DISABLE, Action.ENABLE)


# Finding accounts ------------------------------------------------------------------------------------


@dataclass
class UserFilter:
    q: str = ""
    role: str = ""
    state: str = ""
    before: int | None = None

    @classmethod
    def from_query(cls, params) -> "UserFilter":
        """From the list's query string; an unknown role or state filters nothing."""
        role = params.get("role", "")
        state = params.get("state", "")
        return cls(
            q=params.get("q", "").strip()[:SEARCH_MAX],
            role=role if role in ROLE_LABELS else "",
            state=state if state in STATE_LABELS else "",
            before=whole_number(params.get("before", "")),
        )

    def query(self) -> dict[str, str]:
        """The filters (not the page) as query parameters."""
        return {
            key: value
            for key, value in {"q": self.q, "role": self.role, "state": self.state}.items()
            if value
        }


def _conditions(filters: UserFilter) -> list:
    conditions = []
    if filters.q:
        needle = filters.q.lower()
        # E-mail addresses are stored lower-cased; LIKE's wildcards in the search are taken literally.
        conditions.append(
            or_(
                func.lower(User.display_name).contains(needle, autoescape=True),
                col(User.email).contains(needle, autoescape=True),
            )
        )
    if filters.role:
        conditions.append(col(User.role) == filters.role)
    if filters.state:
        conditions.append(col(User.is_active) == (filters.state == "active"))
    return conditions


async def search(
    *, session: AsyncSession, filters: UserFilter, per_page: int = PAGE_SIZE
) -> tuple[list[User], int | None]:
    """Newest accounts first, a page at a time by id (ids grow with each new account, so a page does not
    shift when accounts are added); returns the accounts and the id to continue before, or None."""
    statement = select(User).where(*_conditions(filters))
    if filters.before is not None:
        statement = statement.where(col(User.id) < filters.before)
    rows = list((await session.exec(statement.order_by(col(User.id).desc()).limit(per_page + 1))).all())
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].id if more else None)


async def count(*, session: AsyncSession, filters: UserFilter) -> int:
    """How many accounts match the filters, on every page."""
    return (await session.exec(select(func.count()).select_from(User).where(*_conditions(filters)))).one()


async def get(*, session: AsyncSession, user_id: int) -> User | None:
    return await account_service.get(session=session, user_id=user_id)


# One account's details -------------------------------------------------------------------------------


@dataclass
class MembershipRow:
    membership: Membership
    workspace: Workspace


@dataclass
class UserDetails:
    user: User
    organisation: Organisation | None
    live_sessions: int
    memberships: list[MembershipRow]
    more_memberships: bool
    history: list[AuditEvent]


async def details(*, session: AsyncSession, user: User, settings: Settings) -> UserDetails:
    organisation = await session.get(Organisation, user.organisation_id) if user.organisation_id else None
    sessions = await account_service.live_sessions(session=session, user_id=user.id, settings=settings)
    rows = await session.exec(
        select(Membership, Workspace)
        .join(Workspace, col(Workspace.id) == Membership.workspace_id)
        .where(Membership.user_id == user.id)
        .order_by(col(Membership.id).desc())
        .limit(MEMBERSHIPS_SHOWN + 1)
    )
    memberships = [MembershipRow(membership=m, workspace=w) for m, w in rows.all()]
    history = await audit.about(
        session=session, target_kind="user", target_id=user.id, actions=ACCOUNT_ACTIONS, since=user.created_at
    )
    return UserDetails(
        user=user,
        organisation=organisation,
        live_sessions=len(sessions),
        memberships=memberships[:MEMBERSHIPS_SHOWN],
        more_memberships=len(memberships) > MEMBERSHIPS_SHOWN,
        history=history,
    )


# Changes ---------------------------------------------------------------------------------------------


async def _lock(session: AsyncSession, *, target: User, admin: User) -> int:
    """Locks the target's row, the admin's and every active admin's until commit, and reloads the
    target; returns how many active admins there are. Refused when the target is gone or the admin is
    no longer an active admin (another admin changed that a moment ago)."""
    if session.bind.dialect.name == "sqlite":
        # A write first takes SQLite's one write lock, so what is read below cannot go stale before
        # this transaction writes.
        await session.exec(update(User).where(col(User.id) == target.id).values(role=User.role))
    rows = (
        await session.exec(
            select(User)
            .where(
                or_(
                    col(User.id).in_([target.id, admin.id]),
                    and_(col(User.role) == Role.ADMIN, col(User.is_active)),
                )
            )
            .order_by(col(User.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()
    by_id = {row.id: row for row in rows}
    acting = by_id.get(admin.id)
    if target.id not in by_id:
        raise Refused(_("This account no longer exists."), 404)
    if acting is None or not (acting.is_admin and acting.is_active):
        raise Refused(_("Only an active admin can do this, and you no longer are one."), 403)
    return sum(1 for row in rows if row.is_admin and row.is_active)


def _refuse_last_admin(target: User, active_admins: int) -> None:
    if target.is_admin and target.is_active and active_admins <= 1:
        raise Refused(_("This is the last active admin. Make someone else an admin first."))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def change_role(*, session: AsyncSession, target: User, admin: User, role: str, reason: str) -> User:
    """Gives the target another global role, with the reason in the audit log."""
    errors: dict[str, str] = {}
    if role not in ROLE_LABELS:
        errors["role"] = _("Choose one of the roles offered.")
    reason = clean_text(reason, field="reason", errors=errors, max_length=REASON_MAX)
    if errors:
        raise FormError(errors)
    if target.id == admin.id:
        raise Refused(_("You cannot change your own role. Another admin can."), 403)
    active_admins = await _lock(session, target=target, admin=admin)
    try:
        if target.role == role:
            raise Refused(_("Nothing changed: the account already has this role."))
        if role != Role.ADMIN:
            _refuse_last_admin(target, active_admins)
    except Refused:
        raise
    before = target.role
    target.role = role
    target.updated_at = utcnow()
    session.add(target)
    audit.record(
        session,
        action=Action.ROLE_CHANGE,
        actor=admin,
        target_kind="user",
        target_id=target.id,
        reason=reason,
        data={"before": {"role": before}, "after": {"role": role}},
    )
    await session.flush()
    return target


async def disable(*, session: AsyncSession, target: User, admin: User, reason: str) -> int:
    """Disables the account and ends all of its sessions in the same transaction, so its next request
    is logged out; returns how many sessions ended. The account can no longer log in."""
    reason = clean_reason(reason, required=True)
    if target.id == admin.id:
        raise Refused(_("You cannot disable your own account."), 403)
    active_admins = await _lock(session, target=target, admin=admin)
    try:
        if not target.is_active:
            raise Refused(_("This account is already disabled."))
        _refuse_last_admin(target, active_admins)
    except Refused:
        raise
    now = utcnow()
    target.is_active = False
    target.disabled_at = now
    target.disabled_reason = reason
    target.updated_at = now
    session.add(target)
    ended = await account_service.revoke_sessions(session=session, user_id=target.id)
    audit.record(
        session,
        action=Action.DISABLE,
        actor=admin,
        target_kind="user",
        target_id=target.id,
        reason=reason,
        data={
            "before": {"is_active": True},
            "after": {"is_active": False, "disabled_at": _iso(now)},
            "sessions_ended": ended,
        },
    )
    await session.flush()
    return ended


async def enable(*, session: AsyncSession, target: User, admin: User, reason: str) -> User:
    """Lets a disabled account log in again (its old sessions stay ended)."""
    reason = clean_reason(reason, required=True)
    await _lock(session, target=target, admin=admin)
    if target.is_active:
        raise Refused(_("This account is not disabled."))
    before = {
        "is_active": False,
        "disabled_at": _iso(target.disabled_at),
        "disabled_reason": target.disabled_reason,
    }
    target.is_active = True
    target.disabled_at = None
    target.disabled_reason = ""
    target.updated_at = utcnow()
    session.add(target)
    audit.record(
        session,
        action=Action.ENABLE,
        actor=admin,
        target_kind="user",
        target_id=target.id,
        reason=reason,
        data={"before": before, "after": {"is_active": True}},
    )
    await session.flush()
    return target

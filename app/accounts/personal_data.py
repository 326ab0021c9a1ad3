"""The accounts' part of a person's data (``app.core.personal_data``): their login sessions, and
the counters against abuse kept under their account. The profile itself is the export's head, and
the ``user`` row goes last (``service.delete_user``)."""

from sqlmodel import and_, col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts import service
from app.accounts.models import AuthSession, User
from app.core import ratelimit
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    logins = await session.exec(
        select(AuthSession).where(AuthSession.user_id == user.id).order_by(col(AuthSession.id))
    )
    return {
        "login_sessions": [
            {
                "started_at": iso(login.created_at),
                "last_seen_at": iso(login.last_seen_at),
                "expires_at": iso(login.expires_at),
                "ended_at": iso(login.revoked_at),
                "ip_address": login.ip_address,
                "user_agent": login.user_agent,
            }
            for login in logins.all()
        ]
    }


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    """The counters against abuse kept under the account, and the failed logins under its address."""
    await session.exec(
        delete(ratelimit.RateLimitHit).where(
            or_(
                col(ratelimit.RateLimitHit.key) == f"user:{user.id}",
                and_(
                    col(ratelimit.RateLimitHit.bucket) == service.LOGIN_ACCOUNT_BUCKET,
                    col(ratelimit.RateLimitHit.key) == user.email,
                ),
            )
        )
    )


PART = register(
    PersonalData(
        name="accounts",
        references={"auth_session.user_id": "deleted: logged out on every device"},
        export_user=export_user,
        forget_user=forget_user,
        order=70,
    )
)

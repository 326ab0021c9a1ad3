"""The co-creation sessions' part of a person's data (``app.core.personal_data``): their
registrations. A place they held is given up like a cancellation (``service.give_up_places``)."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.cocreation import service
from app.cocreation.models import CocreationSession, Registration
from app.core.personal_data import ExportContext, ForgetContext, PersonalData, iso, register


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    registrations = await session.exec(
        select(Registration, CocreationSession)
        .join(CocreationSession, col(CocreationSession.id) == Registration.session_id)
        .where(Registration.user_id == user.id)
        .order_by(col(Registration.id))
    )
    return {
        "session_registrations": [
            {
                "session": {
                    "id": cs.id,
                    "title": cs.title,
                    "workspace_id": cs.workspace_id,
                    "starts_at": iso(cs.starts_at),
                    "ends_at": iso(cs.ends_at),
                },
                "status": registration.status,
                "attended": registration.attended,
                "asked_at": iso(registration.queued_at),
                "updated_at": iso(registration.updated_at),
            }
            for registration, cs in registrations.all()
        ]
    }


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    promoted = await service.give_up_places(session=session, user_id=user.id)
    context.counts["places_given"] += len(promoted)


PART = register(
    PersonalData(
        name="cocreation",
        references={
            "registration.user_id": (
                "deleted; a place held in a session still open goes to the first person waiting"
            ),
            "cocreation_session.created_by_id": "emptied",
        },
        export_user=export_user,
        forget_user=forget_user,
        # First: the sessions are locked one after another in id order, before anything else.
        order=10,
    )
)

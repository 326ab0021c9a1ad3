"""The attachments' part of a person's data (``app.core.personal_data``): the files they uploaded,
listed in the export and put into its zip."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.attachments import service
from app.attachments.models import Attachment
from app.core.personal_data import ExportContext, ExportFile, ForgetContext, PersonalData, iso, register
from app.ideas.models import Idea


def attachment_member(idea_id: int, filename: str, taken: set[str]) -> str:
    """``attachments/<idea id>/<name>``: the name as the uploader gave it, reduced to one harmless
    part (no folders, no ``..``, no control characters such as NUL), made unique within the folder."""
    name = service.tidy_filename(filename)[: service.FILENAME_MAX] or "file"
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    candidate, number = name, 2
    while f"attachments/{idea_id}/{candidate}" in taken:
        candidate, number = f"{stem} ({number}){dot}{extension}", number + 1
    member = f"attachments/{idea_id}/{candidate}"
    taken.add(member)
    return member


async def export_user(session: AsyncSession, user: User, context: ExportContext) -> dict:
    """Each file the person uploaded; one still in storage goes into the zip (``context.files``)."""
    attachments = await session.exec(
        select(Attachment)
        .where(Attachment.uploader_id == user.id)
        .order_by(col(Attachment.idea_id), col(Attachment.id))
    )
    listed = []
    taken: set[str] = set()
    for attachment in attachments.all():
        path = context.storage.path(attachment.storage_key)
        member = attachment_member(attachment.idea_id, attachment.filename, taken) if path.is_file() else None
        if member is not None:
            context.files.append(ExportFile(member=member, path=path))
        listed.append(
            {
                "idea_id": attachment.idea_id,
                "name": attachment.filename,
                "type": attachment.content_type,
                "bytes": attachment.size_bytes,
                "description": attachment.description,
                "uploaded_at": iso(attachment.created_at),
                "file": member,
            }
        )
    return {"attachments": listed}


async def forget_user(session: AsyncSession, user: User, context: ForgetContext) -> None:
    """The files on the person's ideas go when the ideas do (the database deletes their rows): their
    storage keys are kept, to remove the files once the transaction has committed. A file someone
    uploaded to another's idea stays with that idea."""
    if not context.remove_contributions:
        return
    keys = await session.exec(
        select(Attachment.storage_key)
        .join(Idea, col(Idea.id) == Attachment.idea_id)
        .where(Idea.author_id == user.id)
    )
    context.files += keys.all()


PART = register(
    PersonalData(
        name="attachments",
        references={
            "attachment.uploader_id": "emptied: a file stays with its idea, and goes when the idea goes",
        },
        export_user=export_user,
        forget_user=forget_user,
        # Before the ideas (50), whose deletion takes the files' rows with it.
        order=40,
    )
)

"""Attachments on ideas: files checked by their content, stored under names the server makes, and
written in one transaction with the idea they belong to."""

import functools
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

import anyio.to_thread
from babel.numbers import format_decimal
from sqlalchemy import bindparam
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.accounts.models import User
from app.attachments import content
from app.attachments.models import Attachment
from app.attachments.storage import Storage, new_key
from app.core import i18n
from app.core.db import after_commit
from app.core.forms import FormError, clean_text
from app.core.i18n import _, ngettext
from app.ideas.models import Idea

logger = logging.getLogger("cocreate")

MB = 1024 * 1024
MAX_FILE_BYTES = 10 * MB
MAX_FILES = 5
# A bigger picture is no photo a phone takes, but it could make every reader's phone decode it.
MAX_MEGAPIXELS = 50
FILENAME_MAX = 200
ACCEPT = ",".join(file_type.content_type for file_type in content.TYPES)

# The idea form may carry every file at its limit, with room for the text fields; every other
# request keeps the app-wide limit (Settings.max_body_bytes).
UPLOAD_PATHS = re.compile(r"/w/[^/]+/ideas/(?:new|[0-9]+/edit)")
UPLOAD_BODY_BYTES = MAX_FILES * MAX_FILE_BYTES + MB

# Gallery previews: the original image, drawn by the browser at most this many CSS pixels wide and
# high, which fits a gallery card on the narrowest phone.
PREVIEW_BOX = 224


@dataclass
class FileInput:
    """A file as the browser sent it: the name on the user's device and the bytes."""

    filename: str
    file: BinaryIO


@dataclass
class CheckedFile:
    source: BinaryIO
    filename: str
    file_type: content.FileType
    size: int
    width: int | None = None
    height: int | None = None


def tidy_filename(name: str) -> str:
    """The last part of a file name, without control or direction-changing characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    return " ".join(name.split()).strip(" .")


def clean_filename(name: str, file_type: content.FileType) -> str:
    """The user's file name, tidied, ending in an extension that matches the content."""
    name = tidy_filename(name)
    stem, dot, extension = name.rpartition(".")
    if not dot or extension.lower() not in file_type.extensions:
        stem, extension = name, file_type.extension
    stem = stem[: FILENAME_MAX - len(extension) - 1].rstrip(" .") or "file"
    return f"{stem}.{extension}"


def _size(file: BinaryIO) -> int:
    file.seek(0, 2)
    return file.tell()


def _too_many(existing: int, chosen: int) -> str:
    if existing:
        return ngettext(
            "An idea holds at most %(num)s file; this one has %(existing)s and you chose %(chosen)s.",
            "An idea holds at most %(num)s files; this one has %(existing)s and you chose %(chosen)s.",
            MAX_FILES,
            existing=existing,
            chosen=chosen,
        )
    return ngettext(
        "An idea holds at most %(num)s file; you chose %(chosen)s.",
        "An idea holds at most %(num)s files; you chose %(chosen)s.",
        MAX_FILES,
        chosen=chosen,
    )


def _check(upload: FileInput) -> CheckedFile | str:
    """The file, ready to store, or what is wrong with it."""
    size = _size(upload.file)
    name = tidy_filename(upload.filename)[:FILENAME_MAX] or "file"
    if size > MAX_FILE_BYTES:
        return _("“%(name)s” is larger than %(max)s MB.", name=name, max=MAX_FILE_BYTES // MB)
    if size == 0:
        return _("“%(name)s” is empty.", name=name)
    upload.file.seek(0)
    file_type = content.sniff(upload.file.read(content.HEAD_BYTES))
    if file_type is None:
        return _("“%(name)s” is not a JPEG, PNG or WebP image or a PDF.", name=name)
    checked = CheckedFile(upload.file, clean_filename(upload.filename, file_type), file_type, size)
    if file_type.is_image:
        dimensions = content.image_size(file_type, upload.file)
        if dimensions is None:
            return _("“%(name)s” could not be read as an image.", name=name)
        checked.width, checked.height = dimensions
        if checked.width * checked.height > MAX_MEGAPIXELS * 1_000_000:
            return _("“%(name)s” has more than %(max)s megapixels.", name=name, max=MAX_MEGAPIXELS)
    return checked


def check_files(files: Sequence[FileInput], *, existing: int) -> list[CheckedFile]:
    """Every file checked by its content and size, and their number against what the idea holds;
    raises FormError naming each file that cannot be taken."""
    if existing + len(files) > MAX_FILES:
        raise FormError({"files": _too_many(existing, len(files))})
    results = [_check(upload) for upload in files]
    problems = [result for result in results if isinstance(result, str)]
    if problems:
        raise FormError({"files": " ".join(problems)})
    return [result for result in results if isinstance(result, CheckedFile)]


DESCRIPTION_MAX = 300


def description_field(attachment_id: int) -> str:
    """The idea form's field for one picture's description."""
    return f"description-{attachment_id}"


def clean_descriptions(form, images: Sequence[Attachment], errors: dict[str, str]) -> dict[int, str]:
    """Each picture's description as sent with the idea's form; a picture whose field is missing
    keeps the one it has. Control characters are dropped, spaces run together."""
    descriptions = {}
    for image in images:
        value = form.get(description_field(image.id))
        if not isinstance(value, str):
            continue
        text = " ".join("".join(c for c in value if unicodedata.category(c)[0] != "C" or c in "\t\n").split())
        descriptions[image.id] = clean_text(
            text, field=description_field(image.id), errors=errors, max_length=DESCRIPTION_MAX, required=False
        )
    return descriptions


async def describe(
    *, session: AsyncSession, images: Sequence[Attachment], descriptions: dict[int, str]
) -> None:
    """Sets the pictures' descriptions."""
    for image in images:
        if image.id in descriptions and descriptions[image.id] != image.description:
            row = await session.get(Attachment, image.id)
            if row is not None:
                row.description = descriptions[image.id]
                session.add(row)
    await session.flush()


@dataclass
class Batch:
    """An idea's new files, stored with the idea's changes: see ``batch``."""

    session: AsyncSession
    storage: Storage
    files: list[CheckedFile]
    problems: dict[str, str]
    stored: list[str] = field(default_factory=list)

    async def attach(self, *, idea_id: int, uploader: User) -> list[Attachment]:
        """Stores the checked files under new names and adds their rows."""
        if self.problems:
            raise FormError(self.problems)
        if not self.files:
            return []
        # The idea's row is locked so that two edits at once cannot both add files past the limit
        # (PostgreSQL; SQLite has a single writer anyway).
        await self.session.exec(select(Idea.id).where(col(Idea.id) == idea_id).with_for_update())
        existing = await count(session=self.session, idea_id=idea_id)
        if existing + len(self.files) > MAX_FILES:
            raise FormError({"files": _too_many(existing, len(self.files))})
        attachments = []
        for checked in self.files:
            key = new_key(checked.file_type.extension)
            await anyio.to_thread.run_sync(self.storage.save, key, checked.source)
            self.stored.append(key)
            attachments.append(
                Attachment(
                    idea_id=idea_id,
                    uploader_id=uploader.id,
                    storage_key=key,
                    filename=checked.filename,
                    content_type=checked.file_type.content_type,
                    size_bytes=checked.size,
                    width=checked.width,
                    height=checked.height,
                )
            )
        self.session.add_all(attachments)
        await self.session.flush()
        return attachments


@asynccontextmanager
async def batch(
    *, session: AsyncSession, storage: Storage, files: Sequence[FileInput], existing: int = 0
) -> AsyncIterator[Batch]:
    """An idea's changes and its new files, in the request's unit of work.

    The files are checked on the way in. On any error in the block the files stored so far are
    removed (the unit of work drops the rows). A FormError raised in the block (the idea's own
    fields) also carries what is wrong with the files, and the reminder that chosen files must be
    chosen again, so the form shows every problem at once.
    """
    problems: dict[str, str] = {}
    checked: list[CheckedFile] = []
    try:
        checked = check_files(files, existing=existing)
    except FormError as error:
        problems = error.errors
    work = Batch(session=session, storage=storage, files=checked, problems=problems)
    try:
        yield work
        await session.flush()
    except BaseException as error:
        for key in work.stored:
            storage.delete(key)
        if isinstance(error, FormError) and files:
            what = problems.get("files") or error.errors.get("files")
            again = _("Choose your files again: they are not kept when the form comes back.")
            error.errors["files"] = f"{what} {again}" if what else again
        raise


async def count(*, session: AsyncSession, idea_id: int) -> int:
    return (
        await session.exec(select(func.count()).select_from(Attachment).where(Attachment.idea_id == idea_id))
    ).one()


@functools.cache
def _of_idea_statement():
    return (
        select(Attachment).where(col(Attachment.idea_id) == bindparam("idea_id")).order_by(col(Attachment.id))
    )


async def of_idea(*, session: AsyncSession, idea_id: int) -> list[Attachment]:
    return list((await session.exec(_of_idea_statement(), params={"idea_id": idea_id})).all())


async def get(*, session: AsyncSession, idea_id: int, attachment_id: int) -> Attachment | None:
    attachment = await session.get(Attachment, attachment_id)
    return attachment if attachment is not None and attachment.idea_id == idea_id else None


async def remove(*, session: AsyncSession, storage: Storage, attachment: Attachment) -> None:
    """The row goes first, the file once that has committed: a file left behind by a failure is never
    shown, a row without its file would be."""
    await session.delete(attachment)
    await session.flush()
    after_commit(session, lambda: remove_files(storage, [attachment.storage_key]))


def remove_files(storage: Storage, keys: Sequence[str]) -> None:
    """Deletes stored files, logging (not raising) a failure: no row names them any more."""
    for key in keys:
        try:
            storage.delete(key)
        except OSError:
            logger.warning("attachment file %s was not removed", key, exc_info=True)


def size_label(size_bytes: int) -> str:
    locale = i18n.babel_locale()
    if size_bytes < MB:
        return _("%(size)s KB", size=format_decimal(max(1, round(size_bytes / 1024)), locale=locale))
    return _("%(size)s MB", size=format_decimal(round(size_bytes / MB, 1), format="#,##0.#", locale=locale))


def preview_size(attachment: Attachment) -> tuple[int, int]:
    """The image's width and height scaled down to fit the gallery's box, keeping its shape."""
    width, height = attachment.width or PREVIEW_BOX, attachment.height or PREVIEW_BOX
    scale = min(1, PREVIEW_BOX / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))

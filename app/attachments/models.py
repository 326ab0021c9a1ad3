"""Files attached to ideas: images shown in a gallery and PDF documents."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, utcnow


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", ondelete="CASCADE", index=True)
    uploader_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # The name the file has in storage, made by the server; the uploader's name is only shown.
    storage_key: str = Field(max_length=40, unique=True)
    filename: str = Field(max_length=200)
    # The type the content was found to be, never the one the browser claimed.
    content_type: str = Field(max_length=40)
    size_bytes: int
    # Display size of an image (after its EXIF orientation); None for documents.
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A picture's text alternative, written by its author ("" until they do).
    description: str = Field(default="", max_length=300, sa_column_kwargs={"server_default": ""})

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

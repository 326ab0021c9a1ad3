"""Where uploaded files are kept: a small interface, and a local directory behind it.

Object storage (shared by several app processes) can come later behind the same interface.
"""

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from app.core.config import Settings

_KEY = re.compile(r"[0-9a-f]{32}\.[a-z]{3,4}")


def new_key(extension: str) -> str:
    """A name no one can guess or choose: 128 random bits and the extension of the checked type."""
    return f"{secrets.token_hex(16)}.{extension}"


class Storage(Protocol):
    def save(self, key: str, source: BinaryIO) -> None:
        """Stores all of ``source`` (read from its start) under ``key``, completely or not at all."""

    def path(self, key: str) -> Path:
        """A local file holding the stored bytes, for the response to send."""

    def delete(self, key: str) -> None:
        """Removes the file; a missing one is not an error."""


class LocalStorage:
    """Files in a directory outside the web root, spread over 256 subdirectories by key."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def save(self, key: str, source: BinaryIO) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed into place, so a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                source.seek(0)
                shutil.copyfileobj(source, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def storage_for(settings: Settings) -> Storage:
    return LocalStorage(settings.data_dir / "uploads")

"""Personal data: each domain's part of what the platform holds about a person.

A domain registers one ``PersonalData`` part when its ``personal_data`` module is imported
(``app.handlers`` imports them all). The part names the columns pointing at a user that it decides
("table.column", with what deleting an account does to each), gives its sections of the person's
data export (``export_user``) and forgets the person when their account is deleted
(``forget_user``), changing its own rows and counters only, through its own code. Privacy
(``app.privacy.service``) asks every part in turn and owns none of their tables.

Deletion runs the parts' ``forget_user`` in ascending ``order``: a part that must see rows another
part deletes comes before it (the moderation cases about a person's ideas are dropped while the ideas
are still there)."""

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession


def iso(value: datetime | None) -> str | None:
    """A moment as the export writes it."""
    return value.isoformat() if value else None


@dataclass
class ExportFile:
    """A stored file that goes into the export's zip, under ``member``."""

    member: str
    path: Path


@dataclass
class ExportContext:
    """What a part may need to read its sections: the storage files are kept in, the server's secret
    for voter keys; ``files`` gathers the stored files that go into the zip."""

    storage: Any = None
    secret_key: str = ""
    files: list[ExportFile] = field(default_factory=list)


@dataclass
class ForgetContext:
    """What a part may need to forget a person: whether their contributions go too, the server's
    secret for voter keys. A part writes back what it did: ``counts`` (ideas removed, places given,
    ...) for the confirmation and the audit log, and ``files``, the storage keys to remove once the
    transaction has committed."""

    secret_key: str = ""
    remove_contributions: bool = False
    counts: Counter = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)


ExportUser = Callable[[AsyncSession, Any, ExportContext], Awaitable[Mapping[str, Any]]]
ForgetUser = Callable[[AsyncSession, Any, ForgetContext], Awaitable[None]]


@dataclass(frozen=True)
class PersonalData:
    """One domain's part. ``references`` maps each "table.column" pointing at ``user`` that the part
    decides to what deleting an account does to it (the database's own ``ON DELETE`` may be the whole
    of it). ``export_user`` returns the part's sections of ``data.json`` (section name: content);
    ``forget_user`` runs, in ``order``, before the ``user`` row is deleted."""

    name: str
    references: Mapping[str, str]
    export_user: ExportUser | None = None
    forget_user: ForgetUser | None = None
    order: int = 0


_parts: dict[str, PersonalData] = {}


def register(part: PersonalData) -> PersonalData:
    """Registers a domain's part; once per name (importing the module again is harmless)."""
    known = _parts.get(part.name)
    if known is not None and known != part:
        raise ValueError(f"a personal data part named {part.name!r} is registered already")
    _parts[part.name] = part
    return part


def parts() -> list[PersonalData]:
    """The registered parts, in the order they were registered."""
    return list(_parts.values())


def forgetting() -> list[PersonalData]:
    """The parts that forget a person, in the order they must."""
    return sorted((part for part in _parts.values() if part.forget_user), key=lambda part: part.order)

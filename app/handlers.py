"""Registers every domain's event handlers (``app.core.events``), so an event raised anywhere is
handled, and every domain's part of a person's data (``app.core.personal_data``), so the data export
and the deletion of an account ask them all: imported by what runs the domains (the app, the command
line, the loaders)."""

from app.accounts import personal_data as accounts_personal_data
from app.attachments import personal_data as attachments_personal_data
from app.audit import personal_data as audit_personal_data
from app.cocreation import personal_data as cocreation_personal_data
from app.comments import personal_data as comments_personal_data
from app.ideas import personal_data as ideas_personal_data
from app.moderation import personal_data as moderation_personal_data
from app.notifications import handlers as notification_handlers
from app.notifications import personal_data as notifications_personal_data
from app.topics import personal_data as topics_personal_data
from app.voting import personal_data as voting_personal_data
from app.workspaces import personal_data as workspaces_personal_data

__all__ = [
    "accounts_personal_data",
    "attachments_personal_data",
    "audit_personal_data",
    "cocreation_personal_data",
    "comments_personal_data",
    "ideas_personal_data",
    "moderation_personal_data",
    "notification_handlers",
    "notifications_personal_data",
    "topics_personal_data",
    "voting_personal_data",
    "workspaces_personal_data",
]

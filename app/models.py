"""Imports every table, so the metadata Alembic and the tests see is the whole schema."""

from sqlmodel import SQLModel

from app.accounts import models as accounts_models
from app.attachments import models as attachment_models
from app.audit import models as audit_models
from app.cocreation import models as cocreation_models
from app.comments import models as comment_models
from app.core import live, ratelimit
from app.ideas import models as idea_models
from app.moderation import models as moderation_models
from app.network import models as network_models
from app.notifications import models as notification_models
from app.topics import models as topic_models
from app.voting import keys as voting_keys
from app.voting import models as voting_models
from app.workspaces import models as workspace_models

metadata = SQLModel.metadata

__all__ = [
    "accounts_models",
    "attachment_models",
    "audit_models",
    "cocreation_models",
    "comment_models",
    "idea_models",
    "live",
    "metadata",
    "moderation_models",
    "network_models",
    "notification_models",
    "ratelimit",
    "topic_models",
    "voting_keys",
    "voting_models",
    "workspace_models",
]

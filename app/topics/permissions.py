"""Seeding topics is the facilitators' work across the network."""

from app.accounts.models import User
from app.workspaces import permissions as workspace_permissions


def can_seed(user: User | None) -> bool:
    return workspace_permissions.is_staff(user)

"""Who may administer accounts: admins only, and never on their own account."""

from app.accounts.models import User
from app.accounts.permissions import can_administer


def can_manage_accounts(user: User | None) -> bool:
    """Search accounts and read their details."""
    return can_administer(user)


def can_change_role(user: User | None, target: User) -> bool:
    """Another account's global role; an admin's own role is changed by another admin."""
    return can_manage_accounts(user) and target.id != user.id


def can_disable(user: User | None, target: User) -> bool:
    """Another account that is active."""
    return can_manage_accounts(user) and target.id != user.id and target.is_active


def can_enable(user: User | None, target: User) -> bool:
    return can_manage_accounts(user) and not target.is_active

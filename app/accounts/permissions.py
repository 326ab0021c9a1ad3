"""Who may do what with accounts and the platform as a whole."""

from app.accounts.models import User


def is_signed_in(user: User | None) -> bool:
    return user is not None


def can_administer(user: User | None) -> bool:
    """Platform administration: importing cities, managing networks."""
    return user is not None and user.is_admin


def can_facilitate(user: User | None) -> bool:
    """Work across the whole network: facilitators and admins."""
    return user is not None and user.is_facilitator

"""Who may do what with accounts and the platform as a whole."""

from app.accounts.models import User


def can_administer(user: User | None) -> bool:
    """Platform administration: importing cities, managing networks."""
    return user is not None and user.is_admin

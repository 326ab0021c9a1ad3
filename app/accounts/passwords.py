"""The password policy: length bounds and a list of passwords too common to accept."""

from functools import cache

from app.core.config import PACKAGE_DATA_DIR
from app.core.i18n import _

MIN_LENGTH = 8
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    path = PACKAGE_DATA_DIR / "common_passwords.txt"
    return frozenset(
        line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """Why ``password`` may not be used, in the reader's language, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(min)s characters.", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(max)s characters.", max=MAX_LENGTH)
    lowered = password.lower()
    personal = {email.lower(), email.lower().split("@")[0], display_name.strip().lower()} - {""}
    if lowered in common_passwords() or lowered in personal or len(set(password)) < 3:
        return _("This password is too common or too easy to guess. Try a short sentence.")
    return None

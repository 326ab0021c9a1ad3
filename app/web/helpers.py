"""The domains' functions the templates call, handed to the template environment by ``app.main``:
templating is infrastructure and imports no domain."""

from app.accounts.permissions import can_administer
from app.workspaces.permissions import is_banned, is_staff

TEMPLATE_HELPERS = {"can_administer": can_administer, "is_staff": is_staff, "is_banned": is_banned}

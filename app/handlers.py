"""Registers every domain's event handlers (``app.core.events``), so an event raised anywhere is
handled: imported by what runs the domains (the app, the command line, the loaders)."""

from app.notifications import handlers as notification_handlers

__all__ = ["notification_handlers"]

"""iCalendar files: one session, or a workspace's feed that calendar apps subscribe to."""

from collections.abc import Iterable

from icalendar import Calendar, Event

from app.cocreation.models import CocreationSession, SessionStatus
from app.core.config import Settings
from app.workspaces.models import Workspace


def _event(cs: CocreationSession, *, settings: Settings, workspace: Workspace, with_link: bool) -> Event:
    event = Event()
    event.add("uid", f"session-{cs.id}@{settings.base_host}")
    event.add("dtstamp", cs.updated_at)
    event.add("last-modified", cs.updated_at)
    event.add("dtstart", cs.starts_at)
    event.add("dtend", cs.ends_at)
    event.add("summary", cs.title)
    url = f"{settings.base_url}/w/{workspace.slug}/sessions/{cs.id}"
    event.add("url", url)
    online_url = cs.online_url if with_link else ""
    details = [cs.description.strip(), online_url, url]
    event.add("description", "\n\n".join(part for part in details if part))
    if cs.place_name or online_url:
        event.add("location", cs.place_name or online_url)
    event.add("status", "CANCELLED" if cs.status == SessionStatus.DRAFT else "CONFIRMED")
    return event


def feed(
    *,
    settings: Settings,
    workspace: Workspace,
    sessions: Iterable[CocreationSession],
    with_links: bool = False,
) -> bytes:
    """``with_links``: put online links in (a feed anyone may subscribe to leaves them out). Its URLs
    start with the configured ``base_url``, never with what a request's Host header says."""
    calendar = Calendar()
    calendar.add("prodid", "-//cocreate//sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", workspace.title_en or workspace.title_zh)
    for cs in sessions:
        calendar.add_component(_event(cs, settings=settings, workspace=workspace, with_link=with_links))
    return calendar.to_ical()

"""Live events: services publish on a channel (``session:42``); the live room streams them as SSE.

Publishing writes a ``live_event`` row in the caller's transaction, so an event exists if and only if the
business change commits. Delivery follows the commit: PostgreSQL sends a NOTIFY that every process's
:class:`PostgresHub` hears on its own LISTEN connection; on SQLite (one process) the session's commit
hands the event to the in-process :class:`LocalHub`.

Every subscriber gets each event of its channel once, in id order. Ids grow in commit order within a
channel (publishers of one channel take a transaction lock on PostgreSQL; SQLite has a single writer), so
``id > last delivered id`` is an exact test for "new", a browser resuming with ``Last-Event-ID`` misses
nothing, and whatever a subscriber could not take live (a full queue, a lost LISTEN connection) is read
back from the table.

An SSE route::

    hub: live.Hub = request.app.state.live
    last_event_id = live.parse_last_event_id(request)

    async def messages():
        async with hub.subscribe(f"session:{session_id}", last_event_id=last_event_id) as events:
            async for event in events:
                yield live.sse_message(event_id=event.id, event=event.kind, data=render(event))

    return StreamingResponse(live.sse_stream(request, messages()), media_type="text/event-stream")
"""

from app.core.live.events import (
    CHANNEL_MAX_LENGTH,
    KIND_MAX_LENGTH,
    RETENTION,
    ChannelEvent,
    LiveEvent,
    delete_expired,
    latest_event_id,
    publish,
)
from app.core.live.hubs import Hub, LocalHub, PostgresHub, Subscription, create_hub
from app.core.live.sse import KEEPALIVE_MESSAGE, parse_last_event_id, sse_message, sse_stream

__all__ = [
    "CHANNEL_MAX_LENGTH",
    "KEEPALIVE_MESSAGE",
    "KIND_MAX_LENGTH",
    "RETENTION",
    "ChannelEvent",
    "Hub",
    "LiveEvent",
    "LocalHub",
    "PostgresHub",
    "Subscription",
    "create_hub",
    "delete_expired",
    "latest_event_id",
    "parse_last_event_id",
    "publish",
    "sse_message",
    "sse_stream",
]

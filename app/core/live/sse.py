"""Server-Sent Events: the messages of a live room's stream, the stream itself with its keep-alives,
and the ``Last-Event-ID`` a browser resumes from."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request

from app.core.live.events import MAX_EVENT_ID
from app.core.live.hubs import Hub

logger = logging.getLogger("cocreate")

KEEPALIVE_SECONDS = 15.0


KEEPALIVE_MESSAGE = ": keep-alive\n\n"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


_EVENT_ID = re.compile(r"[0-9]{1,19}")


def sse_message(*, event_id: int | None, event: str | None, data: str) -> str:
    """One Server-Sent Event; each line of ``data`` becomes its own ``data:`` line."""
    if event is not None and _LINE_BREAK.search(event):
        raise ValueError("an SSE event name cannot contain a line break")
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    return "\n".join(lines) + "\n\n"


async def sse_stream(
    request: Request,
    messages: AsyncIterator[str],
    *,
    keepalive: float = KEEPALIVE_SECONDS,
    allowed: Callable[[], Awaitable[bool]] | None = None,
    farewell: str = "",
) -> AsyncIterator[str]:
    """The body of a ``text/event-stream`` response: ``messages`` as they come, a comment when idle.

    Before each message and keep-alive it asks ``allowed`` (when given) whether the reader may still
    read the stream; when not, it sends ``farewell`` and ends, and what was waiting is never sent.
    Ends too when the client disconnects, ``messages`` ends or the app's hub closes, and then closes
    ``messages`` (so an ``async with hub.subscribe(...)`` inside it unregisters).
    """
    hub: Hub | None = getattr(request.app.state, "live", None)
    shutdown = asyncio.ensure_future(hub.wait_closed()) if hub is not None else None
    next_message: asyncio.Future | None = None
    try:
        while not await request.is_disconnected():
            if next_message is None:
                next_message = asyncio.ensure_future(anext(messages))
            waiting = {next_message} if shutdown is None else {next_message, shutdown}
            done, _ = await asyncio.wait(waiting, timeout=keepalive, return_when=asyncio.FIRST_COMPLETED)
            if shutdown in done:
                return
            if allowed is not None and not await allowed():
                if farewell:
                    yield farewell
                return
            if next_message not in done:
                yield KEEPALIVE_MESSAGE
                continue
            finished, next_message = next_message, None
            try:
                message = finished.result()
            except StopAsyncIteration:
                return
            yield message
    finally:
        # Cancelling first: it needs no await, so it happens even if this generator is being cancelled.
        unfinished = [task for task in (next_message, shutdown) if task is not None]
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        close_messages = getattr(messages, "aclose", None)
        if close_messages is not None:
            await close_messages()


def parse_last_event_id(request: Request) -> int | None:
    """The id to resume after: the ``Last-Event-ID`` header (an EventSource reconnecting) or a
    ``last_event_id`` query parameter (the page's first connection); None if neither is a valid id."""
    for value in (request.headers.get("last-event-id"), request.query_params.get("last_event_id")):
        if value is not None and _EVENT_ID.fullmatch(value.strip()):
            event_id = int(value.strip())
            if event_id <= MAX_EVENT_ID:
                return event_id
    return None

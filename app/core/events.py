"""Domain events: what happened, raised by the domain it happened in, inside the request's unit of
work, and handled by the domains above it that care (``handles``), in the same transaction, after a
flush. A lower domain never imports a higher one: the ideas service says "an idea was posted", and
notifications, above it, decides who is told.

Handlers are registered when their module is imported; ``app.models`` imports every domain's
handlers, as it imports every table."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession


class Event:
    """The base of every domain event; a frozen dataclass, named for what happened."""


Handler = Callable[[AsyncSession, Event], Awaitable[None]]
_handlers: dict[type, list[Handler]] = defaultdict(list)


def handles(*event_types: type[Event]):
    """Registers the decorated ``async def handler(session, event)`` for these event types."""

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if handler not in _handlers[event_type]:
                _handlers[event_type].append(handler)
        return handler

    return register


async def publish(session: AsyncSession, event: Event) -> None:
    """Flushes what the session has pending, then runs the event's handlers in registration order, in
    the caller's transaction: they are kept or dropped with the act that raised the event."""
    await session.flush()
    for event_type in type(event).__mro__:
        for handler in _handlers.get(event_type, ()):
            await handler(session, event)


@dataclass(frozen=True)
class Notice(Event):
    """Some people are to be told of an act (``kind`` names it: ``comment_reply``, say); the actor is
    never told of their own act. What it is about: a workspace, an idea, a comment, a session."""

    kind: str
    user_ids: Iterable[int]
    actor_id: int | None
    workspace_id: int | None
    idea_id: int | None = None
    comment_id: int | None = None
    session_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_ids", frozenset(self.user_ids))


@dataclass(frozen=True)
class NoticeWithdrawn(Event):
    """The actor took back what others were told of (a request to join): the notices go."""

    kind: str
    actor_id: int
    workspace_id: int

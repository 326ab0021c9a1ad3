"""The live room's stream: each event of a session's channel becomes the HTML its subscribers swap in.

An event is rendered once per process and language (the first subscriber renders, the others await
the same result), so 500 people in a room cost one render per language, not 500. What depends on the
reader (results shown only after they have voted) is decided per subscriber."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from fastapi import Request

from app.accounts import service as account_service
from app.cocreation import permissions
from app.cocreation import service as session_service
from app.cocreation.models import CocreationSession
from app.core import i18n, live
from app.core.db import Mode, unit_of_work
from app.ideas.models import Idea
from app.voting import routes as voting_routes
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage
from app.voting import views as voting_views
from app.voting.models import Ballot, ResultsVisibility
from app.workspaces import permissions as workspace_permissions
from app.workspaces import service as workspace_service
from app.workspaces.deps import WorkspaceContext

RENDER_CACHE_SIZE = 256
# How often an open stream asks again whether its reader may still read the room: a sign-out, a
# disabled account, a workspace made members-only or a membership ended closes it within this time
# (at the next event or keep-alive after it).
RECHECK_SECONDS = 5.0


class RenderCache:
    """Results of recent renders by key; concurrent askers for one key share a single render."""

    def __init__(self, size: int = RENDER_CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, asyncio.Future] = OrderedDict()

    async def get(self, key: tuple, make: Callable[[], Awaitable]) -> object:
        """The render runs as a task of its own, so a reader who leaves (cancelling their stream)
        never leaves the others waiting on a render nobody finishes; a failed render is forgotten."""
        task = self._entries.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self._entries[key] = task
            task.add_done_callback(lambda done: self._forget_failed(key, done))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return await asyncio.shield(task)

    def _forget_failed(self, key: tuple, task: asyncio.Future) -> None:
        if (task.cancelled() or task.exception() is not None) and self._entries.get(key) is task:
            del self._entries[key]


_cache = RenderCache()


def _template(
    request: Request, name: str, block: str | None = None, *, personal: bool = False, **context
) -> str:
    """Renders for the stream. Only a ``personal`` render (never shared) carries the reader's CSRF token;
    forms in shared renders are sent by htmx, which adds the token of the page they land in."""
    env = request.app.state.templates
    template = env.get_template(name)
    token = getattr(request.state, "csrf_token", "") if personal else ""
    context = {"request": request, "csrf_token": token, **context}
    if block is None:
        return template.render(context)
    return "".join(template.blocks[block](template.new_context(context)))


async def _render_now(request: Request, name: str, **context) -> str:
    return _template(request, name, **context)


def closed_message(request: Request) -> str:
    """The last message of a stream whose reader may no longer read the room."""
    return live.sse_message(
        event_id=None, event="closed", data=_template(request, "cocreation/_room_closed.html")
    )


class RoomStream:
    """One subscriber's view of a room: the workspace and session it reads, and whether it voted."""

    def __init__(self, request: Request, *, cs: CocreationSession, context: WorkspaceContext) -> None:
        self.request = request
        self.cs = cs
        self.context = context
        self.workspace = context.workspace
        self.user = context.user
        self.can_take_part = context.can(permissions.can_take_part_live)
        self.voted: set[int] = set()
        self.checked: set[int] = set()
        self.language = i18n.get_language()
        # The sign-in the stream was opened with; None for a reader who is not signed in.
        cookie = request.cookies.get(request.app.state.settings.session_cookie_name)
        self.token = cookie if self.user is not None else None
        self.next_check = time.monotonic() + RECHECK_SECONDS

    async def still_allowed(self) -> bool:
        """Whether the reader may still read the room, asked again at most every RECHECK_SECONDS;
        what they may do there (take part, after a ban) is brought up to date on the way."""
        now = time.monotonic()
        if now < self.next_check:
            return True
        self.next_check = now + RECHECK_SECONDS
        return await self._db(self._recheck)

    async def _recheck(self, session) -> bool:
        user = None
        if self.token is not None:
            settings = self.request.app.state.settings
            loaded = await account_service.check_session(session=session, token=self.token, settings=settings)
            if loaded is None or loaded.user.id != self.user.id:
                return False
            user = loaded.user
        found = await workspace_service.get_with_membership(
            session=session, slug=self.workspace.slug, user=user
        )
        if found is None:
            return False
        workspace, membership = found
        if not workspace_permissions.can_view(user, workspace, membership):
            return False
        cs = await session_service.get(session=session, workspace_id=workspace.id, session_id=self.cs.id)
        if cs is None or not permissions.can_view(user, workspace, membership, cs):
            return False
        self.context = WorkspaceContext(workspace=workspace, membership=membership, user=user)
        self.workspace = workspace
        self.user = user
        self.can_take_part = self.context.can(permissions.can_take_part_live)
        return True

    async def _db(self, work):
        """A read of the room's own, apart from the request (whose unit of work ended when the stream
        started)."""
        async with unit_of_work(self.request.app.state.session_factory, Mode.READ) as session:
            return await work(session)

    async def message(self, event: live.ChannelEvent) -> str | None:
        """The SSE message for this subscriber, or None when the event shows it nothing."""
        kind, data = event.kind, event.data
        if kind == "agenda":
            html = await _cache.get(
                ("agenda", event.id, self.language), lambda: self._render_agenda(data["item_id"])
            )
            return live.sse_message(event_id=event.id, event="agenda", data=html)
        if kind == "idea":
            html = await _cache.get(
                ("idea", event.id, self.language, self.can_take_part),
                lambda: self._render_idea(data["idea_id"]),
            )
            if html is None:
                return live.sse_message(event_id=event.id, event="ping", data="")
            item = data.get("agenda_item_id") or "none"
            return live.sse_message(event_id=event.id, event=f"idea-item-{item}", data=html)
        if kind == "support":
            return live.sse_message(
                event_id=event.id, event=f"support-{data['idea_id']}", data=str(data["count"])
            )
        if kind == "tally":
            return await self._tally(event)
        if kind == "ballot":
            rendered = await self._render_ballot(data["ballot_id"])
            if rendered is None:
                return live.sse_message(event_id=event.id, event="ping", data="")
            ballot, html = rendered
            notice = await _cache.get(
                ("ballot-notice", event.id, self.language),
                lambda: _render_now(self.request, "cocreation/_ballot_notice.html", ballot=ballot),
            )
            # The ballot goes into the list, and the notice that it opened to the top of the room.
            return live.sse_message(event_id=event.id, event="ballot", data=html) + live.sse_message(
                event_id=event.id, event="ballot-notice", data=notice
            )
        if kind == "status":
            html = _template(
                self.request, "cocreation/live.html", "room_status", cs=self.cs, status=data["status"]
            )
            return live.sse_message(event_id=event.id, event="status", data=html)
        return live.sse_message(event_id=event.id, event="ping", data="")

    async def _render_agenda(self, item_id: int) -> str:
        agenda = await self._db(lambda s: session_service.agenda_of(session=s, session_id=self.cs.id))
        return _template(
            self.request, "cocreation/live.html", "room_agenda", agenda=agenda, current_item_id=item_id
        )

    async def _render_ballot(self, ballot_id: int) -> tuple[Ballot, str] | None:
        """A ballot opened during the session, with this reader's form (eligibility, their CSRF token):
        rendered for each reader, which is fine for an event this rare."""
        settings = self.request.app.state.settings

        async def load(session):
            ballot = await session.get(Ballot, ballot_id)
            if ballot is None or ballot.session_id != self.cs.id:
                return None
            return await voting_routes.ballot_context(session, settings, self.context, ballot)

        page = await self._db(load)
        if page is None:
            return None
        html = _template(
            self.request, "cocreation/_room_ballot.html", personal=True, page=page, workspace=self.workspace
        )
        return page["ballot"], html

    async def _render_idea(self, idea_id: int) -> str | None:
        idea = await self._db(lambda s: s.get(Idea, idea_id))
        if idea is None or idea.workspace_id != self.workspace.id or idea.hidden_at is not None:
            return None
        return _template(
            self.request,
            "cocreation/_board_idea.html",
            idea=idea,
            workspace=self.workspace,
            cs=self.cs,
            can_take_part=self.can_take_part,
        )

    async def _has_voted(self, ballot: Ballot) -> bool:
        if self.user is None:
            return False
        secret_key = self.request.app.state.settings.voting_key
        vote = await self._db(
            lambda s: voting_storage.my_vote(session=s, ballot=ballot, user=self.user, secret_key=secret_key)
        )
        return vote is not None

    async def _tally(self, event: live.ChannelEvent) -> str | None:
        ballot_id = event.data["ballot_id"]

        async def load(session):
            ballot = await session.get(Ballot, ballot_id)
            options = await voting_storage.options_of(session=session, ballot_id=ballot_id)
            view = await voting_views.results(session=session, ballot=ballot, options=options)
            return ballot, view

        ballot, view = await _cache.get(("tally", event.id), lambda: self._db(load))
        waiting_for_vote = (
            ballot.results_visibility == ResultsVisibility.AFTER_VOTE and ballot_id not in self.voted
        )
        if waiting_for_vote and self.user is not None:
            # The vote's event names its voter by key; the database is asked once per ballot, for
            # papers cast before this stream began.
            secret_key = self.request.app.state.settings.voting_key
            mine = voting_rules.voter_key(secret_key=secret_key, ballot_id=ballot_id, user_id=self.user.id)
            if event.data.get("voter_key") == mine:
                self.voted.add(ballot_id)
            elif ballot_id not in self.checked:
                self.checked.add(ballot_id)
                if await self._has_voted(ballot):
                    self.voted.add(ballot_id)
        if not voting_rules.can_see_results(ballot, has_voted=ballot_id in self.voted):
            return live.sse_message(event_id=event.id, event="ping", data="")
        closed = ballot.state(voting_service.now()) == "closed"

        async def render_results() -> str:
            return _template(self.request, "voting/_results.html", results=view, closed=closed)

        # Rendered once per event, language and state, by whichever reader asks first.
        html = await _cache.get(("tally-html", event.id, self.language, closed), render_results)
        return live.sse_message(event_id=event.id, event=f"tally-{ballot_id}", data=html)

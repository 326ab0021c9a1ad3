"""The vote API's short way in, for the moment a whole room votes at once.

``VoteIntake`` sits in the middleware stack after the security headers and the body size limit, and
before the sign-in and the language are settled, and takes the common vote itself: ``POST
/api/v1/ballots/<id>/vote`` by a signed-in user, as an urlencoded form with the session's CSRF token, on
a workspace's ballot, on PostgreSQL. It answers as the route in ``app.voting.api`` does (201 or 200 with
``{"first": ...}``, or 403 or 422 with ``{"detail": message}``), by the same rules: the sign-in checks of
``app.accounts.service`` (``live_session``), the CSRF token of ``app.core.security``, the language of
``app.core.i18n``, the rate limit of ``app.core.ratelimit`` and the ballot's rules in
``app.voting.permissions`` and ``app.voting.service``. What it leaves out is FastAPI's routing and
dependencies, and the ORM: its
two statements (the sign-in, the ballot and the voter's standing in one; the paper in the other) run
on asyncpg (``app.core.db.DriverQuery``). A vote costs about half the CPU it costs through the route.

Everything else goes on down the stack to the route, with the body it read handed on: SQLite, no
session cookie, a session that is not live (the sign-in middleware clears its cookie), a missing or
wrong CSRF token, a NUL character, another content type, a rate limit reached, a ballot that does not
exist or may not be seen, and a session's ballot (its vote raises a live event in the same
transaction). Those answers are the route's own, so they cannot drift apart."""

import json
import re
from urllib.parse import parse_qsl

from starlette.datastructures import FormData, Headers
from starlette.requests import ClientDisconnect, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.accounts import service as account_service
from app.core import i18n, ratelimit
from app.core.config import Settings
from app.core.db import SessionFactory, bind_of, driver, runs_on_driver
from app.core.security import CSRF_FIELD, CSRF_HEADER, BodyTooLarge, csrf_matches, csrf_token_for
from app.voting import permissions
from app.voting import rules as voting_rules
from app.voting import service as voting_service
from app.voting import storage as voting_storage

VOTE_PATH = re.compile(r"/api/v1/ballots/([1-9][0-9]{0,9})/vote")
ROW_ID_MAX = 2_147_483_647  # app.core.deps.RowId
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # Starlette's form parser's limits
MAX_FIELD_BYTES = 1024 * 1024


class VoteIntake:
    def __init__(self, app: ASGIApp, settings: Settings, session_factory: SessionFactory) -> None:
        self.app = app
        self.settings = settings
        self.bind = bind_of(session_factory)
        self.enabled = runs_on_driver(self.bind)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        found = VOTE_PATH.fullmatch(scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = cookie_parser(headers.get("cookie", "")).get(self.settings.session_cookie_name)
        if (
            int(found[1]) > ROW_ID_MAX
            or not token
            or scope.get("query_string")
            or headers.get("content-type", "").partition(";")[0].strip().lower() != FORM_TYPE
        ):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive)
        except BodyTooLarge:
            await self.app(scope, too_large, send)  # the route reads the body and the error page says 413
            return
        except ClientDisconnect:
            return  # gone before the whole form arrived: nothing to store, no one to answer
        answer = await self.vote(scope, headers, token, int(found[1]), body)
        if answer is None:
            await self.app(scope, replay(body, receive), send)
            return
        status, content = answer
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def vote(
        self, scope: Scope, headers: Headers, token: str, ballot_id: int, body: bytes
    ) -> tuple[int, bytes] | None:
        """The answer's status and JSON body, or None to leave the request to the rest of the stack."""
        if len(body) > MAX_FIELD_BYTES:
            return None  # no vote is this long; the route's form parser says what is wrong
        try:
            fields = parse_qsl(
                body.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_FIELDS, encoding="utf-8"
            )
        except ValueError:
            return None
        if any("\x00" in key or "\x00" in value for key, value in fields):
            return None
        form = FormData(fields)
        sent = headers.get(CSRF_HEADER)
        if sent is None:  # as app.core.security.verify_csrf: the header when there is one, else the field
            sent = form.get(CSRF_FIELD)
        if not csrf_matches(csrf_token_for(self.settings.secret_key, token), sent):
            return None
        async with driver(self.bind) as connection:
            found = await voting_storage.driver_standing(
                connection=connection, token=token, ballot_id=ballot_id
            )
            if found is None:
                return None
            loaded = account_service.live_session(found.auth_session, found.user, settings=self.settings)
            if loaded is None:
                return None
            await account_service.driver_touch(connection=connection, loaded=loaded)
            user, ballot, standing = found.user, found.ballot, found.standing
            if ballot is None or ballot.session_id is not None or not permissions.can_see(user, standing):
                return None
            address = scope["client"][0] if scope.get("client") else "unknown"  # app.core.deps.client_address
            try:
                scope["app"].state.local_limits.enforce(
                    action="vote", limit=self.settings.limits["vote"], user_id=user.id, address=address
                )
            except ratelimit.RateLimited:
                return None  # the route counts again, refuses and says when to come back
            i18n.settle(scope, user)
            try:
                first = await voting_service.driver_cast(
                    connection=connection,
                    ballot=ballot,
                    option_ids=found.option_ids,
                    user=user,
                    member=permissions.can_vote_here(user, standing.workspace, standing.membership),
                    form=form,
                    secret_key=self.settings.voting_key,
                )
            except voting_rules.VoteRefused as error:
                return 403 if error.forbidden else 422, json_bytes({"detail": error.message})
        return (201, b'{"first":true}') if first else (200, b'{"first":false}')


async def read_body(receive: Receive) -> bytes:
    """The whole request body (its size is bounded by ``app.core.security.BodySizeLimitMiddleware``);
    ClientDisconnect when the client goes before it is all there."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def too_large() -> Message:
    raise BodyTooLarge


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then what the client sends next (a disconnect)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def json_bytes(content: dict) -> bytes:
    """As Starlette's JSONResponse renders it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()

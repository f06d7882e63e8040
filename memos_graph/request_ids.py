"""Request ids: taken from a sane `X-Request-ID` or made up, set for the request's log lines, sent back.

`RequestIds` wraps an ASGI app (the GraphQL app, the MCP streamable-HTTP app) outermost, so that every answer
carries the header: refusals, 404s and the 500 of an unhandled error included, and a WebSocket's handshake.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memos_graph.logs import REQUEST_ID

HEADER = b"x-request-id"
MAX_LENGTH = 128
# What a proxy or client usually sends (UUIDs, hex, base64url, dotted or colon-separated trace ids): nothing
# that could forge a log line or a header (no spaces, quotes, control characters), at most MAX_LENGTH long.
_SAFE = re.compile(rf"[A-Za-z0-9._:/+=-]{{1,{MAX_LENGTH}}}")
# Messages that start a response: an HTTP one, a WebSocket's handshake accepted, or refused with an HTTP answer.
_STARTS = ("http.response.start", "websocket.accept", "websocket.http.response.start")


def new_request_id() -> str:
    """A fresh id: 32 hex digits."""
    return uuid.uuid4().hex


def accepted_request_id(given: bytes | None) -> str | None:
    """The client's X-Request-ID if it is sane (ASCII, safe characters, at most MAX_LENGTH), else None."""
    if given is None or len(given) > MAX_LENGTH:
        return None
    text = given.decode("latin-1")
    return text if _SAFE.fullmatch(text) else None


def _given(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name.lower() == HEADER:
            return bytes(value)
    return None


class RequestIds:
    """ASGI middleware: each HTTP request and WebSocket connection gets an id, in REQUEST_ID while it runs (so
    in its log lines) and in the X-Request-ID header of its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        request_id = accepted_request_id(_given(scope)) or new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] in _STARTS:
                kept = [(name, value) for name, value in message.get("headers", []) if name.lower() != HEADER]
                message = {**message, "headers": [*kept, header]}
            await send(message)

        token = REQUEST_ID.set(request_id)
        await self.app(scope, receive, send_with_id)
        # Reset only after a normal return: when the app raises, the server's own report of the error (logged
        # after this returns, in the request's task) should carry the id too. The server runs each request in
        # a task of its own, so the value set there goes no further.
        REQUEST_ID.reset(token)

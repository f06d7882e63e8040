"""The MCP server over streamable HTTP: each request is its API key's user, as GraphQL has it.

`Authorization: Bearer <key>` is checked before the MCP layer sees the request (the key cache of
memos_graph.services.identity first, then Neo4j off the event loop within the call deadline); no key, a
wrong one or a revoked one gets HTTP 401 and nothing runs. Failed keys are budgeted per client address
(services/auth_throttle.py): once an address spent its budget, it gets HTTP 429 with Retry-After before
any lookup. The caller is taken from each request, never
from the MCP session, so a session id presented with another key acts as that key's user.

Plain HTTP: keys travel in clear. Bind it to 127.0.0.1 (the default) or put it behind a TLS-terminating
proxy when it must be reached from elsewhere.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context
from starlette.types import ASGIApp, Receive, Scope, Send

from memos_graph import metrics
from memos_graph.domain import User
from memos_graph.errors import (
    AccessDenied,
    BackendUnavailable,
    MemosError,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from memos_graph.logs import configure_logging
from memos_graph.mcp_server.calls import Caller
from memos_graph.mcp_server.server import build_server
from memos_graph.request_ids import RequestIds
from memos_graph.services.auth_throttle import FailedAuthThrottle, KeyCheck
from memos_graph.services.chat import start_chat_warm_up
from memos_graph.services.identity import bearer_token
from memos_graph.services.metrics_access import authorize_scrape
from memos_graph.services.wiring import Services
from memos_graph.tracing import instrument_asgi

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
MCP_PATH = "/mcp"
METRICS_PATH = "/metrics"
_CALLER = "memos_caller"


def bearer_key(scope: Scope) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, if the request has one."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            return bearer_token(value.decode("latin-1"))
    return None


class ApiKeyGate:
    """ASGI middleware: every HTTP request needs a valid API key; its user rides in the request's state."""

    def __init__(self, app: ASGIApp, services: Services, throttle: FailedAuthThrottle | None = None) -> None:
        self.app = app
        self.services = services
        if throttle is None:
            throttle = FailedAuthThrottle.of(services.runtime.config.limits)
        self.key_check = KeyCheck(lambda: services, throttle)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).startswith("/.well-known/"):
            # OAuth-aware clients look for an authorization server here after a 401; there is none, and a 404
            # (not another 401) tells them so: the key goes in the Authorization header.
            await _answer(send, 404, NotFound.code, NO_OAUTH, [])
            return
        client = scope.get("client")
        key = bearer_key(scope)
        if scope.get("path") == METRICS_PATH:
            await self._metrics(send, key, str(client[0]) if client else None)
            return
        try:
            # A key looked up within limits.api_key_cache_s is answered without a thread or Neo4j.
            caller = await self.key_check.authenticate(key, str(client[0]) if client else None)
        except MemosError as exc:
            await _refuse(send, exc, key is not None)
            return
        scope.setdefault("state", {})[_CALLER] = caller
        await self.app(scope, receive, send)

    async def _metrics(self, send: Send, token: str | None, address: str | None) -> None:
        """The process's metrics for the scrape token or a ROOT/ADMIN key (they name user ids); else 401/403/429."""
        try:
            await authorize_scrape(self.key_check, self.services.runtime.config.metrics, token, address)
        except AccessDenied as exc:
            await _answer(send, 403, exc.code, exc.message, [])
            return
        except MemosError as exc:
            await _refuse(send, exc, token is not None)
            return
        body, media_type = metrics.exposition()
        headers = [
            (b"content-type", media_type.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


NO_OAUTH = "this server has no OAuth: send the API key as Authorization: Bearer <key>"


async def _refuse(send: Send, error: MemosError, key_given: bool = True) -> None:
    """429 (Retry-After) for an address out of failed-key budget, 503 when Neo4j could not say, else 401. A 401
    says which (RFC 6750): invalid_token for a key that did not check out, invalid_request for none."""
    status = 429 if isinstance(error, TooManyAttempts) else 503 if isinstance(error, BackendUnavailable) else 401
    headers: list[tuple[bytes, bytes]] = []
    if isinstance(error, TooManyAttempts):
        headers += [(b"retry-after", str(error.retry_after_s).encode()), (b"www-authenticate", b"Bearer")]
    elif status == 401:
        reason = "invalid_token" if key_given else "invalid_request"
        described = error.message.replace("\\", "").replace('"', "'")
        challenge = f'Bearer error="{reason}", error_description="{described}"'
        headers.append((b"www-authenticate", challenge.encode("latin-1", "replace")))
    await _answer(send, status, error.code, error.message, headers)


async def _answer(send: Send, status: int, code: str, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_caller(ctx: Context[Any, Any]) -> User:
    """The user ApiKeyGate authenticated for the HTTP request this tool call came in."""
    request = ctx.request_context.request
    state = getattr(request, "scope", {}).get("state", {})
    caller = state.get(_CALLER) if isinstance(state, dict) else None
    if not isinstance(caller, User):
        raise Unauthenticated("a valid API key is required (Authorization: Bearer <key>)")
    return caller


def create_http_app(
    services: Services, host: str = DEFAULT_HOST, auth_throttle: FailedAuthThrottle | None = None
) -> ASGIApp:
    """The ASGI app: streamable HTTP at /mcp, stateless (each request stands alone), behind ApiKeyGate; every
    answer carries X-Request-ID, and traces wrap it when the environment asks for them.

    `host` is where it will listen: on loopback the SDK also refuses requests whose Host or Origin header
    is not loopback (DNS rebinding). `auth_throttle`: the failed-key budget to use (tests drive its clock;
    by default one made from the configured limits).
    """

    def identify(ctx: Context[Any, Any]) -> Caller:
        user = request_caller(ctx)  # the gate read it already
        return Caller(user.user_id, lambda: user)

    server = build_server(services, identify, shared=True)
    app = server.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True, json_response=True, host=host)
    # The request id outermost but for the trace's server span: refusals of the key gate carry it too.
    return instrument_asgi(RequestIds(ApiKeyGate(app, services, auth_throttle)))


def serve_http(services: Services, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve streamable HTTP with uvicorn until interrupted. Behind TLS whenever it is not on loopback."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving MCP on %s: API keys travel in clear unless a TLS proxy sits in front", host)
    app = create_http_app(services, host)
    start_chat_warm_up(services.runtime.config)  # the chat tool's first call would wait for litellm's imports
    shown = f"[{host}]" if ":" in host else host
    print(
        f"MCP (streamable HTTP) on http://{shown}:{port}{MCP_PATH}; send Authorization: Bearer <API key>",
        file=sys.stderr,
        flush=True,
    )
    # The command's level (warnings, or everything under --debug), in the configured format; uvicorn's own
    # lines go through the same handler (log_config=None), with the request id.
    configure_logging(services.runtime.config.logs.format, logging.getLogger().level)
    uvicorn.run(app, host=host, port=port, log_level="warning", log_config=None)

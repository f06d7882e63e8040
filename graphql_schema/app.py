"""The ASGI app: /graphql (GraphiQL on GET), /healthz, /explorer; API-key authentication and a request size limit."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from graphql import GraphQLError, get_operation_ast, parse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graphql_schema.assets import installed_node_modules
from graphql_schema.context import Context
from graphql_schema.explorer import explorer_routes
from graphql_schema.graphiql import graphiql_page
from graphql_schema.media import (
    GRAPHQL_RESPONSE_JSON,
    content_type,
    is_request_error,
    response_media_type,
    without_data,
)
from graphql_schema.refusals import RefusedDocuments
from graphql_schema.schema import schema
from graphql_schema.websocket import SubscriptionEndpoint
from memos_graph import metrics
from memos_graph.config import MOSConfig
from memos_graph.errors import AccessDenied, BackendUnavailable, MemosError, RateLimited, TooManyAttempts
from memos_graph.request_ids import RequestIds
from memos_graph.services.auth_throttle import FailedAuthThrottle, KeyCheck
from memos_graph.services.bundle import Services
from memos_graph.services.chat import start_chat_warm_up
from memos_graph.services.container import Started, start_services
from memos_graph.services.identity import bearer_token
from memos_graph.services.metrics_access import authorize_scrape
from memos_graph.services.runtime import Runtime
from memos_graph.tracing import instrument_asgi
from memos_graph.workers import WorkerPool, within_deadline

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
ASSETS_URL = "/graphiql-assets"
# https://unpkg.com/<package>@<version>/<path>: the package (scoped or not) and the path inside it.
_UNPKG = re.compile(r"https://unpkg\.com/((?:@[^/@]+/)?[^/@]+)@[^/]+/([^\"']+)")


MAX_JSON_DEPTH = 64
_UNPARSED = object()
# Sent with every response: no page of this server (GraphiQL included) may be framed by another site.
SECURITY_HEADERS = ((b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"))


def _json_problem(text: str, what: str) -> tuple[str | None, object]:
    """Why JSON that strawberry would parse itself crashes it (too deep, an integer too long), or None; and
    the parsed value (None when it does not parse)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None, _UNPARSED  # strawberry answers 400 itself
    except RecursionError:
        return f"{what} nests deeper than {MAX_JSON_DEPTH} levels", None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return f"{what} is not acceptable JSON: {exc}", None
    if _depth(data) > MAX_JSON_DEPTH:
        return f"{what} nests deeper than {MAX_JSON_DEPTH} levels", None
    return None, data


def _depth(value: object) -> int:
    """How deeply lists and objects nest in parsed JSON (iterative: no recursion to run out of)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _body_problem(request: Request, body: bytes) -> str | None:
    """Why strawberry could not take this request (it answers 500 to these), or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not UTF-8"
    variables = request.query_params.get("variables")
    if request.method == "GET" and variables:
        return _json_problem(variables, "the variables parameter")[0]
    if request.method == "POST" and "json" in request.headers.get("content-type", "") and text.strip():
        problem, data = _json_problem(text, "the request body")
        if problem is not None:
            return problem
        if data is not _UNPARSED and not isinstance(data, dict):
            return "the request body must be a JSON object with a query"
    return None


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response (X-Frame-Options, CSP frame-ancestors)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [header for header in SECURITY_HEADERS if header[0] not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, media_type: str | None = None
) -> Response:
    """A GraphQL-shaped error body with an HTTP status, for refusals before GraphQL runs (in the media type
    the request negotiated: application/graphql-response+json has no `data` for a request refused)."""
    body: dict[str, object] = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    if media_type == GRAPHQL_RESPONSE_JSON:
        return JSONResponse(without_data(body), status, headers, media_type=content_type(GRAPHQL_RESPONSE_JSON))
    return JSONResponse(body, status_code=status, headers=headers)


class MemosGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view whose context carries the caller the endpoint authenticated.

    GraphiQL's page loads React and GraphiQL from unpkg; where the project installed those npm packages
    (scripts/setup.sh, into MEMOS_GRAPHIQL_ASSETS) the page loads them from this server instead, so
    GraphiQL works without internet access.
    """

    def __init__(
        self,
        services_of: Any,
        assets_url: str | None = None,
        pool_of: Any = None,
        refused: RefusedDocuments | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self._services_of = services_of
        self._refused = refused
        self._assets_url = assets_url
        self._pool_of = pool_of
        html = super().graphql_ide_html
        if assets_url is not None:
            html = _UNPKG.sub(lambda m: f"{assets_url}/{m.group(1)}/{m.group(2)}", html)
        self._page, self._page_headers = graphiql_page(html, from_unpkg=assets_url is None)

    @property
    def graphql_ide_html(self) -> str:
        return self._page

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self._page, headers=self._page_headers)

    async def get_context(self, request: Request | Any, response: Response | Any) -> Context:
        pool = None if self._pool_of is None else self._pool_of()
        return Context(services=self._services_of(), caller=request.scope["state"]["caller"], pool=pool)

    # GraphQL over HTTP: the media type follows the request's Accept header (graphql_schema/media.py). The
    # sub-response strawberry makes per request carries it to create_response, which has no request.
    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        if is_request_error(result.data, result.errors):
            state = request.scope.get("state", {})
            if self._refused is not None and "caller" in state:  # refused before execution: its size is spent
                self._refused.charge(state["caller"].user_id, state.get("document_bytes", 0))
            if response_media_type(request.headers.get("accept")) == GRAPHQL_RESPONSE_JSON:
                processed.pop("data", None)  # nothing executed: the response has no data entry
        return processed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE_JSON:
            response.headers["content-type"] = content_type(GRAPHQL_RESPONSE_JSON)
            if sub_response.status_code is None and isinstance(response_data, dict) and "data" not in response_data:
                response.status_code = 400
        return response


class GraphQLEndpoint:
    """Serves GraphiQL to anyone; every operation needs `Authorization: Bearer <API key>`."""

    def __init__(
        self, holder: ServiceHolder, max_body_bytes: int = MAX_BODY_BYTES, assets_url: str | None = None
    ) -> None:
        self._holder = holder
        self._max_body = max_body_bytes
        self._graphql = MemosGraphQL(holder.get, assets_url, holder.pool, holder.refused)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "GET" and "query" not in request.query_params:
            page = await self._graphql.render_graphql_ide(request)  # GraphiQL itself needs no key
            await page(scope, receive, send)
            return
        media_type = response_media_type(request.headers.get("accept"))
        if request.method == "GET":
            operation = _operation_type(
                request.query_params.get("query", ""), request.query_params.get("operationName")
            )
            if operation == "subscription":
                await error_response(405, "METHOD_NOT_ALLOWED", SUBSCRIPTION_OVER_HTTP, None, media_type)(
                    scope, receive, send
                )
                return
            if operation not in (None, "query"):
                # GraphQL over HTTP: GET runs queries only; anything else is 405 with the method it needs.
                await error_response(
                    405,
                    "METHOD_NOT_ALLOWED",
                    "a GET request runs queries only; send mutations by POST",
                    {"Allow": "POST"},
                    media_type,
                )(scope, receive, send)
                return
        body = await self._read_body(request)
        if body is None:
            await error_response(
                413, "PAYLOAD_TOO_LARGE", f"request body over {self._max_body} bytes", media_type=media_type
            )(scope, receive, send)
            return
        problem = _body_problem(request, body)
        if problem is not None:
            await error_response(400, "BAD_REQUEST", problem, media_type=media_type)(scope, receive, send)
            return
        try:
            key = bearer_token(request.headers.get("authorization"))
            # A key looked up within limits.api_key_cache_s is answered without a thread or Neo4j; failed keys
            # are budgeted per client address (429 once spent, before any lookup).
            caller = await self._holder.key_check.authenticate(key, client_address(scope))
        except MemosError as exc:
            await auth_refusal(exc, media_type)(scope, receive, send)
            return
        size = len(body) if request.method == "POST" else len(request.url.query)
        try:  # a caller whose refused documents spent its budget is refused before its text is parsed
            self._holder.refused.check(caller.user_id, size)
        except RateLimited as exc:
            retry = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s else None
            await error_response(429, exc.code, exc.message, retry, media_type)(scope, receive, send)
            return
        if request.method == "POST" and _posts_subscription(body):
            # Strawberry would answer a masked internal error: subscriptions stream, and only over WebSocket.
            await error_response(405, "METHOD_NOT_ALLOWED", SUBSCRIPTION_OVER_HTTP, None, media_type)(
                scope, receive, send
            )
            return
        state = scope.setdefault("state", {})
        state["caller"] = caller
        state["document_bytes"] = size
        await self._graphql(scope, _replay(body), send)

    async def _read_body(self, request: Request) -> bytes | None:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


def client_address(scope: Scope) -> str | None:
    """The client's address as the ASGI server reports it (behind a proxy: the proxy's, unless the server
    trusts its forwarded headers)."""
    client = scope.get("client")
    return str(client[0]) if client else None


def auth_refusal(error: MemosError, media_type: str | None) -> Response:
    """The answer to a request whose key did not check out: 429 with Retry-After when the client address
    spent its budget of failed keys, 503 when Neo4j could not say, else 401."""
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after_s), "WWW-Authenticate": "Bearer"}
        return error_response(429, error.code, error.message, headers, media_type)
    status = 503 if isinstance(error, BackendUnavailable) else 401
    return error_response(status, error.code, error.message, {"WWW-Authenticate": "Bearer"}, media_type)


SUBSCRIPTION_OVER_HTTP = (
    "subscriptions run over WebSocket (the graphql-transport-ws protocol) at /graphql, the API key in "
    "connection_init; in GraphiQL, give the subscription a name"
)


def _operation_type(query: object, operation_name: object) -> str | None:
    """The type (query, mutation, subscription) of the operation a request names; None when it does not parse
    or names none (GraphQL's own validation answers those)."""
    if not isinstance(query, str) or (operation_name is not None and not isinstance(operation_name, str)):
        return None
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    return None if operation is None else operation.operation.value


def _posts_subscription(body: bytes) -> bool:
    """Whether a POSTed JSON body's operation is a subscription (parsed only when the word is in it)."""
    if b"subscription" not in body:
        return False
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    return _operation_type(payload.get("query"), payload.get("operationName")) == "subscription"


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class ServiceHolder:
    """The services, created at start-up (schema applied, model loaded once) and closed at shutdown."""

    def __init__(
        self,
        config: MOSConfig | None,
        runtime: Runtime | None,
        throttle: FailedAuthThrottle | None = None,
        refused: RefusedDocuments | None = None,
    ) -> None:
        self._config = config
        self._runtime = runtime
        self._started: Started | None = None
        self._pool: WorkerPool | None = None
        limits = (runtime.config if runtime is not None else config or MOSConfig.load()).limits
        # One budget of failed keys per client address for the whole app: HTTP and WebSocket alike.
        self.key_check = KeyCheck(self.get, FailedAuthThrottle.of(limits) if throttle is None else throttle)
        # One budget of refused documents per caller for the whole app, HTTP and WebSocket alike.
        self.refused = RefusedDocuments.of(limits) if refused is None else refused

    def pool(self) -> WorkerPool | None:
        """The worker pool resolvers run their service calls on (made at start-up)."""
        return self._pool

    def get(self) -> Services:
        """The running services; BackendUnavailable before start-up finished."""
        if self._started is None:
            raise BackendUnavailable("the service is starting")
        return self._started.services

    def start(self) -> None:
        """Connect, apply the schema, load the embedder, make sure the root user and its key exist."""
        started = start_services(self._config or MOSConfig.load(), self._runtime, served=True)
        limits = started.runtime.config.limits
        self._pool = WorkerPool(
            limits.max_worker_threads, limits.max_workers_per_caller, limits.max_light_worker_threads
        )
        self._started = started

    def stop(self) -> None:
        """Close the driver if this holder opened it."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._started is not None:
            self._started.close()
        self._started = None


def create_app(
    config: MOSConfig | None = None,
    runtime: Runtime | None = None,
    auth_throttle: FailedAuthThrottle | None = None,
    refused_documents: RefusedDocuments | None = None,
) -> ASGIApp:
    """The ASGI application; pass a runtime to share one (tests), or a config (or nothing: file + env), and a
    throttle of failed API keys or a budget of refused documents to drive their clocks (tests; by default
    made from config.limits). Every answer carries X-Request-ID (memos_graph.request_ids); with traces asked
    for by the environment, the app is wrapped in OpenTelemetry's ASGI middleware (memos_graph.tracing)."""
    config = runtime.config if runtime is not None else (config or MOSConfig.load())
    holder = ServiceHolder(config, runtime, auth_throttle, refused_documents)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The chat model's client warms up beside the rest of start-up (the first chatStream waited ~10 s).
        app.state.chat_warm_up = start_chat_warm_up(config)
        await asyncio.to_thread(holder.start)
        # What start-up made (the model, torch, the schema) lives as long as the process: moved out of the
        # collector's generations, a full collection no longer walks it, and its pauses on the event loop
        # shrink (one was 0.1 s here, about 43 ms frozen; measured by bench_diamond's slowest refusals).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await asyncio.to_thread(holder.stop)

    async def healthz(_: Request) -> Response:
        try:
            services = holder.get()
            deadline = services.runtime.config.neo4j.call_deadline_s
            await within_deadline(services.health.check, deadline)
        except MemosError as exc:
            return JSONResponse({"status": "unavailable", "neo4j": exc.message}, status_code=503)
        return JSONResponse({"status": "ok", "neo4j": "up"})

    async def metrics_page(request: Request) -> Response:
        # The scrape token or a ROOT/ADMIN key (services/metrics_access.py): the metrics name user ids.
        try:
            token = bearer_token(request.headers.get("authorization"))
            await authorize_scrape(holder.key_check, config.metrics, token, client_address(request.scope))
        except AccessDenied as exc:
            return error_response(403, exc.code, exc.message)
        except MemosError as exc:
            return auth_refusal(exc, None)
        body, media_type = metrics.exposition()
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-store"})

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
    ]
    assets = graphiql_assets_dir()
    if assets is not None:
        routes.append(Mount(ASSETS_URL, app=StaticFiles(directory=assets), name="graphiql-assets"))
    endpoint = GraphQLEndpoint(holder, assets_url=ASSETS_URL if assets is not None else None)
    routes.append(Route("/graphql", endpoint, methods=["GET", "POST"]))
    # Subscriptions: graphql-transport-ws on the same path, the key in connection_init (graphql_schema.websocket).
    routes.append(
        WebSocketRoute(
            "/graphql",
            SubscriptionEndpoint(holder.get, holder.pool, holder.key_check, config.http.cors_origins, holder.refused),
        )
    )
    routes.extend(explorer_routes())  # the memory explorer page, a client of /graphql like any other
    # CORS outermost, so that refusals (401, 413, ...) carry its headers too and a page can read them. With
    # no origins configured every cross-origin preflight is refused and no answer carries an allow header.
    cors = Middleware(
        CORSMiddleware,
        allow_origins=list(config.http.cors_origins),
        allow_methods=["GET", "POST"],
        # X-Request-ID both ways: a page may send its own id and read the one the answer carries (request_ids.py).
        allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-ID"],
        expose_headers=["X-Request-ID"],
        max_age=config.http.cors_max_age_s,
    )
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[cors, Middleware(SecurityHeaders)])
    # Outside Starlette, so that its 500 for an unhandled error carries the request id too; the trace's server
    # span (when traces are on) outside that, covering all of it.
    return instrument_asgi(RequestIds(app))


def graphiql_assets_dir() -> Path | None:
    """node_modules holding GraphiQL and React (MEMOS_GRAPHIQL_ASSETS, else where setup.sh puts them); without
    it GraphiQL loads its scripts from unpkg."""
    return installed_node_modules("MEMOS_GRAPHIQL_ASSETS", "graphiql-assets", "graphiql")

"""The ASGI app: /graphql (GraphiQL on GET), /healthz; API-key authentication and a request size limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from graphql_schema.context import Context, within_deadline
from graphql_schema.schema import schema
from memos_graph.config import MOSConfig
from memos_graph.errors import BackendUnavailable, MemosError
from memos_graph.services.bundle import Services
from memos_graph.services.runtime import Runtime

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
ASSETS_URL = "/graphiql-assets"
# https://unpkg.com/<package>@<version>/<path>: the package (scoped or not) and the path inside it.
_UNPKG = re.compile(r"https://unpkg\.com/((?:@[^/@]+/)?[^/@]+)@[^/]+/([^\"']+)")


def _body_problem(request: Request, body: bytes) -> str | None:
    """Why strawberry could not take this body (it answers 500 to these), or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not UTF-8"
    if request.method == "POST" and "json" in request.headers.get("content-type", "") and text.strip():
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return None  # strawberry answers 400 itself
        if not isinstance(data, dict):
            return "the request body must be a JSON object with a query"
    return None


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A GraphQL-shaped error body with an HTTP status, for refusals before GraphQL runs."""
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


class MemosGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view whose context carries the caller the endpoint authenticated.

    GraphiQL's page loads React and GraphiQL from unpkg; where the project installed those npm packages
    (scripts/setup.sh, into MEMOS_GRAPHIQL_ASSETS) the page loads them from this server instead, so
    GraphiQL works without internet access.
    """

    def __init__(self, services_of: Any, assets_url: str | None = None) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self._services_of = services_of
        self._assets_url = assets_url

    @property
    def graphql_ide_html(self) -> str:
        html = super().graphql_ide_html
        if self._assets_url is None:
            return html
        return _UNPKG.sub(lambda m: f"{self._assets_url}/{m.group(1)}/{m.group(2)}", html)

    async def get_context(self, request: Request | Any, response: Response | Any) -> Context:
        return Context(services=self._services_of(), caller=request.scope["state"]["caller"])


class GraphQLEndpoint:
    """Serves GraphiQL to anyone; every operation needs `Authorization: Bearer <API key>`."""

    def __init__(
        self, holder: ServiceHolder, max_body_bytes: int = MAX_BODY_BYTES, assets_url: str | None = None
    ) -> None:
        self._holder = holder
        self._max_body = max_body_bytes
        self._graphql = MemosGraphQL(holder.get, assets_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "GET" and "query" not in request.query_params:
            page = await self._graphql.render_graphql_ide(request)  # GraphiQL itself needs no key
            await page(scope, receive, send)
            return
        body = await self._read_body(request)
        if body is None:
            await error_response(413, "PAYLOAD_TOO_LARGE", f"request body over {self._max_body} bytes")(
                scope, receive, send
            )
            return
        problem = _body_problem(request, body)
        if problem is not None:
            await error_response(400, "BAD_REQUEST", problem)(scope, receive, send)
            return
        try:
            services = self._holder.get()
            key = _bearer(request)
            caller = await within_deadline(
                lambda: services.identity.authenticate(key), services.runtime.config.neo4j.call_deadline_s
            )
        except MemosError as exc:
            status = 503 if isinstance(exc, BackendUnavailable) else 401
            await error_response(status, exc.code, exc.message, {"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        scope.setdefault("state", {})["caller"] = caller
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


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


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

    def __init__(self, config: MOSConfig | None, runtime: Runtime | None) -> None:
        self._config = config
        self._runtime = runtime
        self._services: Services | None = None
        self._owns_runtime = runtime is None

    def get(self) -> Services:
        """The running services; BackendUnavailable before start-up finished."""
        if self._services is None:
            raise BackendUnavailable("the service is starting")
        return self._services

    def start(self) -> None:
        """Connect, apply the schema, load the embedder, make sure the root user and its key exist."""
        runtime = self._runtime or Runtime.start(self._config or MOSConfig.load())
        services = Services.over(runtime)
        config = runtime.config
        services.users.bootstrap(config.user_id, config.user_name, config.root_api_key)
        self._runtime, self._services = runtime, services

    def stop(self) -> None:
        """Close the driver if this holder opened it."""
        if self._owns_runtime and self._runtime is not None:
            self._runtime.close()
        self._services = None


def create_app(config: MOSConfig | None = None, runtime: Runtime | None = None) -> Starlette:
    """The ASGI application; pass a runtime to share one (tests), or a config (or nothing: file + env)."""
    holder = ServiceHolder(config, runtime)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(holder.start)
        try:
            yield
        finally:
            await asyncio.to_thread(holder.stop)

    async def healthz(_: Request) -> Response:
        try:
            services = holder.get()
            deadline = services.runtime.config.neo4j.call_deadline_s
            await within_deadline(lambda: services.runtime.store.run_statement("RETURN 1 AS ok"), deadline)
        except MemosError as exc:
            return JSONResponse({"status": "unavailable", "neo4j": exc.message}, status_code=503)
        return JSONResponse({"status": "ok", "neo4j": "up"})

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    assets = graphiql_assets_dir()
    if assets is not None:
        routes.append(Mount(ASSETS_URL, app=StaticFiles(directory=assets), name="graphiql-assets"))
    endpoint = GraphQLEndpoint(holder, assets_url=ASSETS_URL if assets is not None else None)
    routes.append(Route("/graphql", endpoint, methods=["GET", "POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def graphiql_assets_dir() -> Path | None:
    """node_modules holding GraphiQL and React (MEMOS_GRAPHIQL_ASSETS, else where setup.sh puts them)."""
    cache = Path(os.environ.get("MEMOS_GRAPH_CACHE") or Path.home() / ".cache" / "memos-graph")
    configured = os.environ.get("MEMOS_GRAPHIQL_ASSETS") or str(cache / "graphiql-assets")
    path = Path(configured) / "node_modules"
    if not (path / "graphiql").is_dir():
        logger.warning("MEMOS_GRAPHIQL_ASSETS=%s holds no graphiql package; GraphiQL will load from unpkg", configured)
        return None
    return path



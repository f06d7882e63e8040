"""The ASGI app: /graphql (GraphiQL on GET), /healthz, /explorer; API-key authentication and a request size limit."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from graphql_schema.assets import installed_node_modules
from graphql_schema.endpoint import GraphQLEndpoint
from graphql_schema.explorer import explorer_routes
from graphql_schema.refusals import RefusedDocuments
from graphql_schema.request_checks import SecurityHeaders, auth_refusal, client_address, error_response
from graphql_schema.service_holder import ServiceHolder
from graphql_schema.websocket import SubscriptionEndpoint
from memos_graph import metrics
from memos_graph.config import MOSConfig
from memos_graph.errors import AccessDenied, MemosError
from memos_graph.request_ids import RequestIds
from memos_graph.services.auth_throttle import FailedAuthThrottle
from memos_graph.services.chat import start_chat_warm_up
from memos_graph.services.identity import bearer_token
from memos_graph.services.metrics_access import authorize_scrape
from memos_graph.services.runtime import Runtime
from memos_graph.tracing import instrument_asgi
from memos_graph.workers import within_deadline

logger = logging.getLogger(__name__)

# The largest request body /graphql takes (413 beyond).
MAX_BODY_BYTES = 1_000_000
ASSETS_URL = "/graphiql-assets"


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
    endpoint = GraphQLEndpoint(holder, MAX_BODY_BYTES, assets_url=ASSETS_URL if assets is not None else None)
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

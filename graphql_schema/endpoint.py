"""The /graphql endpoint: GraphiQL to anyone, every operation authenticated by its API key and checked before
strawberry runs it (graphql_schema/request_checks.py); strawberry's view with the caller in its context."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graphql_schema.context import Context
from graphql_schema.graphiql import graphiql_page
from graphql_schema.media import GRAPHQL_RESPONSE_JSON, content_type, is_request_error, response_media_type
from graphql_schema.refusals import RefusedDocuments
from graphql_schema.request_checks import (
    SUBSCRIPTION_OVER_HTTP,
    auth_refusal,
    body_problem,
    client_address,
    error_response,
    operation_type,
    posts_subscription,
)
from graphql_schema.schema import schema
from graphql_schema.service_holder import ServiceHolder
from memos_graph.errors import MemosError, RateLimited
from memos_graph.services.identity import bearer_token

# https://unpkg.com/<package>@<version>/<path>: the package (scoped or not) and the path inside it.
_UNPKG = re.compile(r"https://unpkg\.com/((?:@[^/@]+/)?[^/@]+)@[^/]+/([^\"']+)")


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

    def __init__(self, holder: ServiceHolder, max_body_bytes: int, assets_url: str | None = None) -> None:
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
            operation = operation_type(request.query_params.get("query", ""), request.query_params.get("operationName"))
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
        problem = body_problem(request, body)
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
        if request.method == "POST" and posts_subscription(body):
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


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive

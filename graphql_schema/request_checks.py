"""What the GraphQL door refuses before GraphQL runs, and how: request bodies strawberry would fail on, the
operation a request names, refused keys; and the headers every answer carries."""

from __future__ import annotations

import json
from typing import Any

from graphql import GraphQLError, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from graphql_schema.media import GRAPHQL_RESPONSE_JSON, content_type, without_data
from memos_graph.errors import BackendUnavailable, MemosError, TooManyAttempts

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


def body_problem(request: Request, body: bytes) -> str | None:
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


def operation_type(query: object, operation_name: object) -> str | None:
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


def posts_subscription(body: bytes) -> bool:
    """Whether a POSTed JSON body's operation is a subscription (parsed only when the word is in it)."""
    if b"subscription" not in body:
        return False
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    return operation_type(payload.get("query"), payload.get("operationName")) == "subscription"

"""GraphQL subscriptions over WebSocket (graphql-transport-ws), authenticated by the connection_init payload.

Browsers cannot set headers on a WebSocket, so the API key travels in connection_init's payload, as
`{"Authorization": "Bearer <key>"}`. Without a valid key the connection is closed with 4403 (Forbidden), as
Strawberry closes a rejected connection; a subscribe before the acknowledgement gets 4401. The key is the same
as over HTTP (the same identity service and key cache), and each later subscribe checks it again, so a key
rotated, reset or deactivated while the socket is open refuses the connection's next subscription (closing it
with 4403). Failed keys count against the client address's budget, as over HTTP; once it is spent,
connection_init is closed with 4429 before any lookup. Only subscriptions run here, one per subscribe (a
document of several operations must name one in operationName, and that one must be a subscription):
queries and mutations go over HTTP, where each request has its own context (the DataLoaders of a
connection's context would otherwise cache what it read for the connection's whole life). The legacy
graphql-ws protocol is not offered.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, get_operation_ast, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, SubscribeMessage
from strawberry.types.unset import UnsetType

from graphql_schema.context import Context
from graphql_schema.refusals import RefusedDocuments
from graphql_schema.schema import MAX_TOKENS, schema
from memos_graph.domain import User
from memos_graph.errors import BackendUnavailable, RateLimited, TooManyAttempts, Unauthenticated
from memos_graph.services.auth_throttle import KeyCheck
from memos_graph.services.identity import bearer_token
from memos_graph.services.wiring import Services
from memos_graph.workers import WorkerPool

# A socket that has not sent connection_init by then is closed (4408): an unauthenticated socket costs memory.
CONNECTION_INIT_TIMEOUT = timedelta(seconds=10)
# Each running subscription holds a stream to the chat model; more than this on one socket are refused.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10
CLOSE_FORBIDDEN = 4403
CLOSE_UNAVAILABLE = 1011  # RFC 6455: the server met a condition that kept it from answering
CLOSE_TOO_MANY = 4429  # the client's address spent its budget of failed API keys (HTTP's 429)
MAX_CLOSE_REASON_BYTES = 123  # RFC 6455: what a close frame's reason may hold


def bearer_key(params: dict[str, object]) -> str | None:
    """The API key in a connection_init payload's `Authorization: Bearer <key>` (the name in any case)."""
    return bearer_token(next((v for k, v in params.items() if k.lower() == "authorization"), None))


class ConnectionContext(Context):
    """The context of one WebSocket connection: its subscriptions run as the caller whose key connection_init
    carried (known once that key checked out)."""

    def __init__(
        self,
        services: Services,
        pool: WorkerPool | None,
        key_check: KeyCheck,
        address: str | None = None,
        refused: RefusedDocuments | None = None,
    ) -> None:
        self.services = services
        self.refused = refused
        self.pool = pool
        self.connection_params: dict[str, object] = {}
        self._caller: User | None = None
        self._key_check = key_check
        self._address = address

    @property
    def caller(self) -> User:
        """The authenticated caller; Unauthenticated before connection_init's key was accepted."""
        if self._caller is None:
            raise Unauthenticated("the connection is not authenticated: send connection_init with a key first")
        return self._caller

    @caller.setter
    def caller(self, user: User) -> None:
        self._caller = user

    async def authenticate(self) -> User:
        """The active user of connection_init's key (the key cache, else Neo4j within the call deadline);
        Unauthenticated for a missing, wrong or revoked key, TooManyAttempts when the client's address spent
        its budget of failed keys (as over HTTP: one budget per address for the app)."""
        user = await self._key_check.authenticate(bearer_key(self.connection_params), self._address)
        self.caller = user
        return user


def _close_reason(text: str) -> str:
    return text.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")


def _not_a_subscription(message: SubscribeMessage) -> tuple[str, str] | None:
    """Why a subscribe message does not run exactly one subscription, with the error code; None when it
    does, or when its query does not parse (Strawberry answers that itself). Without this, a document of
    several operations and no operationName ran the first, a mutation or a query too."""
    payload = message.get("payload") or {}
    try:  # bounded as Strawberry's own parse is (graphql_schema.schema.MAX_TOKENS)
        document = parse(str(payload.get("query") or ""), max_tokens=MAX_TOKENS)
    except GraphQLError:
        return None
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        return "operationName must be a string", "BAD_USER_INPUT"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None and len(operations) != 1:
        return "a document of several operations needs an operationName naming one of them", "BAD_USER_INPUT"
    operation = get_operation_ast(document, name)
    if operation is None:
        return f"the document has no operation named {name!r}", "BAD_USER_INPUT"
    if operation.operation != OperationType.SUBSCRIPTION:
        return (
            "this WebSocket runs subscriptions only; send queries and mutations by HTTP POST to /graphql",
            "METHOD_NOT_ALLOWED",
        )
    return None


class AuthenticatedTransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with the key checked at connection_init and again at each subscribe."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The document size of each subscription still starting (to charge if Strawberry refuses it).
        self._sizes: dict[str, int] = {}

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except TooManyAttempts as exc:  # the address spent its budget of failed keys: nothing was looked up
            await self.websocket.close(CLOSE_TOO_MANY, _close_reason(f"{exc.code}: retry in {exc.retry_after_s} s"))
        except BackendUnavailable as exc:  # Neo4j could not say whether the key is good: not a refusal
            await self.websocket.close(CLOSE_UNAVAILABLE, _close_reason(f"UNAVAILABLE: {exc.message}"))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)  # closes with 4401
            return
        context = self.context
        assert isinstance(context, ConnectionContext)
        try:
            await context.authenticate()
        except TooManyAttempts as exc:
            await self._refuse(message, exc.message, exc.code)
            return
        except Unauthenticated:
            await self.websocket.close(CLOSE_FORBIDDEN, "Forbidden")
            return
        except BackendUnavailable as exc:
            await self._refuse(message, exc.message, "UNAVAILABLE")
            return
        size = len(str((message.get("payload") or {}).get("query") or "").encode())
        if context.refused is not None:
            try:  # as over HTTP: a caller that spent its budget of refused documents is refused unparsed
                context.refused.check(context.caller.user_id, size)
            except RateLimited as exc:
                await self._refuse(message, exc.message, exc.code)
                return
        refusal = _not_a_subscription(message)
        if refusal is not None:
            self._charge(context, size)
            await self._refuse(message, *refusal)
            return
        self._sizes[message["id"]] = size
        await super().handle_subscribe(message)

    @staticmethod
    def _charge(context: ConnectionContext, size: int) -> None:
        if context.refused is not None:
            context.refused.charge(context.caller.user_id, size)

    async def send_message(self, message: Any) -> None:
        # Strawberry answers a subscribe whose document does not parse or validate with `error` (a running
        # subscription's failures come as `next` with errors): that document's size is spent like over HTTP.
        size = self._sizes.pop(str(message.get("id")), None) if isinstance(message, dict) else None
        if size is not None and message.get("type") == "error":
            context = self.context
            if isinstance(context, ConnectionContext):
                self._charge(context, size)
        await super().send_message(message)

    async def _refuse(self, message: SubscribeMessage, text: str, code: str) -> None:
        """Answer one subscribe with an `error` message; the connection stays open."""
        error = GraphQLError(text, extensions={"code": code})
        await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})


class OriginHint(logging.Filter):
    """Strawberry's refusal of a WebSocket origin names its own `allowed_origins`; here the setting is
    http.cors_origins (MEMOS_CORS_ORIGINS), so the line says that instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "allowed_origins" in str(record.msg) and len(record.args or ()) == 2:
            record.msg = (
                "refused a WebSocket from origin %r to host %r: to let pages on that origin subscribe, add it to "
                "http.cors_origins (MEMOS_CORS_ORIGINS)"
            )
        return True


def hint_origins() -> None:
    """Put OriginHint on Strawberry's WebSocket logger, once."""
    strawberry_ws = logging.getLogger("strawberry.ws")
    if not any(isinstance(existing, OriginHint) for existing in strawberry_ws.filters):
        strawberry_ws.addFilter(OriginHint())


class SubscriptionEndpoint(GraphQL[Context, None]):
    """The WebSocket side of /graphql: graphql-transport-ws, each connection authenticated by its key."""

    graphql_transport_ws_handler_class = AuthenticatedTransportWS

    def __init__(
        self,
        services_of: Any,
        pool_of: Any,
        key_check: KeyCheck,
        allowed_origins: tuple[str, ...] = (),
        refused: RefusedDocuments | None = None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_TIMEOUT,
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
            # Pages on the origins CORS allows may subscribe too; any other page's handshake is refused.
            allowed_origins=allowed_origins,
        )
        self._services_of = services_of
        self._pool_of = pool_of
        self._key_check = key_check
        self._refused = refused
        hint_origins()

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        address = request.client.host if request.client is not None else None
        return ConnectionContext(self._services_of(), self._pool_of(), self._key_check, address, self._refused)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        assert isinstance(context, ConnectionContext)
        try:
            await context.authenticate()
        except TooManyAttempts:
            raise  # handle_connection_init closes with CLOSE_TOO_MANY
        except Unauthenticated:
            raise ConnectionRejectionError() from None
        return UnsetType()  # connection_ack without a payload

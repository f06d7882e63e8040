"""Subscription resolvers: the chat answer streamed as the model writes it."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from graphql_schema.context import Info


@strawberry.type(
    name="ChatStreamEvent",
    description="One event of a streamed chat answer: a piece of text as the model sent it; the last event "
    "has an empty delta and the whole answer, sent once the exchange is stored in the chat history.",
)
class ChatStreamEventType:
    delta: str = strawberry.field(description="The next piece of the answer, in order; empty in the last event.")
    answer: str | None = strawberry.field(
        description="The whole answer as stored (trimmed), in the last event only; null before."
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="chat, streamed: retrieves the caller's memories as chat does, then sends the model's answer "
        "piece by piece. The exchange is stored only when the answer is complete (the last event says so); a "
        "failure mid-answer ends the stream with an UNAVAILABLE error, and a client that leaves ends it too, "
        "both storing nothing. Over WebSocket (graphql-transport-ws) only, authenticated by connection_init."
    )
    async def chat_stream(
        self, info: Info, query: str, session_id: str | None = None
    ) -> AsyncGenerator[ChatStreamEventType, None]:
        ctx = info.context
        events = ctx.services.chat.stream(ctx.caller, query, session_id, ctx.run)
        async with aclosing(events):
            async for event in events:
                yield ChatStreamEventType(delta=event.delta, answer=event.answer)

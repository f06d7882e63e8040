"""chat(): retrieve memories, build the prompt, call the LLM, keep the user's history in Neo4j."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Protocol, TypeVar

from memos_graph import metrics
from memos_graph.config import MOSConfig
from memos_graph.domain import User
from memos_graph.graph.chat import ChatRepository
from memos_graph.llm.base import ChatMessage, ChatModel
from memos_graph.llm.factory import chat_model_from
from memos_graph.llm.prompts import chat_messages
from memos_graph.llm.warmup import WarmUp, start_warm_up
from memos_graph.services.llm_quota import LLMQuota
from memos_graph.services.search import SearchService
from memos_graph.services.validation import check_text

DEFAULT_SESSION = "default"

T = TypeVar("T")


class BlockingRunner(Protocol):
    """Runs blocking work (Neo4j, the embedder) off the event loop, within a deadline of its own."""

    def __call__(self, work: Callable[[], T], /) -> Awaitable[T]: ...


@dataclass(frozen=True)
class ChatExchange:
    """A question ready for the model: who asks, in which session, the checked query and the prompt."""

    actor: User
    session_id: str
    query: str
    messages: list[ChatMessage]


@dataclass(frozen=True)
class ChatStreamEvent:
    """One event of a streamed answer: the next piece of text, or (last, once stored) the whole answer."""

    delta: str
    answer: str | None = None


def start_chat_warm_up(config: MOSConfig) -> WarmUp | None:
    """Warm the configured chat model's client up on a thread, so a server's first chat does not wait for
    litellm's imports (memos_graph.llm.warmup); None when no chat model is configured."""
    return start_warm_up(config.llm)


class ChatService:
    """Memory-augmented chat with per-user, per-session history."""

    def __init__(
        self,
        config: MOSConfig,
        history: ChatRepository,
        quota: LLMQuota,
        search: SearchService,
        model: ChatModel | None = None,
    ) -> None:
        self._config = config
        self._history = history
        self._llm_quota = quota
        self._search = search
        self._model = model

    def _chat_model(self) -> ChatModel:
        if self._model is None:
            self._model = chat_model_from(self._config.llm, "chat")
        return self._model

    def history(self, actor: User, session_id: str | None = None) -> list[ChatMessage]:
        """The last max_turns_window turns of the actor's session, oldest first."""
        limit = self._config.max_turns_window
        if limit == 0:
            return []
        turns = self._history.history(actor.user_id, session_id or DEFAULT_SESSION, limit)
        return [{"role": role, "content": content} for role, content in turns]

    def prepare(self, actor: User, query: str, session_id: str | None = None) -> ChatExchange:
        """Check the input and that a model is configured, retrieve the actor's memories (the same search,
        with the same access rules, as search()) and build the prompt with the session's history."""
        limits = self._config.limits
        text = check_text(query, "query", limits.max_query_chars)
        session = check_text(session_id, "session_id", limits.max_id_chars) if session_id else DEFAULT_SESSION
        self._chat_model()
        found = self._search.search(actor, text)
        memories = sorted(
            found.items(),
            key=lambda item: -(item.metadata.relativity or 0.0),
        )[: self._config.top_k]
        return ChatExchange(actor, session, text, chat_messages(memories, self.history(actor, session), text))

    def record(self, exchange: ChatExchange, answer: str) -> None:
        """Store the question and its answer as the session's next two turns, in one transaction."""
        turns = [("user", exchange.query), ("assistant", answer)]
        self._history.append(exchange.actor.user_id, exchange.session_id, turns)

    @metrics.timed("chat")
    def chat(self, actor: User, query: str, session_id: str | None = None) -> str:
        """Answer the query with the actor's memories and history; store the exchange only if answered.
        RateLimited, before any retrieval or model call, when the actor has reached a bound of llm_quota."""
        with self._llm_quota.slot(actor.user_id) as slot:
            exchange = self.prepare(actor, query, session_id)
            with slot.call(exchange.messages) as meter:
                answer = self._chat_model().complete(exchange.messages, meter)
        self.record(exchange, answer)
        return answer

    async def stream(
        self, actor: User, query: str, session_id: str | None, run: BlockingRunner
    ) -> AsyncGenerator[ChatStreamEvent, None]:
        """chat() as a stream: each piece of the answer as the model sends it, then, once the exchange is
        stored, an event with the whole answer. `run` runs the blocking steps (retrieval, the final write).

        Nothing is stored unless the model's stream completes: a failure (BackendUnavailable) or the consumer
        leaving (the generator closed or cancelled) before that closes the model's stream and writes nothing.
        The stream holds one of the actor's llm_quota places until it ends: RateLimited, before any retrieval,
        when the actor has as many running or has reached a budget.
        """
        with metrics.timed_operation("chat_stream"), self._llm_quota.slot(actor.user_id) as slot:
            exchange = await run(lambda: self.prepare(actor, query, session_id))
            pieces: list[str] = []
            with slot.call(exchange.messages) as meter:
                async with aclosing(self._chat_model().stream(exchange.messages, meter)) as deltas:
                    async for piece in deltas:
                        pieces.append(piece)
                        yield ChatStreamEvent(delta=piece)
            answer = "".join(pieces).strip()
            await run(lambda: self.record(exchange, answer))
        yield ChatStreamEvent(delta="", answer=answer)

    def clear(self, actor: User) -> int:
        """Delete the actor's chat history (every session); returns how many turns."""
        return self._history.clear(actor.user_id)

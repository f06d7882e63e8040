"""chat(): retrieve memories, build the prompt, call the LLM, keep the user's history in Neo4j."""

from __future__ import annotations

import uuid

from neo4j import ManagedTransaction

from memos_graph.domain import User
from memos_graph.graph.store import run_named
from memos_graph.llm.base import ChatMessage, ChatModel
from memos_graph.llm.factory import chat_model_from
from memos_graph.llm.prompts import chat_messages
from memos_graph.services.runtime import Runtime
from memos_graph.services.search import SearchService
from memos_graph.services.validation import check_text

DEFAULT_SESSION = "default"


class ChatService:
    """Memory-augmented chat with per-user, per-session history."""

    def __init__(self, runtime: Runtime, search: SearchService, model: ChatModel | None = None) -> None:
        self._rt = runtime
        self._search = search
        self._model = model

    def _chat_model(self) -> ChatModel:
        if self._model is None:
            self._model = chat_model_from(self._rt.config.llm, "chat")
        return self._model

    def history(self, actor: User, session_id: str | None = None) -> list[ChatMessage]:
        """The last max_turns_window turns of the actor's session, oldest first."""
        limit = self._rt.config.max_turns_window
        if limit == 0:
            return []
        rows = self._rt.store.read(
            "chat_history", user_id=actor.user_id, session_id=session_id or DEFAULT_SESSION, limit=limit
        )
        return [{"role": row["role"], "content": row["content"]} for row in rows]

    def chat(self, actor: User, query: str, session_id: str | None = None) -> str:
        """Answer the query with the actor's memories and history; store the exchange only if answered."""
        limits = self._rt.config.limits
        text = check_text(query, "query", limits.max_query_chars)
        session = check_text(session_id, "session_id", limits.max_id_chars) if session_id else DEFAULT_SESSION
        model = self._chat_model()
        found = self._search.search(actor, text)
        memories = sorted(
            (item for group in found["text_mem"] for item in group["memories"]),
            key=lambda item: -(item.metadata.relativity or 0.0),
        )[: self._rt.config.top_k]
        answer = model.complete(chat_messages(memories, self.history(actor, session), text))
        turns = [
            {"id": str(uuid.uuid4()), "role": "user", "content": text, "seq": 0},
            {"id": str(uuid.uuid4()), "role": "assistant", "content": answer, "seq": 1},
        ]

        def store(tx: ManagedTransaction) -> None:
            run_named(tx, "chat_append", user_id=actor.user_id, session_id=session, turns=turns)

        self._rt.store.run_write(store)
        return answer

    def clear(self, actor: User) -> int:
        """Delete the actor's chat history (every session); returns how many turns."""
        rows = self._rt.store.run_write(lambda tx: run_named(tx, "chat_clear", user_id=actor.user_id))
        return int(rows[0]["cleared"]) if rows else 0

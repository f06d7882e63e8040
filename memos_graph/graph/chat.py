"""A user's chat history: turns per session, kept as (:User)-[:HAS_TURN]->(:ChatTurn) nodes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from neo4j import ManagedTransaction

from memos_graph.graph.store import GraphStore, run_named


class ChatRepository:
    """The statements behind chat history (cypher/queries/chat_*)."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def history(self, user_id: str, session_id: str, limit: int) -> list[tuple[str, str]]:
        """The session's newest `limit` turns, oldest first, as (role, content)."""
        rows = self._store.read("chat_history", user_id=user_id, session_id=session_id, limit=limit)
        return [(str(row["role"]), str(row["content"])) for row in rows]

    def append(self, user_id: str, session_id: str, turns: Sequence[tuple[str, str]]) -> None:
        """Store (role, content) turns as the session's next ones, in order, in one transaction; a retried
        commit stores each once (turn ids are made here, before the transaction)."""
        rows = [
            {"id": str(uuid.uuid4()), "role": role, "content": content, "seq": seq}
            for seq, (role, content) in enumerate(turns)
        ]

        def store(tx: ManagedTransaction) -> None:
            run_named(tx, "chat_append", user_id=user_id, session_id=session_id, turns=rows)

        self._store.run_write(store)

    def clear(self, user_id: str) -> int:
        """Delete every turn of the user (all sessions); returns how many."""
        rows = self._store.run_write(lambda tx: run_named(tx, "chat_clear", user_id=user_id))
        return int(rows[0]["cleared"]) if rows else 0

"""Whether Neo4j answers: the statement behind /healthz."""

from __future__ import annotations

from memos_graph.graph.queries import query
from memos_graph.graph.store import GraphStore


class HealthRepository:
    """A trivial statement through the same driver and deadline every other call uses."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def ping(self) -> None:
        """Return once Neo4j has run a statement; the store's errors (BackendUnavailable, ...) otherwise."""
        self._store.run_statement(query("health_ping"))

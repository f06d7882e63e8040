"""Health: whether the service can reach its graph, as /healthz reports it."""

from __future__ import annotations

from memos_graph.graph.health import HealthRepository


class HealthService:
    """Checks the backend without any caller (health probes carry no API key)."""

    def __init__(self, graph: HealthRepository) -> None:
        self._graph = graph

    def check(self) -> None:
        """Return when Neo4j answers; BackendUnavailable (a MemosError) when it does not."""
        self._graph.ping()

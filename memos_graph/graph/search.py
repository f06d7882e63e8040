"""The search indexes behind domain values: a query's text and vector in, candidates out.

How a text becomes the per-cube BM25 index's terms (the analyzer that also writes the postings) and which
vector index a cube's search asks are the graph's business; the search service passes the question and the
cube, and chooses only between a cube's own index (the token CubeCandidates.own_index hands out) and the
shared one.
"""

from __future__ import annotations

from collections.abc import Sequence

from memos_graph.config import SearchSettings
from memos_graph.deadlines import phase
from memos_graph.domain import NO_FILTER, MemoryFilter, TextualMemoryItem
from memos_graph.graph.memories import MemoryRepository, SearchStart
from memos_graph.graph.schema import VECTOR_INDEX
from memos_graph.ranking.analyzer import query_terms


class SearchIndexes:
    """Search reads over one memory repository, with the configured exact-scan size and BM25 parameters."""

    def __init__(self, memories: MemoryRepository, settings: SearchSettings, max_cubes: int) -> None:
        self._memories = memories
        self._settings = settings
        self._max_cubes = max_cubes

    def start(
        self,
        user_id: str,
        cube_ids: Sequence[str] | None,
        text: str | None,
        vector: Sequence[float],
        limit: int,
        where: MemoryFilter = NO_FILTER,
    ) -> SearchStart:
        """The caller, its cubes and both rankings' candidates (of memories passing `where`) of every cube it
        may read, in one round trip (search_cubes_hybrid; the vector side only for cubes small enough for the
        exact scan, larger ones add their index search): the text's terms rank on the BM25 side (None: only
        the vector side ranks)."""
        terms = [] if text is None else query_terms(text)
        settings = self._settings
        with phase("Neo4j search"):
            return self._memories.search_cubes_hybrid(
                user_id,
                cube_ids,
                terms,
                vector,
                limit,
                settings.exact_scan_max_memories,
                settings.bm25_k1,
                settings.bm25_b,
                self._max_cubes,
                where,
            )

    def nearest(
        self,
        cube_id: str,
        vector: Sequence[float],
        top_k: int,
        candidates: int,
        own_index: str | None = None,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem]:
        """The cube's top-k (passing `where`) among `candidates` neighbours from its own vector index when
        given, else from the shared one."""
        index = VECTOR_INDEX if own_index is None else own_index
        return self._memories.search_index(index, cube_id, vector, top_k, candidates, where)

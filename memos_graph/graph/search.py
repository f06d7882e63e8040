"""The search indexes behind domain values: a query's text and vector in, candidates out.

How a text becomes the per-cube BM25 index's terms (the analyzer that also writes the postings) and which
vector index a cube's search asks are the graph's business; the search service passes the question and the
cube, and chooses only between a cube's own index (the token CubeCandidates.own_index hands out) and the
shared one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from memos_graph.config import SearchSettings
from memos_graph.deadlines import phase
from memos_graph.domain import NO_FILTER, MemoryFilter, TextualMemoryItem
from memos_graph.errors import IndexUnavailable
from memos_graph.graph.memories import MemoryRepository, SearchStart
from memos_graph.graph.schema import VECTOR_INDEX
from memos_graph.ranking.analyzer import query_terms

logger = logging.getLogger(__name__)


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
        may read, in one round trip (search_cubes_hybrid; the vector side for cubes small enough for the exact
        scan, and the first request of a larger cube's own index when it has one online; a cube on the shared
        index adds its index search): the text's terms rank on the BM25 side (None: only
        the vector side ranks)."""
        terms = [] if text is None else query_terms(text)
        settings = self._settings
        own = self.own_index_request(limit) if settings.dedicated_index_min_memories is not None else 0
        with phase("Neo4j search"):
            try:
                return self._search_cubes(user_id, cube_ids, terms, vector, limit, where, own)
            except IndexUnavailable:
                if own == 0:
                    raise
                # A cube's own index named on it but not usable (dropped by hand?): without it; the caller's
                # index path then falls back to the shared index.
                logger.warning("a cube's own vector index is unavailable; searching without it")
                return self._search_cubes(user_id, cube_ids, terms, vector, limit, where, 0)

    def own_index_request(self, top_k: int) -> int:
        """How many neighbours a cube's own vector index is first asked for, to keep top_k (its share is 1)."""
        return math.ceil(top_k * self._settings.overfetch_factor)

    def _search_cubes(
        self,
        user_id: str,
        cube_ids: Sequence[str] | None,
        terms: list[str],
        vector: Sequence[float],
        limit: int,
        where: MemoryFilter,
        own_candidates: int,
    ) -> SearchStart:
        settings = self._settings
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
            own_candidates,
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

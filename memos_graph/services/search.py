"""Tenant-correct vector search.

A cube's memories must never drop out of its own results because other cubes hold nearer vectors (the
MemOS bug: a global top-k, then a tenant filter). Neo4j 5.26's vector index cannot filter inside the index,
so each cube is searched on its own:

- a cube of at most `exact_scan_max_memories` is scored exactly over its own memories (index seek on
  cube_id, cosine per memory): complete by construction, and cheap because the cube is small;
- a larger cube asks the HNSW index for `candidates` neighbours, chosen from the cube's share of all
  memories so that about top_k of them belong to the cube, times `overfetch_factor`; when fewer than top_k
  survive the cube filter the request doubles, and past `max_candidates` the exact scan answers.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence

from memos_graph.domain import TextualMemoryItem, User
from memos_graph.errors import IndexUnavailable
from memos_graph.graph.memories import cube_key
from memos_graph.graph.schema import FULLTEXT_INDEX, VECTOR_INDEX
from memos_graph.services.cubes import CubeService
from memos_graph.services.memories import SearchShape, grouped
from memos_graph.services.runtime import Runtime
from memos_graph.services.validation import check_text, check_top_k

logger = logging.getLogger(__name__)


class SearchService:
    """Search over the cubes a user may read."""

    def __init__(self, runtime: Runtime, cubes: CubeService) -> None:
        self._rt = runtime
        self._cubes = cubes

    def search(
        self,
        actor: User,
        query: str,
        install_cube_ids: Sequence[str] | None = None,
        top_k: int | None = None,
    ) -> SearchShape:
        """Top-k memories per cube: the named cubes (each must be readable), else the actor's loaded cubes."""
        limits = self._rt.config.limits
        text = check_text(query, "query", limits.max_query_chars)
        k = check_top_k(top_k, self._rt.config.top_k, limits)
        if install_cube_ids is not None:
            cube_ids = list(dict.fromkeys(install_cube_ids))
            cubes = self._cubes.readable(actor, cube_ids)
        else:
            cubes = self._cubes.loaded_readable(actor)
        if not cubes:
            return grouped([])
        # The BM25 query could run in Neo4j while the query is embedded, but on 2 cores that was measured
        # slower (50 vs 43 ms p50 at 1M memories): torch and Neo4j compete for the same cores.
        (vector,) = self._rt.embedder.embed([text])
        hybrid = self._rt.config.search.mode == "hybrid"
        return grouped(
            [
                (
                    entry.cube.cube_id,
                    self.search_hybrid(entry.cube.cube_id, text, vector, k)
                    if hybrid
                    else self.search_cube(entry.cube.cube_id, vector, k),
                )
                for entry in cubes
            ]
        )

    def pool_size(self, top_k: int) -> int:
        """How many candidates each ranking contributes to the fusion."""
        settings = self._rt.config.search
        return max(top_k * settings.pool_factor, settings.min_pool)

    def text_ranking(self, cube_id: str, text: str, pool: int) -> list[TextualMemoryItem]:
        """The cube's BM25 ranking for the query's words (empty when it has none)."""
        terms = lucene_query(text)
        if not terms:
            return []
        return self.search_text(cube_id, f"cube_key:{cube_key(cube_id)} AND memory:({terms})", pool)

    def search_hybrid(
        self,
        cube_id: str,
        text: str,
        vector: Sequence[float],
        top_k: int,
        text_ranking: list[TextualMemoryItem] | None = None,
    ) -> list[TextualMemoryItem]:
        """Vector and BM25 rankings of one cube fused by reciprocal rank; relativity is the fused score."""
        settings = self._rt.config.search
        pool = self.pool_size(top_k)
        if text_ranking is None:
            text_ranking = self.text_ranking(cube_id, text, pool)
        rankings = [self.search_cube(cube_id, vector, pool), text_ranking]
        fused = reciprocal_rank_fusion(rankings, settings.rrf_k, pool)
        if settings.expand_top and fused:
            fused = self.with_neighbours(cube_id, fused, settings.expand_top, settings.neighbour_weight)
        return fused[:top_k]

    def with_neighbours(
        self, cube_id: str, ranked: list[TextualMemoryItem], expand_top: int, weight: float
    ) -> list[TextualMemoryItem]:
        """Add the conversational neighbours of the top hits at a share of their score, then re-rank."""
        # Only memories taken from conversations have :Message neighbours; skip the round trip otherwise.
        parents = [item.id for item in ranked[:expand_top] if item.metadata.source == "conversation"]
        if not parents:
            return ranked
        scores = {item.id: item.metadata.relativity or 0.0 for item in ranked}
        items = {item.id: item for item in ranked}
        found = self._rt.memories.neighbours(cube_id, parents)
        for parent in ranked[:expand_top]:
            for neighbour in found.get(parent.id, []):
                score = scores[parent.id] * weight
                if score > scores.get(neighbour.id, 0.0):
                    scores[neighbour.id] = score
                    items.setdefault(neighbour.id, neighbour)
        order = sorted(scores, key=lambda memory_id: -scores[memory_id])
        return [scored(items[memory_id], scores[memory_id]) for memory_id in order]

    def search_text(self, cube_id: str, lucene: str, pool: int) -> list[TextualMemoryItem]:
        """The cube's best `pool` BM25 matches; the Lucene limit doubles until enough survive or none are left."""
        limit = pool * 2
        while True:
            try:
                found, more = self._rt.memories.search_fulltext(FULLTEXT_INDEX, cube_id, lucene, limit, pool)
            except IndexUnavailable:
                logger.warning("fulltext index unavailable (rebuilding?); vector ranking only for %s", cube_id)
                return []
            if len(found) >= pool or not more:
                return found
            limit *= 2

    def search_cube(self, cube_id: str, vector: Sequence[float], top_k: int) -> list[TextualMemoryItem]:
        """Top-k of one cube, exact for small cubes, index with adaptive over-fetch for large ones."""
        settings = self._rt.config.search
        cube_size, total, hits = self._rt.memories.search_small_cube(
            cube_id, vector, top_k, settings.exact_scan_max_memories
        )
        if cube_size <= settings.exact_scan_max_memories or total == 0:
            return hits
        share = cube_size / total
        candidates = max(settings.min_candidates, math.ceil(top_k / share * settings.overfetch_factor))
        wanted = min(top_k, cube_size)
        try:
            while candidates <= settings.max_candidates:
                found = self._rt.memories.search_index(VECTOR_INDEX, cube_id, vector, top_k, candidates)
                if len(found) >= wanted:
                    return found
                candidates *= 2
        except IndexUnavailable:
            logger.warning("vector index unavailable (rebuilding?); scanning cube %s exactly", cube_id)
        return self._rt.memories.search_exact(cube_id, vector, top_k)


_TERM = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 64


def lucene_query(text: str) -> str:
    """A Lucene query of the text's words joined by OR. Only word characters survive, so no Lucene syntax
    (quotes, wildcards, field names, boolean operators) from user text reaches the parser."""
    terms = [term.lower() for term in _TERM.findall(text)][:MAX_TERMS]
    return " OR ".join(dict.fromkeys(terms))


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[TextualMemoryItem]], rrf_k: int, top_k: int
) -> list[TextualMemoryItem]:
    """Fuse rankings: each item scores sum(1 / (rrf_k + rank)); ties broken by first appearance."""
    scores: dict[str, float] = {}
    items: dict[str, TextualMemoryItem] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item.id] = scores.get(item.id, 0.0) + 1.0 / (rrf_k + rank)
            items.setdefault(item.id, item)
    best = sorted(scores, key=lambda memory_id: -scores[memory_id])[:top_k]
    return [scored(items[memory_id], scores[memory_id]) for memory_id in best]


def scored(item: TextualMemoryItem, score: float) -> TextualMemoryItem:
    """The item with `metadata.relativity` set to the score."""
    return item.model_copy(update={"metadata": item.metadata.model_copy(update={"relativity": score})})

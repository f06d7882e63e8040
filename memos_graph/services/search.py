"""Tenant-correct, tenant-independent hybrid search.

A cube's result is a function of that cube's memories and the query only:

- Vector side. Neo4j 5.26's vector index cannot filter inside the index, so each cube is searched on its
  own: a cube of at most `exact_scan_max_memories` is scored exactly over its own memories (index seek on
  cube_id, cosine per memory); a larger cube asks the HNSW index for `candidates` neighbours, chosen from
  the cube's share of all memories so that about top_k of them belong to the cube, times
  `overfetch_factor`; when fewer than top_k survive the cube filter the request doubles, and past
  `max_candidates` the exact scan answers. (Above the exact-scan size the HNSW answer is approximate.)
- Text side. BM25 over the cube's own term statistics (:Term nodes per cube, see search_cubes_hybrid.cypher),
  never the shared Lucene index, whose statistics come from every tenant.
- Fusion (memos_graph.ranking.fusion) gives `metadata.relativity` in [0, 1], higher is better.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Sequence

from memos_graph import metrics
from memos_graph.config import MOSConfig
from memos_graph.deadlines import phase
from memos_graph.domain import NO_FILTER, MemoryFilter, TextualMemoryItem, User
from memos_graph.domain.results import CubeMemories, MemoryResults
from memos_graph.embeddings.base import Embedder, QueryVector, embed_query
from memos_graph.errors import IndexUnavailable, InvalidInput
from memos_graph.graph.search import CubeCandidates, SearchIndexes, SearchStart
from memos_graph.ranking.analyzer import analyze
from memos_graph.ranking.context import Question, Weights, read_question, rerank, said
from memos_graph.ranking.diversity import diversified
from memos_graph.ranking.feedback import EXPANSION_TERMS, FEEDBACK_DOCS, fed_back, feedback_terms
from memos_graph.ranking.fusion import convex, cosine_relevance, reciprocal_rank
from memos_graph.services.cubes import CubeService
from memos_graph.services.validation import (
    check_cube_id,
    check_filter,
    check_id,
    check_reference_time,
    check_text,
    check_top_k,
)

logger = logging.getLogger(__name__)


class SearchService:
    """Search over the cubes a user may read."""

    def __init__(self, config: MOSConfig, embedder: Embedder, reads: SearchIndexes, cubes: CubeService) -> None:
        self._config = config
        self._embedder = embedder
        self._indexes = reads  # every read a search runs goes this one way (graph/search.py)
        self._cubes = cubes

    def search(
        self,
        actor: User | str,
        query: str,
        cube_ids: Sequence[str] | None = None,
        top_k: int | None = None,
        threshold: float | None = None,
        where: object = None,
        reference_time: object = None,
    ) -> MemoryResults:
        """Top-k memories per cube: the named cubes (each must be readable), else the caller's loaded cubes.

        The actor is a user or a user id (MOS.search passes the id and saves a lookup): either way it is read
        afresh, with the cubes, in the search's first statement (an inactive user is refused even if the given
        User is older). With a threshold, memories
        whose relativity is below it are left out (so a cube may return fewer). With a filter (a MemoryFilter
        or a mapping of its fields) each cube ranks only its memories that pass it: the filter applies inside
        both rankings, before their top-k, so a cube holding top_k matching memories returns top_k.
        `reference_time` (an aware datetime or ISO 8601 text; default now) is when the question is asked: its
        relative time expressions ("last week", "上个月") are read against it (see ranking/context.py).
        """
        limits = self._config.limits
        user_id = actor if isinstance(actor, str) else actor.user_id
        check_id(user_id, "user_id", limits)
        text = check_text(query, "query", limits.max_query_chars)
        k = check_top_k(top_k, self._config.top_k, limits)
        minimum = check_threshold(threshold)
        condition = check_filter(where, limits)
        asked = check_reference_time(reference_time, self._config.ingest.tzinfo())
        question = read_question(text, asked, anchored=reference_time is not None)
        most = limits.max_cubes_per_search
        named = None
        if cube_ids is not None:
            named = list(dict.fromkeys(cube_ids))
            if len(named) > most:  # refused before any lookup
                raise InvalidInput(f"{len(named)} cubes in one search; the limit is {most}")
            for cube_id in named:
                check_cube_id(cube_id, "cube id", limits)
        # Embedded before the statement, which needs the vector; on 2 cores, running the BM25 half in Neo4j
        # meanwhile was measured slower (torch and Neo4j compete for the same cores).
        with metrics.timed_operation("search"):
            with phase("embedding"), metrics.search_stage("embedding"):
                query_vector = embed_query(self._embedder, text)
            hybrid = self._config.search.mode == "hybrid"
            with metrics.search_stage("neo4j"):
                start = self._indexes.start(
                    user_id,
                    named,
                    text if hybrid else None,
                    query_vector.vector,
                    self.pool_size(k) if hybrid else k,
                    condition,
                )
            with metrics.search_stage("ranking"):
                return self._ranked(user_id, named, text, query_vector, k, minimum, condition, question, start)

    def _ranked(
        self,
        user_id: str,
        cube_ids: list[str] | None,
        text: str,
        query_vector: QueryVector,
        k: int,
        minimum: float,
        condition: MemoryFilter,
        question: Question,
        start: SearchStart,
    ) -> MemoryResults:
        """The search's answer from its first statement: each readable cube ranked (its fusion, neighbours and
        boosts; a large cube's index rounds), below-threshold memories left out."""
        vector = query_vector.vector
        hybrid = self._config.search.mode == "hybrid"
        most = self._config.limits.max_cubes_per_search
        actor = self._cubes.active(user_id, start.caller)
        if cube_ids is not None:
            cubes = self._cubes.readable_among(actor, cube_ids, start.relations)
        else:
            cubes = self._cubes.loaded_among(actor, start.relations.values())
            if len(cubes) > most:
                raise InvalidInput(
                    f"{len(cubes)} loaded cubes to search; the limit is {most}: name the cubes to search "
                    "(cubeIds / install_cube_ids) or unregister some"
                )
        groups: list[CubeMemories] = []
        for entry in cubes:
            cube_id = entry.cube.cube_id
            found = start.candidates.get(cube_id)
            if found is None:  # the statement's access rule and access.cube_access disagree: a bug, never empty
                raise RuntimeError(f"cube '{cube_id}' is readable but the search statement did not rank it")
            if hybrid:
                ranked = self.search_hybrid(user_id, cube_id, text, query_vector, k, found, condition, question)
            else:
                hits = self.vector_hits(cube_id, vector, k, found, condition)
                raised = self.boosted([scored(item, relevance(query_vector, item)) for item in hits], question)
                ranked = self.diversified(cube_id, raised, k)
            kept = tuple(item for item in ranked if (item.metadata.relativity or 0.0) >= minimum)
            groups.append(CubeMemories(cube_id, kept))
        return MemoryResults(tuple(groups))

    def pool_size(self, top_k: int) -> int:
        """How many candidates each ranking contributes to the fusion."""
        settings = self._config.search
        return max(top_k * settings.pool_factor, settings.min_pool)

    def search_hybrid(
        self,
        user_id: str,
        cube_id: str,
        text: str,
        query: Sequence[float] | QueryVector,
        top_k: int,
        prefetched: CubeCandidates | None = None,
        where: MemoryFilter = NO_FILTER,
        question: Question | None = None,
    ) -> list[TextualMemoryItem]:
        """The cube's vector and BM25 rankings fused (see memos_graph.ranking.fusion), then the conversational
        neighbours of the best hits, then the boosts the question gives (ranking/context.py; `question` is
        read from the text, asked now, when not given); relativity is the final score, in [0, 1]. `query` is
        the question's vector (a QueryVector from embeddings.embed_query, or a plain one of the English
        model). `prefetched` is the cube's part of the search's first round trip (SearchIndexes.start), fetched
        here as user_id when not given (nothing when user_id may not read the cube)."""
        settings = self._config.search
        query_vector = query if isinstance(query, QueryVector) else QueryVector(list(query))
        vector = query_vector.vector
        weight = settings.multilingual_vector_weight if query_vector.multilingual else settings.vector_weight
        pool = self.pool_size(top_k)
        found = prefetched or self._indexes.start(user_id, [cube_id], text, vector, pool, where).candidates.get(cube_id)
        if found is None:
            return []
        by_vector = self.vector_hits(cube_id, vector, pool, found, where)
        ceiling, by_text = found.ceiling, found.by_text
        items = {item.id: item for item in by_vector}
        for item, _ in by_text:
            items.setdefault(item.id, item)
        if settings.fusion == "convex":
            # Each BM25 hit comes with its exact cosine; a vector hit outside the BM25 pool counts 0 there.
            similarity = {item.id: relevance(query_vector, item) for item in by_vector}
            for item, _ in by_text:
                similarity.setdefault(item.id, relevance(query_vector, item))
            lexical = {item.id: bm25 / ceiling for item, bm25 in by_text} if ceiling > 0 else {}
            fused = convex(similarity, lexical, weight)
        else:
            fused = reciprocal_rank([[item.id for item in by_vector], [item.id for item, _ in by_text]], settings.rrf_k)
        ranked = [scored(items[memory_id], score) for memory_id, score in fused[:pool]]
        if settings.expand_top and ranked:
            ranked = self.with_neighbours(cube_id, ranked, settings.expand_top, settings.neighbour_weight, where)
        asked = question or read_question(text, dt.datetime.now(dt.UTC), anchored=False)
        raised = self.fed_back(cube_id, self.boosted(ranked, asked), text, top_k, query_vector.multilingual)
        return self.diversified(cube_id, raised, top_k)

    def boosted(self, ranked: list[TextualMemoryItem], question: Question) -> list[TextualMemoryItem]:
        """The ranking with the question's boosts applied (ranking/context.py), best first."""
        settings = self._config.search
        weights = Weights(settings.time_match_boost, settings.stated_time_boost, settings.speaker_boost)
        return rescored(rerank([(item, item.metadata.relativity or 0.0) for item in ranked], question, weights))

    def fed_back(
        self, cube_id: str, ranked: list[TextualMemoryItem], question: str, top_k: int, multilingual: bool
    ) -> list[TextualMemoryItem]:
        """The ranking after pseudo-relevance feedback (ranking/feedback.py) on its first rerank_window(top_k)
        candidates; as it is when the question's feedback weight is 0 or nothing lies below the top results."""
        settings = self._config.search
        weight = settings.multilingual_feedback_weight if multilingual else settings.feedback_weight
        if weight <= 0 or len(ranked) <= FEEDBACK_DOCS:  # feedback only lifts candidates below the top results
            return ranked
        window, rest = ranked[: rerank_window(top_k)], ranked[rerank_window(top_k) :]
        relativities = [item.metadata.relativity or 0.0 for item in window]
        said_terms = [analyze(said(item)) for item in window[:FEEDBACK_DOCS]]
        terms = feedback_terms(relativities, said_terms, set(analyze(question)))
        found = self._indexes.feedback_scores(
            cube_id, [item.id for item in window], terms, EXPANSION_TERMS, settings.bm25_k1, settings.bm25_b
        )
        values = fed_back(
            relativities, {i: found[item.id] for i, item in enumerate(window) if item.id in found}, weight
        )
        order = sorted(range(len(window)), key=lambda i: -values[i])
        return rescored((window[i], values[i]) for i in order) + rest

    def diversified(self, cube_id: str, ranked: list[TextualMemoryItem], top_k: int) -> list[TextualMemoryItem]:
        """The first top_k of the ranking in maximal-marginal-relevance order (ranking/diversity.py), with the
        penalised relativity; the ranking's first top_k as they are when search.mmr_penalty is 0."""
        penalty = self._config.search.mmr_penalty
        if penalty <= 0 or len(ranked) < 2:
            return ranked[:top_k]
        candidates = ranked[: rerank_window(top_k)]
        similarity = self._indexes.similarities(cube_id, [item.id for item in candidates])
        relativities = [(item, item.metadata.relativity or 0.0) for item in candidates]
        return rescored(diversified(relativities, similarity, penalty, top_k))

    def with_neighbours(
        self,
        cube_id: str,
        ranked: list[TextualMemoryItem],
        expand_top: int,
        weight: float,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem]:
        """Add the conversational neighbours (those passing `where`) of the top hits at a share of their score,
        then re-rank."""
        # Only memories taken from conversations have :Message neighbours; skip the round trip otherwise.
        parents = [item.id for item in ranked[:expand_top] if item.metadata.source == "conversation"]
        if not parents:
            return ranked
        scores = {item.id: item.metadata.relativity or 0.0 for item in ranked}
        items = {item.id: item for item in ranked}
        found = self._indexes.neighbours(cube_id, parents, where)
        for parent in ranked[:expand_top]:
            for neighbour in found.get(parent.id, []):
                score = scores[parent.id] * weight
                if score > scores.get(neighbour.id, 0.0):
                    scores[neighbour.id] = score
                    items.setdefault(neighbour.id, neighbour)
        order = sorted(scores, key=lambda memory_id: -scores[memory_id])
        return [scored(items[memory_id], scores[memory_id]) for memory_id in order]

    def search_cube(self, user_id: str, cube_id: str, vector: Sequence[float], top_k: int) -> list[TextualMemoryItem]:
        """Top-k of one cube as user_id (nothing when it may not read the cube), exact for small cubes, index
        with adaptive over-fetch for large ones; relativity is Neo4j's cosine score, (1 + cos) / 2."""
        found = self._indexes.start(user_id, [cube_id], None, vector, top_k).candidates.get(cube_id)
        return [] if found is None else self.vector_hits(cube_id, vector, top_k, found)

    def vector_hits(
        self,
        cube_id: str,
        vector: Sequence[float],
        top_k: int,
        found: CubeCandidates,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem]:
        """The cube's vector top-k (of memories passing `where`): the exact hits of the first statement, the
        first request of a large cube's own index when the statement made it and enough passed, or the index
        path."""
        if found.cube_size <= self._config.search.exact_scan_max_memories or found.total == 0:
            return found.by_vector[:top_k]
        own = found.own_index if self._config.search.dedicated_index_min_memories is not None else None
        if (
            own is not None
            and found.by_own_index is not None
            and len(found.by_own_index) >= min(top_k, found.cube_size)
        ):
            return found.by_own_index[:top_k]  # its own index's first request, answered by the first statement
        if found.by_own_index is not None and not where.is_empty():
            own = None  # with a filter the own index is asked once, and that was it: on to the shared index
        return self.search_large_cube(cube_id, vector, top_k, found.cube_size, found.total, own, where)

    def search_large_cube(
        self,
        cube_id: str,
        vector: Sequence[float],
        top_k: int,
        cube_size: int,
        total: int,
        own_index: str | None = None,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem]:
        """Top-k of a cube above the exact-scan size. Its own vector index if it has one: every answer is the
        cube's, so it asks top_k times overfetch_factor (for the HNSW's recall). Else the shared index with
        adaptive over-fetch (the cube's share of the graph sets the first request). Each doubles while too few
        survive; the exact scan answers past max_candidates or while an index is unavailable (populating,
        rebuilding). With a filter the index is asked once: how many memories pass is unknown, and a selective
        filter would double the request up to max_candidates for nothing; the exact scan over the cube, filtered,
        answers when that one request yields too few (so a filter never leaves fewer than top_k results where
        the cube holds that many matching memories)."""
        settings = self._config.search
        wanted = min(top_k, cube_size)
        if own_index is not None:  # the shared path's request with the cube's share 1, without its floor
            try:
                first = math.ceil(top_k * settings.overfetch_factor)
                found = self.index_rounds(own_index, cube_id, vector, top_k, first, wanted, where)
                if found is not None:
                    return found
            except IndexUnavailable:
                logger.warning("cube %s: its own vector index is unavailable (dropped?); using the shared one", cube_id)
        share = cube_size / total
        candidates = max(settings.min_candidates, math.ceil(top_k / share * settings.overfetch_factor))
        try:
            found = self.index_rounds(None, cube_id, vector, top_k, candidates, wanted, where)
            if found is not None:
                return found
        except IndexUnavailable:
            logger.warning("vector index unavailable (rebuilding?); scanning cube %s exactly", cube_id)
        return self._indexes.search_exact(cube_id, vector, top_k, where)

    def index_rounds(
        self,
        own_index: str | None,
        cube_id: str,
        vector: Sequence[float],
        top_k: int,
        candidates: int,
        wanted: int,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem] | None:
        """Ask the cube's own index (None: the shared one) for `candidates`, doubling until `wanted` of the cube's
        memories (passing `where`) survive; None past max_candidates, or after the first request when there is a
        filter."""
        while candidates <= self._config.search.max_candidates:
            found = self._indexes.nearest(cube_id, vector, top_k, candidates, own_index, where)
            if len(found) >= wanted:
                return found
            if not where.is_empty():
                return None
            candidates *= 2
        return None


def check_threshold(threshold: float | None) -> float:
    """The minimum relativity a result must have: a number in [0, 1], or None for no minimum."""
    if threshold is None:
        return 0.0
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
        raise InvalidInput(f"threshold must be a number from 0 to 1, not {threshold!r}")
    return float(threshold)


def relevance(query: QueryVector, item: TextualMemoryItem) -> float:
    """The item's cosine score (its relativity as the vector side returned it) as a relevance in [0, 1], read
    with the question's model's map."""
    return cosine_relevance(item.metadata.relativity or 0.0, query.scale, query.offset)


def scored(item: TextualMemoryItem, score: float) -> TextualMemoryItem:
    """The item with `metadata.relativity` set to the score."""
    return item.model_copy(update={"metadata": item.metadata.model_copy(update={"relativity": score})})


def rescored(pairs: Iterable[tuple[TextualMemoryItem, float]]) -> list[TextualMemoryItem]:
    """The items of (item, score) pairs in their order, each carrying its score (copied only where it changed)."""
    return [item if score == item.metadata.relativity else scored(item, score) for item, score in pairs]


def rerank_window(top_k: int) -> int:
    """How many of a cube's first results feedback re-scores and MMR chooses among."""
    return 2 * top_k + 20

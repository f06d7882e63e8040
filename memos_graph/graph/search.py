"""The search's reads: every statement a search runs, behind domain values (a query's text and vector in,
candidates out), and the one way the search service reaches the graph.

How a text becomes the per-cube BM25 index's terms (the analyzer that also writes the postings) and which
vector index a cube's search asks are the graph's business; the search service passes the question and the
cube, and chooses only between a cube's own index (the token CubeCandidates.own_index hands out) and the
shared one.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence

from memos_graph.config import MOSConfig
from memos_graph.deadlines import phase
from memos_graph.domain import NO_FILTER, MemoryFilter, TextualMemoryItem, User
from memos_graph.errors import IndexUnavailable
from memos_graph.graph.cubes import CubeRelation, relation_from_record
from memos_graph.graph.memory_nodes import ItemsOnce, item_from_node
from memos_graph.graph.schema import VECTOR_INDEX
from memos_graph.graph.store import GraphStore
from memos_graph.graph.users import to_user_from_map
from memos_graph.ranking.analyzer import query_terms

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CubeSearch:
    """What a search's first round trip asks (search_cubes_hybrid.cypher), as `user_id`: the caller, its
    relation to the named cubes (None: the cubes loaded for it), and for each cube it may read, while there are
    at most `max_cubes` of them: the cube's size, the graph's, its exact vector top-`limit` (only when it holds
    at most `exact_max` memories; -1 skips the scan) and its BM25 top-`limit` of `terms` (none: no text
    ranking; Lucene's `k1` and `b`) with the ceiling; both rankings only of memories that pass `where`,
    restricted before their limit. With `own_candidates` > 0, a cube above exact_max whose own vector index is
    online also gets that index's top-`limit` among own_candidates neighbours (as `nearest`), in by_own_index."""

    user_id: str
    cube_ids: Sequence[str] | None
    terms: Sequence[str]
    vector: Sequence[float]
    limit: int
    exact_max: int
    k1: float
    b: float
    max_cubes: int
    where: MemoryFilter = NO_FILTER
    own_candidates: int = 0


@dataclasses.dataclass(frozen=True)
class CubeCandidates:
    """What the first round trip of a hybrid search found in one cube (see search_cubes_hybrid)."""

    cube_size: int
    total: int
    by_vector: list[TextualMemoryItem]  # exact top-k; empty when the cube is larger than the exact-scan size
    ceiling: float
    by_text: list[tuple[TextualMemoryItem, float]]  # (memory with its cosine as relativity, BM25 score)
    own_index: str | None = None  # the cube's own vector index (graph/cube_index.py), if it has one
    # That index's first request, answered in the same round trip (None: not asked there; the caller asks).
    by_own_index: list[TextualMemoryItem] | None = None


@dataclasses.dataclass(frozen=True)
class SearchStart:
    """What a search's first round trip found (see search_cubes_hybrid): the caller as stored now (None: no
    such user), its relation to each cube considered, and the candidates of each cube it may read."""

    caller: User | None
    relations: dict[str, CubeRelation]
    candidates: dict[str, CubeCandidates]


class SearchIndexes:
    """The search's reads over one store, with the configuration's exact-scan size, BM25 parameters and cube
    limit (read at each call, so a changed configuration applies)."""

    def __init__(self, store: GraphStore, config: MOSConfig) -> None:
        self._store = store
        self._config = config

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
        index adds its index search): the text's terms rank on the BM25 side (None: only the vector side
        ranks)."""
        settings = self._config.search
        request = CubeSearch(
            user_id,
            cube_ids,
            [] if text is None else query_terms(text),
            vector,
            limit,
            settings.exact_scan_max_memories,
            settings.bm25_k1,
            settings.bm25_b,
            self._config.limits.max_cubes_per_search,
            where,
            self.own_index_request(limit) if settings.dedicated_index_min_memories is not None else 0,
        )
        with phase("Neo4j search"):
            try:
                return self.search_cubes_hybrid(request)
            except IndexUnavailable:
                if request.own_candidates == 0:
                    raise
                # A cube's own index named on it but not usable (dropped by hand?): without it; the caller's
                # index path then falls back to the shared index.
                logger.warning("a cube's own vector index is unavailable; searching without it")
                return self.search_cubes_hybrid(dataclasses.replace(request, own_candidates=0))

    def own_index_request(self, top_k: int) -> int:
        """How many neighbours a cube's own vector index is first asked for, to keep top_k (its share is 1)."""
        return math.ceil(top_k * self._config.search.overfetch_factor)

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
        given, else from the shared one (search_index.cypher)."""
        rows = self._store.read_chosen(
            "search_index",
            where.choices(),
            {
                "index_name": VECTOR_INDEX if own_index is None else own_index,
                "cube_id": cube_id,
                "vector": list(vector),
                "top_k": top_k,
                "candidates": candidates,
                "filter": where.parameters(),
            },
        )
        return [item_from_node(row["memory"], float(row["score"])) for row in rows]

    def search_exact(
        self, cube_id: str, vector: Sequence[float], top_k: int, where: MemoryFilter = NO_FILTER
    ) -> list[TextualMemoryItem]:
        """Exact cosine top-k over the cube's active memories that pass `where`."""
        rows = self._store.read_chosen(
            "search_exact",
            where.choices(),
            {
                "cube_id": cube_id,
                "vector": list(vector),
                "top_k": top_k,
                "filter": where.parameters(),
            },
        )
        return [item_from_node(row["memory"], float(row["score"])) for row in rows]

    def search_small_cube(
        self, user_id: str, cube_id: str, vector: Sequence[float], top_k: int, exact_max: int
    ) -> tuple[int, int, list[TextualMemoryItem]]:
        """(memories in the cube, memories in the graph, exact top-k if the cube holds at most exact_max), as
        user_id: the search statement for one cube and no query terms (zeros when the user may not read it)."""
        found = self.search_cubes_hybrid(CubeSearch(user_id, [cube_id], [], vector, top_k, exact_max, 1.0, 1.0, 1))
        cube = found.candidates.get(cube_id)
        return (0, 0, []) if cube is None else (cube.cube_size, cube.total, cube.by_vector)

    def search_cubes_hybrid(self, request: CubeSearch) -> SearchStart:
        """One round trip for a whole search (search_cubes_hybrid.cypher; see CubeSearch for what it asks)."""
        where, own_candidates, exact_max = request.where, request.own_candidates, request.exact_max
        rows = self._store.read_chosen(
            "search_cubes_hybrid",
            where.choices(),
            {
                "user_id": request.user_id,
                "cube_ids": None if request.cube_ids is None else list(request.cube_ids),
                "terms": list(request.terms),
                "vector": list(request.vector),
                "top_k": request.limit,
                "exact_max": exact_max,
                "k1": request.k1,
                "b": request.b,
                "max_cubes": request.max_cubes,
                "filter": where.parameters(),
                "own_candidates": own_candidates,
            },
        )
        if not rows:
            return SearchStart(None, {}, {})
        relations: dict[str, CubeRelation] = {}
        candidates: dict[str, CubeCandidates] = {}
        item = ItemsOnce()
        for row in rows:
            if row["cube"] is None:
                continue
            relation = relation_from_record(row)
            cube_id = relation.cube.cube_id
            relations[cube_id] = relation
            if row["searched"]:
                own_index = row["cube"].get("vector_index")
                asked = own_candidates > 0 and own_index is not None and int(row["cube_memories"]) > exact_max
                candidates[cube_id] = CubeCandidates(
                    cube_size=int(row["cube_memories"]),
                    total=int(row["total_memories"]),
                    by_vector=[item(hit["memory"], float(hit["score"])) for hit in row["hits"]],
                    ceiling=float(row["ceiling"]),
                    by_text=[
                        (item(hit["memory"], float(hit["similarity"])), float(hit["score"])) for hit in row["text_hits"]
                    ],
                    own_index=own_index,
                    by_own_index=(
                        [item(hit["memory"], float(hit["score"])) for hit in row["index_hits"]] if asked else None
                    ),
                )
        return SearchStart(to_user_from_map(rows[0]["user"]), relations, candidates)

    def search_terms(
        self,
        user_id: str,
        cube_id: str,
        terms: Sequence[str],
        vector: Sequence[float],
        limit: int,
        k1: float,
        b: float,
    ) -> tuple[float, list[tuple[TextualMemoryItem, float]]]:
        """The cube's best `limit` BM25 matches (per-cube statistics) with the score's ceiling; each item's
        relativity is its cosine to `vector` (0..1 as Neo4j gives it), paired with its BM25 score:
        the search statement as user_id for one cube without its vector scan (nothing when it may not read it)."""
        if not terms:
            return 0.0, []
        found = self.search_cubes_hybrid(CubeSearch(user_id, [cube_id], terms, vector, limit, -1, k1, b, 1))
        cube = found.candidates.get(cube_id)
        return (0.0, []) if cube is None else (cube.ceiling, cube.by_text)

    def neighbours(
        self, cube_id: str, memory_ids: Sequence[str], where: MemoryFilter = NO_FILTER
    ) -> dict[str, list[TextualMemoryItem]]:
        """For each memory, the memories of its messages' conversational neighbours (NEXT either way) that pass
        `where`."""
        rows = self._store.read_chosen(
            "memory_neighbours",
            where.choices(),
            {
                "cube_id": cube_id,
                "memory_ids": list(memory_ids),
                "filter": where.parameters(),
            },
        )
        return {row["memory_id"]: [item_from_node(node) for node in row["neighbours"]] for row in rows}

    def similarities(self, cube_id: str, memory_ids: Sequence[str]) -> dict[tuple[int, int], float]:
        """Cosine similarity of each pair of the cube's given memories, keyed (i, j) with i < j by position in
        `memory_ids`; pairs with a memory of another cube (or none) are absent."""
        if len(memory_ids) < 2:
            return {}
        rows = self._store.read("memory_similarities", cube_id=cube_id, memory_ids=list(memory_ids))
        return {(int(row["i"]), int(j)): float(cos) for row in rows for j, cos in row["similar"]}

    def feedback_scores(
        self,
        cube_id: str,
        memory_ids: Sequence[str],
        terms: Mapping[str, float],
        expansion_terms: int,
        k1: float,
        b: float,
    ) -> dict[str, float]:
        """BM25 scores of the cube's given memories for pseudo-relevance feedback's second query (the
        `expansion_terms` weightiest of `terms`, weights before idf; memory_feedback.cypher); memories holding
        none of its terms are left out."""
        if not terms or not memory_ids:
            return {}
        rows = self._store.read(
            "memory_feedback",
            cube_id=cube_id,
            memory_ids=list(memory_ids),
            terms=[{"term": term, "weight": weight} for term, weight in terms.items()],
            expansion_terms=expansion_terms,
            k1=k1,
            b=b,
        )
        return {str(row["id"]): float(row["score"]) for row in rows}

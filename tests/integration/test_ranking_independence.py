"""A cube's ranking is a function of its own memories and the query: other tenants cannot move it.

Also: the per-cube BM25 statistics kept in the graph stay exact through adds, updates, deletes and imports,
and thresholds filter on the documented 0..1 relevance.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from memos_graph import MOS, InvalidInput, TextualMemoryItem, TextualMemoryMetadata
from memos_graph.graph.search import SearchIndexes
from memos_graph.ranking import bm25
from memos_graph.ranking.analyzer import analyze, query_terms
from memos_graph.services.memories import Entry
from memos_graph.services.runtime import Runtime
from memos_graph.services.search import SearchService
from tests.integration.test_messages import CONVERSATION
from tests.integration.test_search import GARDEN, SPORTS

pytestmark = pytest.mark.neo4j

QUERIES = [
    "When should I plant the tulip bulbs?",
    "Who scored a late goal in the football match?",
    "What did Caroline say about the support group?",
    "roses frost compost",
    "Which plant likes a sunny windowsill?",
]
Snapshot = dict[str, list[tuple[str, float]]]


def services(runtime: Runtime, root: MOS, **search: object) -> SearchService:
    config = runtime.config.model_copy(update={"search": runtime.config.search.model_copy(update=search)})
    return SearchService(config, runtime.embedder, SearchIndexes(runtime.store, config), root.cubes)


def snapshot(runtime: Runtime, root: MOS, cube: str) -> Snapshot:
    """Every ranking of every query: vector, BM25, and both fusions with neighbour expansion."""
    convex, rrf = services(runtime, root, fusion="convex"), services(runtime, root, fusion="rrf")
    found: Snapshot = {}
    for query in QUERIES:
        (vector,) = runtime.embedder.embed([query])
        by_vector = convex.search_cube(root.user_id, cube, vector, 30)
        found[f"vector {query}"] = [(m.id, m.metadata.relativity or 0.0) for m in by_vector]
        terms = query_terms(query)
        _, by_text = runtime.search.search_terms(root.user_id, cube, terms, vector, 30, 1.2, 0.75)
        found[f"bm25 {query}"] = [(m.id, score) for m, score in by_text]
        for name, service in (("convex", convex), ("rrf", rrf)):
            ranked = service.search_hybrid(root.user_id, cube, query, vector, 10)
            found[f"{name} {query}"] = [(m.id, m.metadata.relativity or 0.0) for m in ranked]
    return found


def filler(count: int, seed: int) -> list[str]:
    """Texts that share the target cube's vocabulary (so they would move shared statistics), unique each."""
    rng = random.Random(seed)
    words = sorted({w for text in GARDEN + SPORTS for w in text.lower().split()} | {"caroline", "group", "support"})
    return [" ".join(rng.choices(words, k=rng.randint(3, 12))) + f" filler {i}" for i in range(count)]


def test_other_tenants_change_no_ranking(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    owner, other = root.create_user(uid("quiet")), root.create_user(uid("loud"))
    cube = root.create_cube_for_user("quiet", owner_id=owner)
    root.add(memory_content=GARDEN + SPORTS, mem_cube_id=cube, user_id=owner)
    root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=owner, session_id="s1")
    alone = snapshot(runtime, root, cube)
    assert all(alone[f"bm25 {q}"] for q in QUERIES) and all(alone[f"convex {q}"] for q in QUERIES)

    loud = root.create_cube_for_user("loud", owner_id=other)
    rng = random.Random(7)
    dimension = runtime.embedder.dimension
    actor = root.cubes.actor(other)
    texts = filler(3_000, seed=11)
    for start in range(0, len(texts), 1_000):
        entries = []
        for text in texts[start : start + 1_000]:
            raw = [rng.gauss(0.0, 1.0) for _ in range(dimension)]
            norm = sum(x * x for x in raw) ** 0.5
            entries.append(Entry(text, TextualMemoryMetadata(source="system"), vector=[x / norm for x in raw]))
        root.memories.store(actor, loud, None, entries)
    assert snapshot(runtime, root, cube) == alone

    root.delete_all(mem_cube_id=loud, user_id=other)
    assert snapshot(runtime, root, cube) == alone


def stored_statistics(runtime: Runtime, cube: str) -> tuple[int, int, int, int]:
    """(term_total on the cube, sum of its memories' term_count, HAS_TERM edges, distinct terms of the texts)."""
    rows = runtime.store.run_statement(
        "MATCH (c:MemCube {id: $cube}) "
        "OPTIONAL MATCH (c)-[:HAS_MEMORY]->(m:Memory) "
        "RETURN c.term_total AS total, sum(m.term_count) AS lengths, "
        "sum(COUNT { (m)-[:HAS_TERM]->(:Term {cube_id: $cube}) }) AS edges, collect(m.memory) AS texts",
        cube=cube,
    )
    texts = rows[0]["texts"]
    distinct = sum(len(set(analyze(text))) for text in texts)
    assert sum(len(analyze(text)) for text in texts) == rows[0]["lengths"]
    return int(rows[0]["total"] or 0), int(rows[0]["lengths"]), int(rows[0]["edges"]), distinct


def assert_index_exact(runtime: Runtime, cube: str) -> None:
    total, lengths, edges, distinct = stored_statistics(runtime, cube)
    assert total == lengths
    assert edges == distinct


def test_bm25_statistics_stay_exact_through_every_write(
    root: MOS, runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    owner = root.create_user(uid("writer"))
    cube = root.create_cube_for_user("writer", owner_id=owner)
    ids = root.add(memory_content=GARDEN, mem_cube_id=cube, user_id=owner)
    root.add(messages=CONVERSATION, mem_cube_id=cube, user_id=owner, session_id="s1")
    assert_index_exact(runtime, cube)
    root.update(cube, ids[0], TextualMemoryItem(memory="Tomatoes tomatoes and more tomato plants"), user_id=owner)
    assert_index_exact(runtime, cube)
    root.delete(cube, ids[1], user_id=owner)
    assert_index_exact(runtime, cube)

    # The Cypher scores equal the reference formula over the cube's own texts.
    texts = [m.memory for m in root.get_all(mem_cube_id=cube, user_id=owner)["text_mem"][0]["memories"]]
    docs = [analyze(text) for text in texts]
    frequencies = bm25.document_frequencies(docs)
    query = "tomato plants in the frost"
    (vector,) = runtime.embedder.embed([query])
    ceiling, hits = runtime.search.search_terms(owner, cube, query_terms(query), vector, 50, 1.2, 0.75)
    expected = dict(zip(texts, bm25.score_corpus(query_terms(query), docs, 1.2, 0.75), strict=True))
    assert {item.memory: score for item, score in hits} == pytest.approx({t: s for t, s in expected.items() if s > 0})
    assert ceiling == pytest.approx(
        bm25.ceiling([bm25.idf(len(docs), frequencies[t]) for t in query_terms(query) if t in frequencies], 1.2)
    )

    # An imported copy carries the same index.
    dump = tmp_path / "dump"
    root.dump(str(dump), mem_cube_id=cube, user_id=owner)
    copy = uid("copy")
    root.register_mem_cube(str(dump), mem_cube_id=copy, user_id=owner)
    assert_index_exact(runtime, copy)
    assert stored_statistics(runtime, copy)[:2] == stored_statistics(runtime, cube)[:2]

    root.delete_all(mem_cube_id=cube, user_id=owner)
    assert stored_statistics(runtime, cube)[:3] == (0, 0, 0)
    assert runtime.store.run_statement("MATCH (t:Term {cube_id: $c}) RETURN count(t) AS n", c=cube)[0]["n"] == 0


def test_threshold_filters_on_relevance(root: MOS, uid: Callable[[str], str]) -> None:
    owner = root.create_user(uid("threshold"))
    cube = root.create_cube_for_user("threshold", owner_id=owner)
    root.add(memory_content=GARDEN + SPORTS, mem_cube_id=cube, user_id=owner)
    everything = root.search("plant tulip bulbs in autumn", user_id=owner, top_k=20)["text_mem"][0]["memories"]
    scores = [m.metadata.relativity for m in everything]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    assert everything[0].memory == "Plant tulip bulbs in autumn"
    cut = (scores[0] + scores[-1]) / 2
    kept = root.search("plant tulip bulbs in autumn", user_id=owner, top_k=20, threshold=cut)["text_mem"][0]["memories"]
    assert kept and len(kept) < len(everything)
    assert all((m.metadata.relativity or 0.0) >= cut for m in kept)
    assert [m.id for m in kept] == [m.id for m in everything[: len(kept)]]
    for bad in (-0.1, 1.1):
        with pytest.raises(InvalidInput):
            root.search("tulips", user_id=owner, threshold=bad)

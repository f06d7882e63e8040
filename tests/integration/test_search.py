"""Search: result shape, scope, bounds, and tenant correctness with 50 cubes on both code paths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memos_graph import MOS, CubeNotAccessible, InvalidInput, UserRole
from memos_graph.config import SearchSettings
from memos_graph.graph.schema import rebuild_search_indexes
from memos_graph.ranking.analyzer import query_terms
from memos_graph.services.runtime import Runtime
from memos_graph.services.search import SearchService

pytestmark = pytest.mark.neo4j

SPORTS = [f"Player {i} scored a late goal in the football match on day {i}" for i in range(20)]
GARDEN = [
    "The tomato seedlings need repotting before the frost",
    "Compost the fallen leaves in a shaded corner",
    "Basil grows best on a sunny windowsill",
    "Prune the roses in late winter",
    "Water the ferns twice a week",
    "Mulch keeps the soil moist in summer",
    "Plant tulip bulbs in autumn",
    "Aphids are gone after spraying soapy water",
    "The apple tree needs a stake against the wind",
    "Lavender attracts bees to the vegetable patch",
]


def test_search_shape_and_scores(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("alice"))
    cube = root.create_cube_for_user("alice", owner_id=user)
    root.add(memory_content=GARDEN + SPORTS[:3], mem_cube_id=cube, user_id=user)
    result = root.search("When should I plant bulbs?", user_id=user, top_k=4)
    assert set(result) == {"text_mem", "act_mem", "para_mem"}
    (group,) = result["text_mem"]
    assert group["cube_id"] == cube
    memories = group["memories"]
    assert len(memories) == 4
    assert memories[0].memory == "Plant tulip bulbs in autumn"
    scores = [m.metadata.relativity for m in memories]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert all(m.metadata.embedding is None for m in memories)


def test_default_top_k_and_bounds(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("alice"))
    cube = root.create_cube_for_user("alice", owner_id=user)
    root.add(memory_content=SPORTS, mem_cube_id=cube, user_id=user)
    assert len(root.search("goal", user_id=user)["text_mem"][0]["memories"]) == root.config.top_k
    for bad in (0, -1, root.config.limits.max_top_k + 1):
        with pytest.raises(InvalidInput):
            root.search("goal", user_id=user, top_k=bad)
    with pytest.raises(InvalidInput):
        root.search("   ", user_id=user)
    with pytest.raises(InvalidInput):
        root.search("x" * (root.config.limits.max_query_chars + 1), user_id=user)


def test_install_cube_ids_narrows_and_checks(root: MOS, uid: Callable[[str], str]) -> None:
    alice, bob = root.create_user(uid("alice")), root.create_user(uid("bob"), UserRole.USER)
    first = root.create_cube_for_user("first", owner_id=alice)
    second = root.create_cube_for_user("second", owner_id=alice)
    bobs = root.create_cube_for_user("bob", owner_id=bob)
    root.add(memory_content="first cube fact", mem_cube_id=first, user_id=alice)
    root.add(memory_content="second cube fact", mem_cube_id=second, user_id=alice)
    root.add(memory_content="bob cube fact", mem_cube_id=bobs, user_id=bob)
    everything = root.search("fact", user_id=alice)
    assert {g["cube_id"] for g in everything["text_mem"]} == {first, second}
    narrowed = root.search("fact", user_id=alice, install_cube_ids=[second])
    assert [g["cube_id"] for g in narrowed["text_mem"]] == [second]
    with pytest.raises(CubeNotAccessible):
        root.search("fact", user_id=alice, install_cube_ids=[second, bobs])


def _tenant_setup(root: MOS, uid: Callable[[str], str]) -> tuple[str, str, list[str]]:
    """50 cubes: 49 full of sentences close to the query, and the target's 10 far from it."""
    owner = root.create_user(uid("tenant"))
    target = root.create_cube_for_user("target", owner_id=owner)
    root.add(memory_content=GARDEN, mem_cube_id=target, user_id=owner)
    for index in range(49):
        other_owner = root.create_user(uid(f"other{index}"))
        other = root.create_cube_for_user(f"other {index}", owner_id=other_owner)
        root.add(memory_content=[f"{s} (cube {index})" for s in SPORTS], mem_cube_id=other, user_id=other_owner)
    return owner, target, GARDEN


@pytest.fixture(scope="module")
def tenant_graph(runtime: Runtime) -> tuple[str, str, list[str]]:
    root = MOS(runtime.config, runtime=runtime)
    import uuid

    token = uuid.uuid4().hex[:8]
    return _tenant_setup(root, lambda name: f"{name}-{token}")


def test_tenant_results_are_complete_with_exact_scan(root: MOS, tenant_graph: tuple[str, str, list[str]]) -> None:
    owner, target, texts = tenant_graph
    result = root.search("who scored the goal in the football match?", user_id=owner, top_k=10)
    (group,) = result["text_mem"]
    assert group["cube_id"] == target
    assert sorted(m.memory for m in group["memories"]) == sorted(texts)


def test_tenant_results_are_complete_through_the_vector_index(
    runtime: Runtime, root: MOS, tenant_graph: tuple[str, str, list[str]]
) -> None:
    owner, target, texts = tenant_graph
    index_only = runtime.config.model_copy(
        update={"search": SearchSettings(exact_scan_max_memories=0, min_candidates=10, max_candidates=1_000_000)}
    )
    service = SearchService(
        Runtime(index_only, runtime.store, runtime.embedder, runtime.users, runtime.cubes, runtime.memories),
        root.cubes,
    )
    (vector,) = runtime.embedder.embed(["who scored the goal in the football match?"])
    found = service.search_cube(target, vector, 10)
    assert sorted(m.memory for m in found) == sorted(texts)
    exact = runtime.memories.search_exact(target, vector, 10)
    assert [m.id for m in found] == [m.id for m in exact]
    for approximate, scanned in zip(found, exact, strict=True):
        assert approximate.metadata.relativity == pytest.approx(scanned.metadata.relativity, abs=1e-3)


def test_bm25_side_keeps_to_the_cube(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    owner, other = root.create_user(uid("quiet")), root.create_user(uid("loud"))
    target = root.create_cube_for_user("quiet", owner_id=owner)
    loud = root.create_cube_for_user("loud", owner_id=other)
    root.add(memory_content=["The zeppelin museum opens on Sundays"] + GARDEN, mem_cube_id=target, user_id=owner)
    root.add(memory_content=[f"Zeppelin zeppelin zeppelin flight number {i}" for i in range(300)],
             mem_cube_id=loud, user_id=other)
    (vector,) = runtime.embedder.embed(["zeppelin"])
    ceiling, found = runtime.memories.search_terms(target, ["zeppelin"], vector, 5, 1.2, 0.75)
    assert [item.memory for item, _ in found] == ["The zeppelin museum opens on Sundays"]
    assert 0 < found[0][1] < ceiling
    hybrid = root.search("zeppelin", user_id=owner, install_cube_ids=[target], top_k=3)
    assert hybrid["text_mem"][0]["memories"][0].memory == "The zeppelin museum opens on Sundays"


def test_search_survives_an_index_rebuild(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    owner = root.create_user(uid("rebuild"))
    cube = root.create_cube_for_user("rebuild", owner_id=owner)
    root.add(memory_content=GARDEN, mem_cube_id=cube, user_id=owner)
    index_only = runtime.config.model_copy(update={"search": SearchSettings(exact_scan_max_memories=0)})
    service = SearchService(
        Runtime(index_only, runtime.store, runtime.embedder, runtime.users, runtime.cubes, runtime.memories),
        root.cubes,
    )
    (vector,) = runtime.embedder.embed(["when do I plant bulbs?"])
    expected = [m.id for m in runtime.memories.search_exact(cube, vector, 3)]
    runtime.store.run_statement("DROP INDEX memory_embedding")
    runtime.store.run_statement("DROP INDEX memory_text")
    try:
        # Both indexes gone: the vector side scans exactly, the BM25 side steps aside; nothing fails.
        assert [m.id for m in service.search_cube(cube, vector, 3)] == expected
        assert len(service.search_hybrid(cube, "plant bulbs", vector, 3)) == 3
    finally:
        rebuild_search_indexes(runtime.store, runtime.embedder.dimension)
    assert [m.id for m in service.search_cube(cube, vector, 3)] == expected


def test_one_round_trip_finds_what_the_separate_queries_find(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    """search_cubes_hybrid over several cubes at once (exact vector top-k and BM25 of each in one statement)
    returns, per cube, exactly what the one-cube calls search_small_cube and search_terms return: ids, order
    and scores (nothing of one cube's rows leaks into another's)."""
    owner = root.create_user(uid("fold"))
    small = root.create_cube_for_user("small", owner_id=owner)
    other = root.create_cube_for_user("other", owner_id=owner)
    empty = root.create_cube_for_user("empty", owner_id=owner)
    root.add(memory_content=GARDEN + SPORTS[:5], mem_cube_id=small, user_id=owner)
    root.add(memory_content=SPORTS + ["Basil and tomato salad for the football party"], mem_cube_id=other,
             user_id=owner)
    query = "When do the tomato and basil go out, and who scored the goal?"
    terms = query_terms(query)
    (vector,) = runtime.embedder.embed([query])
    for exact_max in (100, 5):  # every cube scanned exactly; then `other` too large for the exact scan
        found = runtime.memories.search_cubes_hybrid(
            [small, other, empty, uid("ghost")], terms, vector, 8, exact_max, 0.9, 0.4
        )
        assert set(found) == {small, other, empty}
        for cube in (small, other, empty):
            size, total, hits = runtime.memories.search_small_cube(cube, vector, 8, exact_max)
            ceiling, by_text = runtime.memories.search_terms(cube, terms, vector, 8, 0.9, 0.4)
            got = found[cube]
            assert (got.cube_size, got.total) == (size, total)
            assert [(m.id, m.metadata.relativity) for m in got.by_vector] == [
                (m.id, m.metadata.relativity) for m in hits
            ]
            assert got.ceiling == pytest.approx(ceiling, rel=1e-12)
            assert [(m.id, m.metadata.relativity, s) for m, s in got.by_text] == [
                (m.id, m.metadata.relativity, s) for m, s in by_text
            ]
        assert found[small].by_text and found[other].by_text and not found[empty].by_text
        assert (len(found[other].by_vector) == 0) is (exact_max == 5)

"""Search: result shape, scope, bounds, and tenant correctness with 50 cubes on both code paths."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memos_graph import MOS, CubeNotAccessible, InvalidInput, UserRole
from memos_graph.config import SearchSettings
from memos_graph.graph.schema import rebuild_search_indexes
from memos_graph.graph.search import CubeSearch, SearchIndexes
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
    service = SearchService(index_only, runtime.embedder, SearchIndexes(runtime.store, index_only), root.cubes)
    (vector,) = runtime.embedder.embed(["who scored the goal in the football match?"])
    found = service.search_cube(owner, target, vector, 10)
    assert sorted(m.memory for m in found) == sorted(texts)
    exact = runtime.search.search_exact(target, vector, 10)
    assert [m.id for m in found] == [m.id for m in exact]
    for approximate, scanned in zip(found, exact, strict=True):
        assert approximate.metadata.relativity == pytest.approx(scanned.metadata.relativity, abs=1e-3)


def test_bm25_side_keeps_to_the_cube(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    owner, other = root.create_user(uid("quiet")), root.create_user(uid("loud"))
    target = root.create_cube_for_user("quiet", owner_id=owner)
    loud = root.create_cube_for_user("loud", owner_id=other)
    root.add(memory_content=["The zeppelin museum opens on Sundays"] + GARDEN, mem_cube_id=target, user_id=owner)
    root.add(
        memory_content=[f"Zeppelin zeppelin zeppelin flight number {i}" for i in range(300)],
        mem_cube_id=loud,
        user_id=other,
    )
    (vector,) = runtime.embedder.embed(["zeppelin"])
    ceiling, found = runtime.search.search_terms(owner, target, ["zeppelin"], vector, 5, 1.2, 0.75)
    assert [item.memory for item, _ in found] == ["The zeppelin museum opens on Sundays"]
    assert 0 < found[0][1] < ceiling
    hybrid = root.search("zeppelin", user_id=owner, install_cube_ids=[target], top_k=3)
    assert hybrid["text_mem"][0]["memories"][0].memory == "The zeppelin museum opens on Sundays"


def test_search_survives_an_index_rebuild(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    owner = root.create_user(uid("rebuild"))
    cube = root.create_cube_for_user("rebuild", owner_id=owner)
    root.add(memory_content=GARDEN, mem_cube_id=cube, user_id=owner)
    index_only = runtime.config.model_copy(update={"search": SearchSettings(exact_scan_max_memories=0)})
    service = SearchService(index_only, runtime.embedder, SearchIndexes(runtime.store, index_only), root.cubes)
    (vector,) = runtime.embedder.embed(["when do I plant bulbs?"])
    expected = [m.id for m in runtime.search.search_exact(cube, vector, 3)]
    runtime.store.run_statement("DROP INDEX memory_embedding")
    runtime.store.run_statement("DROP INDEX memory_text")
    try:
        # Both indexes gone: the vector side scans exactly, the BM25 side steps aside; nothing fails.
        assert [m.id for m in service.search_cube(owner, cube, vector, 3)] == expected
        assert len(service.search_hybrid(owner, cube, "plant bulbs", vector, 3)) == 3
    finally:
        rebuild_search_indexes(runtime.store, runtime.embedder.dimension)
    assert [m.id for m in service.search_cube(owner, cube, vector, 3)] == expected


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
    root.add(
        memory_content=SPORTS + ["Basil and tomato salad for the football party"], mem_cube_id=other, user_id=owner
    )
    query = "When do the tomato and basil go out, and who scored the goal?"
    terms = query_terms(query)
    (vector,) = runtime.embedder.embed([query])
    for exact_max in (100, 5):  # every cube scanned exactly; then `other` too large for the exact scan
        start = runtime.search.search_cubes_hybrid(
            CubeSearch(owner, [small, other, empty, uid("ghost")], terms, vector, 8, exact_max, 0.9, 0.4, 20)
        )
        assert start.caller is not None and start.caller.user_id == owner
        found = start.candidates
        assert set(found) == set(start.relations) == {small, other, empty}
        for cube in (small, other, empty):
            size, total, hits = runtime.search.search_small_cube(owner, cube, vector, 8, exact_max)
            ceiling, by_text = runtime.search.search_terms(owner, cube, terms, vector, 8, 0.9, 0.4)
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


def test_the_search_statement_reads_exactly_what_the_access_rule_allows(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    """The search statement decides in Cypher which cubes it ranks; services/access.py decides what the caller
    gets. Over every role and every relation (own, shared READ, shared WRITE, none, a deactivated caller) the
    two agree: a cube is ranked exactly when cube_access says the caller may read it."""
    from memos_graph.domain import Permission
    from memos_graph.services.access import cube_access

    owner = root.create_user(uid("gate-owner"))
    callers = {
        role: root.create_user(uid(f"gate-{role.value}"), role)
        for role in (UserRole.ADMIN, UserRole.USER, UserRole.GUEST)
    }
    callers[UserRole.ROOT] = root.user_id
    cubes = {"unrelated": root.create_cube_for_user("unrelated", owner_id=owner)}
    for role, caller in callers.items():
        for permission in (Permission.READ,) if role is UserRole.GUEST else (Permission.READ, Permission.WRITE):
            cube = root.create_cube_for_user(f"shared {permission.value}", owner_id=owner)
            if role is not UserRole.ROOT:
                root.share_cube_with_user(cube, caller, permission)
            cubes[f"{role.value} {permission.value}"] = cube
        if role is not UserRole.GUEST:  # a GUEST owns no cube
            cubes[f"{role.value} own"] = root.create_cube_for_user("own", owner_id=caller)
    for cube in cubes.values():
        root.add(memory_content=GARDEN[:2], mem_cube_id=cube, user_id=root.user_id)
    (vector,) = runtime.embedder.embed(["roses"])
    checked = 0
    for caller in callers.values():
        for name, cube in cubes.items():
            start = runtime.search.search_cubes_hybrid(
                CubeSearch(caller, [cube], ["roses"], vector, 5, 100, 1.2, 0.75, 20)
            )
            assert start.caller is not None
            relation = start.relations[cube]
            allowed = cube_access(start.caller, relation.cube, relation.shared_permission, relation.is_loaded)
            assert (cube in start.candidates) is allowed.can_read, (caller, name)
            if allowed.can_read:
                assert len(start.candidates[cube].by_vector) == 2
            checked += allowed.can_read
    assert 0 < checked < len(callers) * len(cubes)  # both outcomes occur
    guest = callers[UserRole.GUEST]
    root.deactivate_user(guest)
    start = runtime.search.search_cubes_hybrid(
        CubeSearch(guest, [cubes["guest read"]], [], vector, 5, 100, 1.2, 0.75, 20)
    )
    assert start.caller is not None and not start.caller.is_active and not start.candidates
    nobody = runtime.search.search_cubes_hybrid(
        CubeSearch(uid("nobody"), [cubes["unrelated"]], [], vector, 5, 100, 1, 1, 20)
    )
    assert nobody.caller is None and not nobody.candidates


def test_loaded_cubes_past_the_limit_are_refused_before_any_ranking(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    owner = root.create_user(uid("many"))
    made = [root.create_cube_for_user(f"many {i}", owner_id=owner) for i in range(3)]
    (vector,) = runtime.embedder.embed(["roses"])
    start = runtime.search.search_cubes_hybrid(CubeSearch(owner, None, ["roses"], vector, 5, 100, 1.2, 0.75, 2))
    assert set(start.relations) == set(made) and not start.candidates
    start = runtime.search.search_cubes_hybrid(CubeSearch(owner, None, ["roses"], vector, 5, 100, 1.2, 0.75, 3))
    assert set(start.candidates) == set(made)


def test_timestamps_read_as_text_equal_the_drivers(runtime: Runtime) -> None:
    """Hot-path queries return timestamps through toString (the driver's DateTime objects are slow to build);
    the text converts to exactly what the driver's DateTime gives, nanoseconds and zones included."""
    from memos_graph.graph.convert import iso

    values = [
        "2026-12-01T13:01:34.659024Z",
        "2026-12-01T13:01:34Z",
        "2026-12-01T13:01:34.6Z",
        "2026-12-01T13:01:34.123456789+05:30",
        "2026-12-01T13:01:34.000000500Z",
        "2026-12-01T13:01:34.000001500Z",
        "2026-12-31T23:59:59.9999995Z",
        "1999-01-01T00:00:00.5-08:00",
        "2026-06-01T10:00:00.25[Europe/Paris]",
    ]
    rows = runtime.store.run_statement(
        "UNWIND $values AS value WITH datetime(value) AS d RETURN d, toString(d) AS text", values=values
    )
    assert len(rows) == len(values)
    for row in rows:
        assert iso(row["text"]) == iso(row["d"]), row["text"]
    assert iso("not a date") == "not a date"

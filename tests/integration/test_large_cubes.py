"""A large cube's own vector index (graph/cube_index.py): created when the cube grows past the size, used by
its searches, kept complete by every add, and dropped with the cube."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from memos_graph import MOS
from memos_graph.domain import NO_FILTER, MemoryFilter
from memos_graph.graph.cube_index import dedicated_names
from memos_graph.graph.schema import VECTOR_INDEX
from memos_graph.graph.search import CubeSearch
from memos_graph.services.runtime import Runtime

pytestmark = pytest.mark.neo4j

THRESHOLD = 40
TOPICS = ["tomato", "football", "violin", "glacier", "espresso", "lantern", "harbour", "orchid"]


def sentences(count: int, salt: str) -> list[str]:
    return [
        f"Note {salt} {i}: the {TOPICS[i % len(TOPICS)]} story number {i} told on day {i % 17}" for i in range(count)
    ]


@pytest.fixture
def small_threshold(runtime: Runtime) -> Iterator[MOS]:
    """A MOS whose cubes past 40 memories get their own index (exact scan only up to 10)."""
    search = runtime.config.search.model_copy(
        update={"exact_scan_max_memories": 10, "dedicated_index_min_memories": THRESHOLD, "min_candidates": 10}
    )
    config = runtime.config.model_copy(update={"search": search})
    yield MOS(config, runtime=replace(runtime, config=config))


def own_index_of(runtime: Runtime, cube: str, timeout_s: float = 60.0) -> str:
    """The cube's own index once the background promotion recorded it and Neo4j populated it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = runtime.store.run_statement("MATCH (c:MemCube {id: $id}) RETURN c.vector_index AS name", id=cube)
        if rows and rows[0]["name"]:
            name = str(rows[0]["name"])
            runtime.store.run_statement("CALL db.awaitIndex($name, 60)", name=name)
            return name
        time.sleep(0.1)
    raise AssertionError(f"cube {cube} got no index of its own within {timeout_s} s")


def index_exists(runtime: Runtime, index: str) -> bool:
    return bool(runtime.store.run_statement("SHOW INDEXES YIELD name WHERE name = $name RETURN name", name=index))


def record_index_use(monkeypatch: pytest.MonkeyPatch, runtime: Runtime) -> list[str]:
    """The names of the vector indexes searches ask (the real query runs; this only notes the name)."""
    used: list[str] = []
    real = runtime.search.nearest

    def noting(
        cube_id: str, vector: Any, top_k: int, candidates: int, own_index: str | None = None, where: Any = NO_FILTER
    ) -> Any:
        used.append(VECTOR_INDEX if own_index is None else own_index)
        return real(cube_id, vector, top_k, candidates, own_index, where)

    monkeypatch.setattr(runtime.search, "nearest", noting)
    return used


def test_a_cube_past_the_size_gets_its_own_index_and_its_searches_use_it(
    small_threshold: MOS, runtime: Runtime, uid: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mos = small_threshold
    owner, other = mos.create_user(uid("big")), mos.create_user(uid("neighbour"))
    cube = mos.create_cube_for_user("big", owner_id=owner)
    crowd = mos.create_cube_for_user("crowd", owner_id=other)
    mos.add(memory_content=sentences(THRESHOLD - 1, "crowd"), mem_cube_id=crowd, user_id=other)
    mos.add(memory_content=sentences(THRESHOLD - 5, "big"), mem_cube_id=cube, user_id=owner)
    rows = runtime.store.run_statement("MATCH (c:MemCube {id: $id}) RETURN c.vector_label AS label", id=cube)
    assert rows[0]["label"] is None  # below the size: nothing happens
    mos.add(memory_content=sentences(THRESHOLD, "big")[THRESHOLD - 5 :], mem_cube_id=cube, user_id=owner)
    index = own_index_of(runtime, cube)
    names = dedicated_names(cube)
    assert index == names.index
    # Memories added after the promotion carry the label too: the index holds the whole cube.
    later = mos.add(memory_content=["Note big late: the tomato story told last"], mem_cube_id=cube, user_id=owner)
    labelled = runtime.store.run_statement(
        "MATCH (:MemCube {id: $id})-[:HAS_MEMORY]->(m) RETURN count(m) AS all, "
        "count(CASE WHEN $label IN labels(m) THEN 1 END) AS labelled",
        id=cube,
        label=names.label,
    )
    assert labelled[0]["all"] == THRESHOLD + 1 == labelled[0]["labelled"]
    assert runtime.store.run_statement("MATCH (m:$($label)) RETURN count(m) AS n", label=names.label)[0]["n"] == (
        THRESHOLD + 1
    )  # no memory of another cube
    # Searches of the cube go to its own index, and find what the exact scan finds.
    used = record_index_use(monkeypatch, mos.runtime)
    (vector,) = runtime.embedder.embed(["the tomato story told last"])
    found = mos.searcher.search_cube(owner, cube, vector, 5)
    assert used == []  # its own index answered inside the search statement: no round trip of its own
    start = runtime.search.search_cubes_hybrid(
        CubeSearch(owner, [cube], [], vector, 5, 10, 1.0, 1.0, 20, own_candidates=8)
    )
    in_statement = start.candidates[cube].by_own_index
    assert in_statement is not None  # the statement asked the cube's own index, as nearest does
    separate = mos.runtime.search.nearest(cube, vector, 5, 8, index)
    assert [(m.id, m.metadata.relativity) for m in in_statement] == [(m.id, m.metadata.relativity) for m in separate]
    assert used == [index]  # (that one noted) every answer is the cube's
    exact = runtime.search.search_exact(cube, vector, 5)
    assert [m.id for m in found] == [m.id for m in exact]
    assert found[0].id == later[0]
    result = mos.search("the tomato story told last", user_id=owner, install_cube_ids=[cube], top_k=5)
    assert result["text_mem"][0]["memories"][0].id == later[0]
    # The neighbour below the size uses the shared index and still finds only its own memories.
    crowd_hits = mos.searcher.search_cube(other, crowd, vector, 5)
    assert crowd_hits and all(m.metadata.user_id == other for m in crowd_hits)
    assert used[-1] == "memory_embedding"
    # Deleting the cube drops its index.
    assert index_exists(runtime, index)
    mos.delete_cube(cube)
    assert not index_exists(runtime, index)


def test_a_cube_whose_own_index_is_gone_is_still_searched_completely(
    small_threshold: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    mos = small_threshold
    owner = mos.create_user(uid("fallback"))
    cube = mos.create_cube_for_user("fallback", owner_id=owner)
    mos.add(memory_content=sentences(THRESHOLD + 3, "fallback"), mem_cube_id=cube, user_id=owner)
    index = own_index_of(runtime, cube)
    runtime.store.run_statement(f"DROP INDEX {index}")  # a digest name (checked by dedicated_names' form)
    (vector,) = runtime.embedder.embed(["the glacier story"])
    found = mos.searcher.search_cube(owner, cube, vector, 5)
    assert [m.id for m in found] == [m.id for m in runtime.search.search_exact(cube, vector, 5)]
    # Promoting again (as the next add past the size would) recreates it.
    assert runtime.cube_indexes.promote(cube) == index
    runtime.store.run_statement("CALL db.awaitIndex($name, 60)", name=index)
    assert index_exists(runtime, index)
    mos.delete_cube(cube)


def test_a_filter_that_thins_the_own_index_hits_still_gets_the_exact_answer(
    small_threshold: MOS, runtime: Runtime, uid: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    mos = small_threshold
    owner = mos.create_user(uid("thin"))
    cube = mos.create_cube_for_user("thin", owner_id=owner)
    mos.add(memory_content=sentences(THRESHOLD + 40, "thin"), mem_cube_id=cube, user_id=owner)
    index = own_index_of(runtime, cube)
    (vector,) = runtime.embedder.embed(["the glacier story"])
    where = MemoryFilter(text_contains="tomato")  # 1 memory in 8; the 12 nearest to glacier hold few of them
    start = runtime.search.search_cubes_hybrid(CubeSearch(owner, [cube], [], vector, 3, 10, 1.0, 1.0, 20, where, 12))
    found = start.candidates[cube]
    assert found.by_own_index is not None and len(found.by_own_index) < 3  # asked in the statement: too few
    used = record_index_use(monkeypatch, mos.runtime)
    hits = mos.searcher.vector_hits(cube, vector, 3, found, where)
    assert index not in used  # a filter asks the own index once, and the statement did
    assert [m.id for m in hits] == [m.id for m in runtime.search.search_exact(cube, vector, 3, where)]

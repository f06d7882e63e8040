"""Concurrent writes to one cube and one memory: no duplicates, no lost update.

The rule for updates: last write wins, with history. Concurrent updates of a memory are applied one at a
time (each takes the memory's write lock and checks the version it read); every state an update replaces
becomes a MemoryVersion, so nothing written is lost, and metadata keys merge with the newest state.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from memos_graph import MOS
from memos_graph.domain import TextualMemoryItem, TextualMemoryMetadata
from memos_graph.errors import Conflict
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j
WRITERS = 20


def in_parallel(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls on their own threads at once; each result is the return value or the exception."""

    def attempt(call: Callable[[], object]) -> object:
        try:
            return call()
        except Exception as exc:  # collected for the assertions
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(attempt, calls))


def test_concurrent_updates_of_one_memory_lose_nothing(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    cube = root.create_cube_for_user("race", "root", cube_id=uid("race"))
    (memory_id,) = root.add(memory_content=["draft 0"], mem_cube_id=cube)

    def update(index: int) -> Callable[[], object]:
        metadata = TextualMemoryMetadata.model_validate({f"writer_{index}": index})
        item = TextualMemoryItem(memory=f"draft {index + 1}", metadata=metadata)
        return lambda: root.update(cube, memory_id, item)

    results = in_parallel([update(index) for index in range(WRITERS)])

    assert [r for r in results if isinstance(r, Exception)] == []
    current = root.get(cube, memory_id)
    history = root.get_history(cube, memory_id)
    assert current.metadata.version == WRITERS + 1
    assert [item.metadata.version for item in history] == list(range(WRITERS, 0, -1))  # one per replaced state
    assert sorted(item.memory for item in [current, *history]) == sorted(f"draft {i}" for i in range(WRITERS + 1))
    assert history[-1].memory == "draft 0"
    assert current.metadata.extra_fields() == {f"writer_{i}": i for i in range(WRITERS)}  # every writer's key
    assert count_nodes(runtime, "MemoryVersion", memory_id=memory_id) == WRITERS


def test_concurrent_adds_of_one_text_store_it_once(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    cube = root.create_cube_for_user("same", "root", cube_id=uid("same"))
    results = in_parallel([lambda: root.add(memory_content=["the shared fact"], mem_cube_id=cube)] * WRITERS)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert len({tuple(r) for r in results if isinstance(r, list)}) == 1  # everyone got the same id
    assert count_nodes(runtime, "Memory", cube_id=cube) == 1


def test_adds_and_updates_racing_in_one_cube(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    cube = root.create_cube_for_user("mixed", "root", cube_id=uid("mixed"))
    (target,) = root.add(memory_content=["target v0"], mem_cube_id=cube)
    adds = [lambda i=i: root.add(memory_content=[f"fact {i}"], mem_cube_id=cube) for i in range(WRITERS)]
    updates = [
        lambda i=i: root.update(cube, target, TextualMemoryItem(memory=f"target v{i + 1}")) for i in range(WRITERS)
    ]
    # One update renames the target to a text that an add writes at the same moment.
    clash = [lambda: root.update(cube, target, TextualMemoryItem(memory="fact 0"))]

    results = in_parallel([*adds, *updates, *clash])

    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(error, Conflict) for error in errors), errors  # only the clash may be refused
    assert len(errors) <= 1
    acknowledged = {r[0] for r in results[:WRITERS] if isinstance(r, list)}
    stored = {item.id for item in root.get_all(cube)["text_mem"][0]["memories"]}
    assert acknowledged <= stored
    texts = [item.memory for item in root.get_all(cube)["text_mem"][0]["memories"]]
    assert len(texts) == len(set(texts))  # no duplicate text, whichever of the clash won
    assert texts.count("fact 0") == 1
    assert root.get(cube, target).metadata.version == WRITERS + 2 - len(errors)

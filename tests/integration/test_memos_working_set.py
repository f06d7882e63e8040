"""MemOS tree cubes keep their WorkingMemory (issue 25): MemOS's mem_cube_tree example holds 4 nodes, 2
UserMemory and 2 WorkingMemory copies of the same texts. The copies become the cube's working set
((:MemCube)-[:WORKING]->(:Memory) under their own ids): get_all returns them beside the memories, search finds
each text once, dump writes all 4 nodes back, and a re-import of the dump keeps them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memos_graph import MOS, AccessDenied, NotFound
from memos_graph.domain import TextualMemoryItem
from memos_graph.services.import_plan import ImportPlan
from memos_graph.services.runtime import Runtime
from tests.integration.test_cube_stream import survey_of
from tests.integration.test_cube_transfer import memos_config

pytestmark = pytest.mark.neo4j

TEXTS = ("The user lives in Grenoble with two cats", "The user works at a physics lab")
WORKING, USER = "WorkingMemory", "UserMemory"


def mem_cube_tree_with_working(directory: Path, cube_id: str | None = None) -> dict[str, tuple[str, str]]:
    """A tree_text directory shaped as MemOS's examples/data/mem_cube_tree: each text once as a UserMemory and
    once as a WorkingMemory node of its own (the working copies first, as MemOS lists them); config.json only
    when a cube id is given. Returns every node's id -> (memory_type, text)."""
    directory.mkdir(parents=True)
    if cube_id is not None:
        (directory / "config.json").write_text(json.dumps(memos_config("tree_text", "nomic-embed-text", cube_id)))
    nodes: list[dict[str, Any]] = []
    for memory_type in (WORKING, USER):
        for hour, text in enumerate(TEXTS):
            metadata = {
                "memory_type": memory_type,
                "user_id": "someone-at-memos",
                "status": "activated",
                "tags": ["profile"],
                "created_at": f"2025-06-0{1 + (memory_type == WORKING)}T0{hour}:00:00",
                "updated_at": f"2025-06-0{1 + (memory_type == WORKING)}T0{hour}:30:00",
            }
            nodes.append({"id": str(uuid.uuid4()), "memory": text, "metadata": metadata})
    (directory / "textual_memory.json").write_text(
        json.dumps({"nodes": nodes, "edges": [], "total_nodes": len(nodes), "total_edges": 0})
    )
    return {node["id"]: (node["metadata"]["memory_type"], node["memory"]) for node in nodes}


def listed(mos: MOS, cube: str, user: str, **filter: Any) -> list[TextualMemoryItem]:
    (group,) = mos.get_all(cube, user_id=user, filter=filter or None)["text_mem"]
    assert group["cube_id"] == cube
    return list(group["memories"])


def shapes(items: list[TextualMemoryItem]) -> dict[str, tuple[str, str]]:
    return {item.id: (str(item.metadata.memory_type), item.memory) for item in items}


def dumped_nodes(directory: Path) -> dict[str, tuple[str, str]]:
    tree = json.loads((directory / "textual_memory.json").read_text())
    assert tree["total_nodes"] == len(tree["nodes"])
    return {node["id"]: (node["metadata"]["memory_type"], node["memory"]) for node in tree["nodes"]}


def working_edges(runtime: Runtime, ids: list[str]) -> int:
    """WORKING edges with these ids anywhere in the graph (a test's own check, not a service query)."""
    records, _, _ = runtime.store.driver.execute_query(
        "MATCH ()-[w:WORKING]->() WHERE w.id IN $ids RETURN count(w) AS n",
        ids=ids,
        database_=runtime.store.database,
    )
    return int(records[0]["n"])


def test_mem_cube_tree_round_trips_with_its_working_memory(
    root: MOS, runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    user = root.create_user(uid("tree"))
    original = mem_cube_tree_with_working(tmp_path / "mem_cube_tree")
    cube = root.register_mem_cube(str(tmp_path / "mem_cube_tree"), mem_cube_id=uid("tree-cube"), user_id=user)

    # get_all: both user memories and both working entries, under the file's ids, as MemOS returns them
    items = listed(root, cube, user)
    assert shapes(items) == original
    assert [item.metadata.memory_type for item in items] == [USER, USER, WORKING, WORKING]
    working = [item for item in items if item.metadata.memory_type == WORKING]
    assert [item.memory for item in working] == list(TEXTS)  # the working set keeps the file's order
    assert working[0].metadata.created_at is not None and working[0].metadata.created_at.startswith("2025-06-02")
    assert all(item.metadata.tags == ["profile"] for item in items)
    # the filter sees each entry as what it is
    assert shapes(listed(root, cube, user, memory_type=WORKING)) == {
        i: v for i, v in original.items() if v[0] == WORKING
    }
    assert shapes(listed(root, cube, user, memory_type=USER)) == {i: v for i, v in original.items() if v[0] == USER}
    assert len(listed(root, cube, user, text_contains="grenoble")) == 2

    # search finds each text once, as the memory (the working set is not a second copy of the text)
    found = root.search("Where does the user live and work?", user_id=user, install_cube_ids=[cube], top_k=10)
    (group,) = found["text_mem"]
    assert sorted(item.memory for item in group["memories"]) == sorted(TEXTS)
    assert {item.metadata.memory_type for item in group["memories"]} == {USER}

    # dump writes the 4 nodes back with their memory types and ids
    root.dump(str(tmp_path / "first"), user_id=user, mem_cube_id=cube)
    assert dumped_nodes(tmp_path / "first") == original

    # re-imported beside the original: the graph holds the ids, so every id is new, and the working set stays
    copy = root.register_mem_cube(str(tmp_path / "first"), mem_cube_id=uid("tree-copy"), user_id=user)
    copied = listed(root, copy, user)
    assert sorted(shapes(copied).values()) == sorted(original.values())
    assert not set(shapes(copied)) & set(original)
    # once the original is gone (its working set with it), a re-import keeps the file's ids: dump -> import ->
    # dump gives the same nodes
    root.delete_cube(cube, user_id=user)
    assert working_edges(runtime, list(original)) == 0
    again = root.register_mem_cube(str(tmp_path / "first"), mem_cube_id=uid("tree-again"), user_id=user)
    assert shapes(listed(root, again, user)) == original
    root.dump(str(tmp_path / "second"), user_id=user, mem_cube_id=again)
    assert dumped_nodes(tmp_path / "second") == original
    assert [
        n["metadata"]["memory_type"]
        for n in json.loads((tmp_path / "second" / "textual_memory.json").read_text())["nodes"]
    ] == [USER, USER, WORKING, WORKING]


def test_deleting_a_memory_drops_its_working_entry(
    root: MOS, runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    user = root.create_user(uid("delete"))
    original = mem_cube_tree_with_working(tmp_path / "tree")
    cube = root.register_mem_cube(str(tmp_path / "tree"), mem_cube_id=uid("delete-cube"), user_id=user)
    lives = next(i for i, (kind, text) in original.items() if kind == USER and text == TEXTS[0])
    root.delete(cube, lives, user_id=user)
    left = shapes(listed(root, cube, user))
    assert sorted(left.values()) == [(USER, TEXTS[1]), (WORKING, TEXTS[1])]
    working_ids = [i for i, (kind, _) in original.items() if kind == WORKING]
    assert working_edges(runtime, working_ids) == 1  # no dangling entry for the deleted memory
    root.dump(str(tmp_path / "after"), user_id=user, mem_cube_id=cube)
    assert sorted(dumped_nodes(tmp_path / "after").values()) == [(USER, TEXTS[1]), (WORKING, TEXTS[1])]
    # get and delete by a working entry's own id, as MemOS does with its WorkingMemory nodes
    entry_id = next(i for i, (kind, text) in original.items() if kind == WORKING and text == TEXTS[1])
    entry = root.get(cube, entry_id, user_id=user)
    assert (entry.id, entry.memory, entry.metadata.memory_type) == (entry_id, TEXTS[1], WORKING)
    root.delete(cube, entry_id, user_id=user)  # the entry leaves the working set; its memory stays
    assert sorted(shapes(listed(root, cube, user)).values()) == [(USER, TEXTS[1])]
    with pytest.raises(NotFound):
        root.get(cube, entry_id, user_id=user)
    with pytest.raises(NotFound):
        root.delete(cube, entry_id, user_id=user)
    root.delete_all(cube, user_id=user)
    assert listed(root, cube, user) == [] and working_edges(runtime, working_ids) == 0


def test_a_second_users_copy_keeps_its_own_working_set(root: MOS, uid: Callable[[str], str], tmp_path: Path) -> None:
    first, second = root.create_user(uid("first")), root.create_user(uid("second"))
    hub_id = f"{uid('Ki-Seki')}/mem_cube_tree"
    original = mem_cube_tree_with_working(tmp_path / "mem_cube_tree", cube_id=hub_id)
    directory = str(tmp_path / "mem_cube_tree")
    assert root.register_mem_cube(directory, user_id=first) == hub_id
    copy = root.register_mem_cube(directory, user_id=second)
    assert copy == f"{hub_id}@{second}"

    mine, theirs = listed(root, hub_id, first), listed(root, copy, second)
    assert shapes(mine) == original
    # the copy's ids are its own (the graph held the file's), its working set too, pointing at its memories
    assert sorted(shapes(theirs).values()) == sorted(original.values())
    assert not set(shapes(theirs)) & set(original)
    # each user reads only its own working set
    mine_entry = next(item.id for item in mine if item.metadata.memory_type == WORKING)
    for call in (
        lambda: root.get_all(hub_id, user_id=second),
        lambda: root.get(hub_id, mine_entry, user_id=second),
        lambda: root.delete(hub_id, mine_entry, user_id=second),
    ):
        with pytest.raises((AccessDenied, NotFound)):
            call()
    with pytest.raises(NotFound):  # nor through its own cube
        root.get(copy, mine_entry, user_id=second)
    everything = root.get_all(user_id=second)["text_mem"]
    assert [group["cube_id"] for group in everything if group["memories"]] == [copy]
    # deleting in the copy leaves the first user's working set alone
    theirs_user = next(item.id for item in theirs if item.metadata.memory_type == USER)
    root.delete(copy, theirs_user, user_id=second)
    assert len([i for i in listed(root, copy, second) if i.metadata.memory_type == WORKING]) == 1
    assert [i for i in listed(root, hub_id, first) if i.metadata.memory_type == WORKING] == [
        i for i in mine if i.metadata.memory_type == WORKING
    ]


def test_the_plan_stores_each_text_once_and_keeps_working_copies_as_entries(tmp_path: Path) -> None:
    ids = [str(uuid.UUID(int=i + 1)) for i in range(6)]
    rows = [  # (memory_type, text): a working copy before its memory, one alone, one after its memory, a repeat
        ("WorkingMemory", "a"),
        ("UserMemory", "a"),
        ("WorkingMemory", "b"),
        ("LongTermMemory", "c"),
        ("WorkingMemory", "c"),
        ("LongTermMemory", "c"),
    ]
    nodes = [
        {"id": i, "memory": f"text {text}", "metadata": {"memory_type": kind}}
        for i, (kind, text) in zip(ids, rows, strict=True)
    ]
    edges = [{"source": ids[0], "target": ids[3], "type": "RELATE_TO"}]
    path = tmp_path / "plan" / "textual_memory.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"nodes": nodes, "edges": edges}))
    plan = ImportPlan.build(survey_of(path), "plan-cube", taken=False, reuse_vectors=False, importer="root")

    # memories: the user memory of "a" (not its earlier working copy), "b" (only a working node holds it), "c"
    assert plan.kept == [False, True, True, True, False, False]
    assert [(entry.id, entry.memory_id) for entry in plan.working] == [(ids[0], ids[1]), (ids[4], ids[3])]
    assert plan.merged == 1  # the second LongTermMemory "c"
    batches = list(plan.batches(10, 10_000, lambda texts: [[0.1] * 896 for _ in texts]))
    stored = [(m.id, m.metadata.memory_type) for b in batches for m in b.memories]
    assert stored == [(ids[1], "UserMemory"), (ids[2], "WorkingMemory"), (ids[3], "LongTermMemory")]
    working = [(w.id, w.memory_id, w.position) for b in batches for w in b.working]
    assert working == [(ids[0], ids[1], 0), (ids[4], ids[3], 1)]
    # an edge of a working copy lands on the memory holding its text, after the working set is written
    assert [(e.source, e.target) for e in batches[-1].edges] == [(ids[1], ids[3])]
    assert [bool(b.working) for b in batches] == [False, True, False]

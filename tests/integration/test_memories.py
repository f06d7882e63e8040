"""Memory CRUD through the MOS API: batched add with dedup, get, get_all, update with history, delete."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import SecretStr, ValidationError

from memos_graph import (
    MOS,
    BackendUnavailable,
    Conflict,
    FeatureNotAvailable,
    InvalidInput,
    MOSConfig,
    NotFound,
    TextualMemoryItem,
    TextualMemoryMetadata,
    UserRole,
)
from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j


@pytest.fixture
def alice(root: MOS, uid: Callable[[str], str]) -> tuple[str, str]:
    """A USER with one cube of its own: (user id, cube id)."""
    user = root.create_user(uid("alice"), UserRole.USER)
    return user, root.create_cube_for_user("alice", owner_id=user)


def memories_of(root: MOS, cube: str, user: str) -> list[TextualMemoryItem]:
    groups = root.get_all(cube, user_id=user)["text_mem"]
    assert [g["cube_id"] for g in groups] == [cube]
    memories: list[TextualMemoryItem] = groups[0]["memories"]
    return memories


def test_add_list_stores_each_text_once_in_order(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    texts = ["I like football", "I live in Lyon", "  I like football  ", "My cat is called Miso"]
    ids = root.add(memory_content=texts, mem_cube_id=cube, user_id=user, session_id="s1")
    assert len(ids) == 3 and len(set(ids)) == 3
    stored = memories_of(root, cube, user)
    assert [m.memory for m in stored] == ["I like football", "I live in Lyon", "My cat is called Miso"]
    assert [m.id for m in stored] == ids
    assert all(m.metadata.user_id == user and m.metadata.session_id == "s1" for m in stored)
    assert all(m.metadata.status == "activated" and m.metadata.version == 1 for m in stored)
    # A later add of stored text returns the stored memory instead of a copy.
    again = root.add(memory_content=["I like   football", "New fact"], mem_cube_id=cube, user_id=user)
    assert again[0] == ids[0] and again[1] not in ids
    assert len(memories_of(root, cube, user)) == 4


def test_add_without_cube_uses_default_cube(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    (memory_id,) = root.add(memory_content="goes to the default cube", user_id=user)
    assert root.get(cube, memory_id, user_id=user).memory == "goes to the default cube"


def test_add_without_any_cube_is_refused(root: MOS, uid: Callable[[str], str]) -> None:
    user = root.create_user(uid("cubeless"))
    with pytest.raises(InvalidInput, match="no loaded cube"):
        root.add(memory_content="where would this go?", user_id=user)


def test_get_returns_item_with_metadata(root: MOS, alice: tuple[str, str], runtime: Runtime) -> None:
    user, cube = alice
    (memory_id,) = root.add(memory_content="Paris is the capital of France", mem_cube_id=cube, user_id=user)
    item = root.get(cube, memory_id, user_id=user)
    assert item.id == item.memory_id == memory_id
    assert item.memory == "Paris is the capital of France"
    assert item.metadata.created_at and item.metadata.created_at == item.created_at
    assert item.metadata.embedding is None
    edge = runtime.store.run_statement(
        "MATCH (:MemCube {id: $c})-[:HAS_MEMORY]->(m:Memory {id: $m}) RETURN size(m.embedding) AS dim",
        c=cube,
        m=memory_id,
    )
    assert edge[0]["dim"] == 896


def test_get_unknown_memory(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    with pytest.raises(NotFound):
        root.get(cube, "00000000-0000-4000-8000-000000000000", user_id=user)
    with pytest.raises(InvalidInput):
        root.get(cube, "not-a-uuid", user_id=user)


def test_memory_of_another_cube_is_not_found(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    other = root.create_cube_for_user("second", owner_id=user)
    (memory_id,) = root.add(memory_content="lives in the second cube", mem_cube_id=other, user_id=user)
    with pytest.raises(NotFound):
        root.get(cube, memory_id, user_id=user)


def test_get_all_without_cube_covers_every_readable_cube(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    other = root.create_cube_for_user("second", owner_id=user)
    root.add(memory_content="in first", mem_cube_id=cube, user_id=user)
    root.add(memory_content="in second", mem_cube_id=other, user_id=user)
    result = root.get_all(user_id=user)
    assert set(result) == {"text_mem", "act_mem", "para_mem"}
    assert result["act_mem"] == [] and result["para_mem"] == []
    by_cube = {g["cube_id"]: [m.memory for m in g["memories"]] for g in result["text_mem"]}
    assert by_cube == {cube: ["in first"], other: ["in second"]}


def test_update_reembeds_and_keeps_history(root: MOS, alice: tuple[str, str], runtime: Runtime) -> None:
    user, cube = alice
    (memory_id,) = root.add(memory_content="User prefers vegetarian food", mem_cube_id=cube, user_id=user)
    before = runtime.store.run_statement("MATCH (m:Memory {id: $m}) RETURN m.embedding AS e", m=memory_id)[0]["e"]
    root.update(
        cube,
        memory_id,
        TextualMemoryItem(
            memory="User now prefers vegan food and Mediterranean cuisine",
            metadata=TextualMemoryMetadata.model_validate(
                {"updated_at": "2024-01-15", "update_reason": "Dietary preference change", "tags": ["diet"]}
            ),
        ),
        user_id=user,
    )
    item = root.get(cube, memory_id, user_id=user)
    assert item.memory == "User now prefers vegan food and Mediterranean cuisine"
    assert item.metadata.version == 2
    assert item.metadata.tags == ["diet"]
    assert item.metadata.extra_fields() == {"update_reason": "Dietary preference change"}
    assert item.metadata.updated_at != "2024-01-15"  # the server keeps the clock
    after = runtime.store.run_statement("MATCH (m:Memory {id: $m}) RETURN m.embedding AS e", m=memory_id)[0]["e"]
    assert after != before
    hit = root.search("vegan Mediterranean", user_id=user, install_cube_ids=[cube], top_k=1)
    assert hit["text_mem"][0]["memories"][0].id == memory_id
    history = root.get_history(cube, memory_id, user_id=user)
    assert [h.memory for h in history] == ["User prefers vegetarian food"]
    assert history[0].metadata.status == "archived"
    chain = runtime.store.run_statement(
        "MATCH (:Memory {id: $m})-[:DERIVED_FROM {kind: 'update'}]->(v:MemoryVersion) RETURN v.memory AS text",
        m=memory_id,
    )
    assert [r["text"] for r in chain] == ["User prefers vegetarian food"]
    # A second update chains the versions: memory -> v2 -> v1.
    root.update(cube, memory_id, TextualMemoryItem(memory="User eats everything again"), user_id=user)
    assert [h.memory for h in root.get_history(cube, memory_id, user_id=user)] == [
        "User now prefers vegan food and Mediterranean cuisine",
        "User prefers vegetarian food",
    ]
    assert count_nodes(runtime, "MemoryVersion", memory_id=memory_id) == 2


def test_update_metadata_only_keeps_text_and_vector(root: MOS, alice: tuple[str, str], runtime: Runtime) -> None:
    user, cube = alice
    (memory_id,) = root.add(memory_content="Alice runs marathons", mem_cube_id=cube, user_id=user)
    query = "MATCH (m:Memory {id: $m}) RETURN m.embedding AS e"
    before = runtime.store.run_statement(query, m=memory_id)[0]["e"]
    edited = TextualMemoryItem(memory="Alice runs marathons", metadata=TextualMemoryMetadata(confidence=90.0))
    root.update(cube, memory_id, edited, user_id=user)
    item = root.get(cube, memory_id, user_id=user)
    assert item.metadata.confidence == 90.0 and item.metadata.version == 2
    assert runtime.store.run_statement(query, m=memory_id)[0]["e"] == before


def test_update_to_text_another_memory_holds_is_a_conflict(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    first, second = root.add(memory_content=["fact one", "fact two"], mem_cube_id=cube, user_id=user)
    with pytest.raises(Conflict) as raised:
        root.update(cube, second, TextualMemoryItem(memory="fact one"), user_id=user)
    # Not Neo4j's message, which names internal node ids, the cube id and the content hash.
    assert str(raised.value) == "the cube already holds a memory with this text"
    item = root.get(cube, second, user_id=user)
    assert item.memory == "fact two" and item.metadata.version == 1
    assert root.get_history(cube, second, user_id=user) == []


def test_ids_ending_in_a_newline_are_refused(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    """`^...$` matched "c1\\n" ($ matches before a final newline): ids are matched whole."""
    user = root.create_user(uid("ids"), UserRole.USER)
    cube = root.create_cube_for_user("ids", owner_id=user, cube_id=uid("cube"))
    for suffix in ("\n", "\r\n", "\n\n"):
        with pytest.raises(InvalidInput):
            root.create_user(user + suffix, UserRole.USER)
        with pytest.raises(InvalidInput):
            root.create_cube_for_user("ids", owner_id=user, cube_id=cube + suffix)
        with pytest.raises(InvalidInput):
            root.add(memory_content="x", mem_cube_id=cube + suffix, user_id=user)
    for label, prefix in (("User", user), ("MemCube", cube)):
        rows = runtime.store.run_statement(f"MATCH (n:{label}) WHERE n.id STARTS WITH $p RETURN n.id AS id", p=prefix)
        assert [row["id"] for row in rows] == [prefix]


def test_update_unknown_memory(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    with pytest.raises(NotFound):
        root.update(cube, "00000000-0000-4000-8000-000000000000", TextualMemoryItem(memory="x"), user_id=user)


def test_delete_removes_memory_and_history(root: MOS, alice: tuple[str, str], runtime: Runtime) -> None:
    user, cube = alice
    keep, drop = root.add(memory_content=["keep me", "drop me"], mem_cube_id=cube, user_id=user)
    root.update(cube, drop, TextualMemoryItem(memory="drop me, edited"), user_id=user)
    root.delete(cube, drop, user_id=user)
    with pytest.raises(NotFound):
        root.get(cube, drop, user_id=user)
    with pytest.raises(NotFound):
        root.delete(cube, drop, user_id=user)
    assert count_nodes(runtime, "MemoryVersion", memory_id=drop) == 0
    assert [m.id for m in memories_of(root, cube, user)] == [keep]


def test_delete_all_of_one_cube(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    other = root.create_cube_for_user("second", owner_id=user)
    root.add(memory_content=["a", "b", "c"], mem_cube_id=cube, user_id=user)
    root.add(memory_content=["d"], mem_cube_id=other, user_id=user)
    root.delete_all(cube, user_id=user)
    assert memories_of(root, cube, user) == []
    assert [m.memory for m in memories_of(root, other, user)] == ["d"]


def test_delete_all_without_cube_spares_read_only_cubes(
    root: MOS, as_user: Callable[[str], MOS], alice: tuple[str, str], uid: Callable[[str], str]
) -> None:
    user, cube = alice
    bob = root.create_user(uid("bob"))
    bobs_cube = root.create_cube_for_user("bob", owner_id=bob)
    root.add(memory_content="bob's memory", mem_cube_id=bobs_cube, user_id=bob)
    as_user(bob).share_cube_with_user(bobs_cube, user)
    root.add(memory_content="alice's memory", mem_cube_id=cube, user_id=user)
    root.delete_all(user_id=user)
    assert memories_of(root, cube, user) == []
    assert [m.memory for m in memories_of(root, bobs_cube, bob)] == ["bob's memory"]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "   \n\t",
        [],
        ["fine", ""],
        ["fine", 42],
        ["fine", "x" * 40_000],
        "nul \x00 byte",
    ],
)
def test_bad_content_writes_nothing(root: MOS, alice: tuple[str, str], runtime: Runtime, content: object) -> None:
    user, cube = alice
    with pytest.raises(InvalidInput):
        root.add(memory_content=content, mem_cube_id=cube, user_id=user)  # type: ignore[arg-type]
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0


def test_too_many_items_in_one_add(root: MOS, alice: tuple[str, str], runtime: Runtime) -> None:
    user, cube = alice
    limit = root.config.limits.max_items_per_add
    with pytest.raises(InvalidInput, match="limit"):
        root.add(memory_content=[f"item {i}" for i in range(limit + 1)], mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0


def test_exactly_one_input_kind(root: MOS, alice: tuple[str, str], runtime: Runtime) -> None:
    user, cube = alice
    with pytest.raises(InvalidInput):
        root.add(user_id=user, mem_cube_id=cube)
    with pytest.raises(InvalidInput):
        root.add(messages=[{"role": "user", "content": "hi"}], memory_content="hi", mem_cube_id=cube, user_id=user)
    with pytest.raises(FeatureNotAvailable):
        root.add(doc_path="/tmp/notes.md", mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0


def test_cypher_text_is_stored_verbatim(root: MOS, alice: tuple[str, str]) -> None:
    user, cube = alice
    nasty = "'}) MATCH (n) DETACH DELETE n //\" $param {x} `label`"
    (memory_id,) = root.add(memory_content=nasty, mem_cube_id=cube, user_id=user)
    assert root.get(cube, memory_id, user_id=user).memory == nasty.strip()
    assert len(root.list_users()) > 1


def test_unreachable_neo4j_is_backend_unavailable(base_config: MOSConfig) -> None:
    dead = base_config.model_copy(
        update={"neo4j": Neo4jSettings(uri="bolt://127.0.0.1:9", password=SecretStr("x"), connection_timeout_s=1.0)}
    )
    with pytest.raises(BackendUnavailable):
        MOS(dead)


def test_an_item_is_changed_and_passed_back_the_memos_way(root: MOS, alice: tuple[str, str]) -> None:
    """MemOS code gets an item, assigns to its fields and passes it back to update; or passes a dict."""
    user, cube = alice
    (memory_id,) = root.add(memory_content=["Alice keeps bees"], mem_cube_id=cube, user_id=user)
    item = root.get(cube, memory_id, user_id=user)
    item.memory = "Alice keeps bees and hens"
    item.metadata.tags = ["garden"]
    item.metadata.key = "animals"
    root.update(cube, memory_id, item, user_id=user)
    stored = root.get(cube, memory_id, user_id=user)
    assert (stored.memory, stored.metadata.tags, stored.metadata.key) == (
        "Alice keeps bees and hens",
        ["garden"],
        "animals",
    )
    assert stored.metadata.version == 2 and stored.metadata.user_id == user
    assert [v.memory for v in root.get_history(cube, memory_id, user_id=user)] == ["Alice keeps bees"]
    root.update(cube, memory_id, {"memory": "Alice keeps hens", "metadata": {"tags": ["yard"]}}, user_id=user)
    again = root.get(cube, memory_id, user_id=user)
    assert (again.memory, again.metadata.tags, again.metadata.key) == ("Alice keeps hens", ["yard"], "animals")
    # Assignments are validated as construction is; a malformed dict is InvalidInput and writes nothing.
    with pytest.raises(ValidationError):
        item.id = "not-a-uuid"
    with pytest.raises(ValidationError):
        item.metadata.confidence = 1000.0
    with pytest.raises(InvalidInput, match="text_memory_item"):
        root.update(cube, memory_id, {"memory": "x", "metadata": {"confidence": "very"}}, user_id=user)
    assert root.get(cube, memory_id, user_id=user).metadata.version == 3

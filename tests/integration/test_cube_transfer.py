"""dump and register_mem_cube(directory): round trip, both MemOS forms, bad files, refusals, failed imports."""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from memos_graph import MOS
from memos_graph.domain import TextualMemoryItem, TextualMemoryMetadata, UserRole
from memos_graph.embeddings import Embedder
from memos_graph.errors import AccessDenied, BackendUnavailable, Conflict, CubeNotAccessible, InvalidInput
from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j

# Every edge of a cube, described by what its ends hold (ids differ between a cube and its copy).
EDGES = """
MATCH (c:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory)
CALL (m) {
  MATCH (m)-[r:DERIVED_FROM|RELATED_TO]->(t)
  RETURN m.memory AS source, type(r) + coalesce(':' + r.kind, '') + coalesce(':' + r.type, '') AS type,
         coalesce(t.memory, t.content, t.path) AS target
  UNION ALL
  MATCH (m)-[:DERIVED_FROM*1..]->(v:MemoryVersion)-[r:DERIVED_FROM]->(t:MemoryVersion)
  RETURN v.memory AS source, type(r) + ':' + r.kind AS type, t.memory AS target
  UNION ALL
  MATCH (m)-[:DERIVED_FROM]->(a:Message)-[r:NEXT]->(b:Message)
  RETURN a.content AS source, type(r) AS type, b.content AS target
}
RETURN DISTINCT source, type, target
ORDER BY source, type, target
"""


def edges_of(runtime: Runtime, cube_id: str) -> list[tuple[str, str, str]]:
    """The cube's edges as (source text, type, target text)."""
    rows = runtime.store.run_statement(EDGES, cube_id=cube_id)
    return [(row["source"], row["type"], row["target"]) for row in rows]


def comparable(item: TextualMemoryItem) -> dict[str, Any]:
    """A memory without what legitimately differs between a cube and its copy (id, score)."""
    metadata = item.metadata.model_dump(mode="json", exclude={"relativity", "embedding"})
    return {"memory": item.memory, "metadata": metadata}


def memories_of(mos: MOS, cube_id: str) -> list[TextualMemoryItem]:
    """The cube's memories, oldest first."""
    groups = mos.get_all(cube_id)["text_mem"]
    memories: list[TextualMemoryItem] = groups[0]["memories"]
    return memories


def vectors_of(runtime: Runtime, cube_id: str) -> dict[str, list[float]]:
    """Stored vectors by memory text."""
    rows = runtime.store.run_statement(
        "MATCH (m:Memory {cube_id: $cube_id}) RETURN m.memory AS memory, m.embedding AS embedding", cube_id=cube_id
    )
    return {row["memory"]: list(row["embedding"]) for row in rows}


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two vectors."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@pytest.fixture
def transfer_mos(runtime: Runtime, tmp_path: Path) -> Callable[..., MOS]:
    """A MOS acting as a user, with document roots (for provenance) and optionally transfer roots."""

    def build(user_id: str = "root", transfer_roots: tuple[str, ...] = (), batch_size: int = 1000) -> MOS:
        config = runtime.config.model_copy(
            update={
                "user_id": user_id,
                "documents": runtime.config.documents.model_copy(update={"roots": (str(tmp_path / "docs"),)}),
                "transfer": runtime.config.transfer.model_copy(
                    update={"roots": transfer_roots, "batch_size": batch_size}
                ),
            }
        )
        return MOS(config, runtime=replace(runtime, config=config))

    (tmp_path / "docs").mkdir()
    return build


def seed_cube(mos: MOS, cube_id: str, docs: Path) -> None:
    """A cube with every kind of node and edge: texts, a conversation, a document, an updated memory."""
    mos.create_cube_for_user("travel", "root", cube_id=cube_id)
    ids = mos.add(memory_content=["Alice plays the cello", "Bob drinks green tea"], mem_cube_id=cube_id)
    mos.add(
        messages=[
            {
                "role": "user",
                "content": "I moved to Lisbon in May",
                "chat_time": "2024-05-02T10:00:00",
                "message_id": "m-1",
            },
            {"role": "assistant", "content": "How do you like Lisbon?", "message_id": "m-2"},
        ],
        mem_cube_id=cube_id,
        session_id="trip",
    )
    (docs / "packing.md").write_text("# Packing\n\nTake the blue raincoat and two adapters.\n")
    mos.add(doc_path=str(docs / "packing.md"), mem_cube_id=cube_id)
    item = TextualMemoryItem(
        memory="Alice plays the viola", metadata=TextualMemoryMetadata(tags=["music"], confidence=90.0, mood="happy")
    )
    mos.update(cube_id, ids[0], item)
    mos.update(cube_id, ids[0], TextualMemoryItem(memory="Alice plays the viola in a quartet"))


@pytest.mark.parametrize("batch_size", [1000, 2])  # one batch; batches mixing node kinds, edges after them
def test_dump_then_import_gives_the_same_memories_metadata_and_edges(
    transfer_mos: Callable[..., MOS], runtime: Runtime, uid: Callable[[str], str], tmp_path: Path, batch_size: int
) -> None:
    mos = transfer_mos(batch_size=batch_size)
    original, copy = uid("original"), uid("copy")
    seed_cube(mos, original, tmp_path / "docs")

    mos.dump(str(tmp_path / "dump"), mem_cube_id=original)

    config = json.loads((tmp_path / "dump" / "config.json").read_text())
    assert config["model_schema"] == "memos.configs.mem_cube.GeneralMemCubeConfig"
    assert (config["cube_id"], config["user_id"], config["text_mem"]["backend"]) == (original, "root", "tree_text")
    manifest = json.loads((tmp_path / "dump" / "memos_graph_dump.json").read_text())
    assert (manifest["dumped_by"], manifest["cube_id"]) == ("root", original)
    tree = json.loads((tmp_path / "dump" / "textual_memory.json").read_text())
    assert tree["total_nodes"] == len(tree["nodes"]) == 4 + 1 + 2 + 2 + 1  # memories, chunk, versions, msgs, doc
    assert tree["total_edges"] == len(tree["edges"])
    assert {edge["type"] for edge in tree["edges"]} == {"DERIVED_FROM", "NEXT"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging directory left

    assert mos.register_mem_cube(str(tmp_path / "dump"), mem_cube_id=copy) == copy

    before, after = memories_of(mos, original), memories_of(mos, copy)
    assert [comparable(item) for item in after] == [comparable(item) for item in before]
    assert all(item.metadata.event_start and item.metadata.time_source for item in after)  # event times kept
    assert {item.id for item in after}.isdisjoint({item.id for item in before})  # ids were taken: new ones
    assert edges_of(runtime, copy) == edges_of(runtime, original)
    assert len(edges_of(runtime, copy)) == 6  # document, 2 messages, NEXT, 2 history links
    viola = next(item for item in after if item.memory.startswith("Alice plays the viola"))
    assert [v.memory for v in mos.get_history(copy, viola.id)] == ["Alice plays the viola", "Alice plays the cello"]
    old, new = vectors_of(runtime, original), vectors_of(runtime, copy)
    assert old.keys() == new.keys()
    assert all(cosine(old[text], new[text]) > 0.99999 for text in old)
    assert mos.search("which instrument does Alice play", install_cube_ids=[copy])["text_mem"][0]["memories"]
    info = mos.get_user_info()
    assert any(cube["cube_id"] == copy and cube["is_loaded"] for cube in info["accessible_cubes"])


def write_cube(directory: Path, config: dict[str, Any], memory: object) -> Path:
    """A cube directory written by hand, as MemOS lays it out."""
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps(config))
    (directory / "textual_memory.json").write_text(memory if isinstance(memory, str) else json.dumps(memory))
    return directory


def memos_config(backend: str, model: str, cube_id: str = "memos-cube") -> dict[str, Any]:
    """A MemOS GeneralMemCubeConfig for the given textual backend and embedder model."""
    return {
        "model_schema": "memos.configs.mem_cube.GeneralMemCubeConfig",
        "user_id": "someone-at-memos",
        "cube_id": cube_id,
        "text_mem": {
            "backend": backend,
            "config": {
                "extractor_llm": {"backend": "openai", "config": {"model_name_or_path": "gpt-4o-mini"}},
                "embedder": {"backend": "ollama", "config": {"model_name_or_path": model}},
            },
        },
        "act_mem": {},
        "para_mem": {},
    }


def general_entry(text: str, vector: list[float], **metadata: Any) -> dict[str, Any]:
    """One general_text entry."""
    memory_id = str(uuid.uuid4())
    return {
        "id": memory_id,
        "vector": vector,
        "payload": {
            "id": memory_id,
            "memory": text,
            "metadata": {"type": "fact", "source": "conversation", **metadata},
        },
    }


def test_general_text_from_another_model_is_re_embedded(
    transfer_mos: Callable[..., MOS], runtime: Runtime, embedder: Embedder, uid: Callable[[str], str], tmp_path: Path
) -> None:
    entries = [
        general_entry(
            "Carol is allergic to peanuts", [0.1, 0.2, 0.3], tags=["health"], confidence=99.0, visibility="private"
        ),
        general_entry("Carol's sister lives in Oslo", [0.3, 0.2, 0.1], created_at="2024-03-01T08:00:00"),
    ]
    directory = write_cube(tmp_path / "general", memos_config("general_text", "nomic-embed-text:latest"), entries)
    cube_id = uid("general")

    mos = transfer_mos()
    assert mos.register_mem_cube(str(directory), mem_cube_id=cube_id) == cube_id

    items = {item.memory: item for item in memories_of(mos, cube_id)}
    assert {item.id for item in items.values()} == {entries[0]["id"], entries[1]["id"]}  # fresh ids are kept
    first = items["Carol is allergic to peanuts"]
    assert (first.memory, first.metadata.tags, first.metadata.confidence) == (
        "Carol is allergic to peanuts",
        ["health"],
        99.0,
    )
    assert first.metadata.extra_fields() == {"visibility": "private"}
    assert items["Carol's sister lives in Oslo"].metadata.created_at == "2024-03-01T08:00:00+00:00"
    stored = vectors_of(runtime, cube_id)
    expected = embedder.embed(["Carol is allergic to peanuts"])[0]
    assert len(stored["Carol is allergic to peanuts"]) == embedder.dimension
    assert cosine(stored["Carol is allergic to peanuts"], expected) > 0.9999
    hits = mos.search("food allergy", install_cube_ids=[cube_id], top_k=1)["text_mem"][0]["memories"]
    assert hits[0].memory == "Carol is allergic to peanuts"


def test_tree_text_from_memos_keeps_its_vectors_and_edges(
    transfer_mos: Callable[..., MOS], runtime: Runtime, embedder: Embedder, uid: Callable[[str], str], tmp_path: Path
) -> None:
    texts = ["Dan trains for the Berlin marathon", "Dan runs 60 km a week", "Dan's coach is called Eva"]
    vectors = embedder.embed(texts)
    vectors[2] = [-x for x in vectors[2]]  # deliberately not the model's vector: must be stored as given
    ids = [str(uuid.uuid4()) for _ in texts]
    nodes = [
        {
            "id": node_id,
            "memory": text,
            "metadata": {
                "memory_type": "LongTermMemory",
                "status": "activated",
                "embedding": vector,
                "sources": ["chat on 2024-02-01"],
                "key": "training",
            },
        }
        for node_id, text, vector in zip(ids, texts, vectors, strict=True)
    ]
    tree = {
        "nodes": nodes,
        "edges": [
            {"source": ids[0], "target": ids[1], "type": "PARENT"},
            {"source": ids[0], "target": ids[2], "type": "RELATE_TO"},
        ],
        "total_nodes": 3,
        "total_edges": 2,
    }
    # The service's own embedder, as its hub name ("sentence-transformers/all-MiniLM-L6-v2" before multilingual
    # embedding): the vectors are of the same model, so they are kept.
    directory = write_cube(
        tmp_path / "tree", memos_config("tree_text", f"sentence-transformers/{embedder.model_name}"), tree
    )
    cube_id = uid("tree")

    transfer_mos().register_mem_cube(str(directory), mem_cube_id=cube_id)

    stored = vectors_of(runtime, cube_id)
    assert cosine(stored[texts[2]], vectors[2]) > 0.99999  # the file's vector, not a re-embedding
    assert edges_of(runtime, cube_id) == [
        (texts[0], "RELATED_TO:PARENT", texts[1]),
        (texts[0], "RELATED_TO:RELATE_TO", texts[2]),
    ]
    item = transfer_mos().get(cube_id, ids[0])
    assert [source.content for source in item.metadata.sources] == ["chat on 2024-02-01"]
    # A second dump of the imported cube writes MemOS's edge types back as they were.
    transfer_mos().dump(str(tmp_path / "again"), mem_cube_id=cube_id)
    again = json.loads((tmp_path / "again" / "textual_memory.json").read_text())
    assert sorted(edge["type"] for edge in again["edges"]) == ["PARENT", "RELATE_TO"]


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        ('[{"id": "', r"not valid JSON \(truncated\?\): parse error: premature EOF"),
        ([general_entry("fine", [0.1]), {"id": str(uuid.uuid4()), "payload": {"memory": ""}}], r"entry \[1\]"),
        ([general_entry("fine", [0.1]), {"id": "not-a-uuid", "payload": {"memory": "x"}}], r"entry \[1\].*UUID"),
        ([general_entry("fine", [0.1], confidence=500)], r"entry \[0\].*confidence"),
        ({"nodes": [], "edges": []}, "general_text holds a JSON list"),
        # json.dumps writes NaN and Infinity, which JSON lacks: stored, they would break every later reader.
        ([general_entry("fine", [0.1], score=math.nan)], "NaN: numbers must be finite"),
        ([general_entry("fine", [0.1], score=-math.inf)], "-Infinity: numbers must be finite"),
        ("[" * 100_000, "nests lists or objects too deep"),
    ],
)
def test_a_bad_file_names_the_problem_and_writes_nothing(
    transfer_mos: Callable[..., MOS],
    runtime: Runtime,
    uid: Callable[[str], str],
    tmp_path: Path,
    memory: object,
    message: str,
) -> None:
    cube_id = uid("bad")
    directory = write_cube(tmp_path / "bad", memos_config("general_text", "all-MiniLM-L6-v2"), memory)
    memories_before = count_nodes(runtime, "Memory")

    with pytest.raises(InvalidInput, match=message):
        transfer_mos().register_mem_cube(str(directory), mem_cube_id=cube_id)

    assert count_nodes(runtime, "MemCube", id=cube_id) == 0
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 0
    assert count_nodes(runtime, "Memory") == memories_before


def test_tree_text_truncated_or_with_dangling_edges_is_refused(
    transfer_mos: Callable[..., MOS], runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    node = {"id": str(uuid.uuid4()), "memory": "Erin collects stamps", "metadata": {}}
    short = {"nodes": [node], "edges": [], "total_nodes": 2, "total_edges": 0}
    dangling = {"nodes": [node], "edges": [{"source": node["id"], "target": str(uuid.uuid4()), "type": "PARENT"}]}
    for name, tree, message in (
        ("short", short, "total_nodes says 2 but the file holds 1"),
        ("dangling", dangling, r"edges\[0\]: its target is not the id of a node"),
    ):
        directory = write_cube(tmp_path / name, memos_config("tree_text", "all-MiniLM-L6-v2"), tree)
        with pytest.raises(InvalidInput, match=message):
            transfer_mos().register_mem_cube(str(directory), mem_cube_id=uid(name))
        assert count_nodes(runtime, "MemCube", id=uid(name)) == 0


def test_dump_refuses_a_non_empty_directory_and_a_cube_the_caller_cannot_read(
    transfer_mos: Callable[..., MOS], root: MOS, uid: Callable[[str], str], tmp_path: Path
) -> None:
    cube_id = uid("kept")
    root.create_cube_for_user("kept", "root", cube_id=cube_id)
    root.add(memory_content=["Frank keeps bees"], mem_cube_id=cube_id)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")

    with pytest.raises(Conflict, match="not an empty directory"):
        root.dump(str(occupied), mem_cube_id=cube_id)
    assert [p.name for p in occupied.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "occupied"]

    outsider = uid("outsider")
    root.create_user(outsider)
    with pytest.raises(CubeNotAccessible):
        transfer_mos(outsider).dump(str(tmp_path / "stolen"), mem_cube_id=cube_id)
    assert not (tmp_path / "stolen").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    root.dump(str(empty), mem_cube_id=cube_id)  # an empty directory is fine
    assert sorted(p.name for p in empty.iterdir()) == ["config.json", "memos_graph_dump.json", "textual_memory.json"]


def test_import_refuses_someone_elses_cube_id_and_guests(
    transfer_mos: Callable[..., MOS], root: MOS, runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    owner, other, guest = uid("owner"), uid("other"), uid("guest")
    for user, role in ((owner, UserRole.USER), (other, UserRole.USER), (guest, UserRole.GUEST)):
        root.create_user(user, role)
    taken = uid("taken")
    root.create_cube_for_user("taken", owner, cube_id=taken)
    root.add(memory_content=["Gina owns a red kayak"], mem_cube_id=taken)
    directory = write_cube(tmp_path / "in", memos_config("general_text", "x"), [general_entry("Hank sails", [0.1])])

    with pytest.raises(Conflict, match="is taken"):
        transfer_mos(other).register_mem_cube(str(directory), mem_cube_id=taken)
    with pytest.raises(AccessDenied, match="may not create cubes"):
        transfer_mos(guest).register_mem_cube(str(directory), mem_cube_id=uid("guest-cube"))
    with pytest.raises(Conflict, match="already holds memories"):
        transfer_mos(owner).register_mem_cube(str(directory), mem_cube_id=taken)
    assert [m.memory for m in memories_of(root, taken)] == ["Gina owns a red kayak"]

    empty = uid("empty")
    root.create_cube_for_user("empty", owner, cube_id=empty)
    transfer_mos(owner).register_mem_cube(str(directory), mem_cube_id=empty)  # its own empty cube takes it
    assert [m.memory for m in memories_of(root, empty)] == ["Hank sails"]


def test_an_import_counts_against_the_cubes_a_user_may_own(
    transfer_mos: Callable[..., MOS], root: MOS, runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    owner = root.create_user(uid("hoarder"), UserRole.USER)
    allowed = runtime.config.limits.max_cubes_per_user
    runtime.store.run_statement(  # the owner at its cap, without creating them one by one
        "MATCH (u:User {id: $u}) UNWIND range(1, $n) AS i "
        "CREATE (u)-[:OWNS]->(:MemCube {id: $u + '-' + toString(i), name: 'filler', is_active: true, "
        "embedding_model: 'm', embedding_dim: 384, created_at: datetime()})",
        u=owner,
        n=allowed,
    )
    directory = write_cube(tmp_path / "in", memos_config("general_text", "x"), [general_entry("Ida rows", [0.1])])
    refused = uid("one-too-many")
    with pytest.raises(InvalidInput, match=f"owns {allowed} cubes"):
        transfer_mos(owner).register_mem_cube(str(directory), mem_cube_id=refused)
    assert count_nodes(runtime, "MemCube", id=refused) == 0
    root.delete_user(owner)


def test_paths_outside_the_transfer_roots_are_refused(
    transfer_mos: Callable[..., MOS], root: MOS, uid: Callable[[str], str], tmp_path: Path
) -> None:
    roots = tmp_path / "roots"
    roots.mkdir()
    outside = write_cube(tmp_path / "outside", memos_config("general_text", "x"), [general_entry("Ivy", [0.1])])
    (roots / "link").symlink_to(outside)
    cube_id = uid("confined")
    root.create_cube_for_user("confined", "root", cube_id=cube_id)
    mos = transfer_mos(transfer_roots=(str(roots),))

    for path in (str(outside), str(roots / ".." / "outside"), str(roots / "link"), "../outside"):
        with pytest.raises(AccessDenied, match="outside the configured transfer roots"):
            mos.register_mem_cube(path, mem_cube_id=uid("never"))
    with pytest.raises(AccessDenied, match="outside the configured transfer roots"):
        mos.dump(str(roots / ".." / "escaped"), mem_cube_id=cube_id)
    assert not (tmp_path / "escaped").exists()
    mos.dump("inside", mem_cube_id=cube_id)  # relative paths start at the first root
    assert (roots / "inside" / "config.json").is_file()


def break_writes(monkeypatch: pytest.MonkeyPatch, after: int, error: BaseException) -> list[int]:
    """Let the import's first `after` batch writes through to Neo4j, then raise `error`; returns their sizes."""
    real_write = CubeTransferRepository.write
    written: list[int] = []

    def write(self: CubeTransferRepository, cube: str, import_id: str, batch: Any) -> int:
        if len(written) == after:
            raise error
        created = real_write(self, cube, import_id, batch)
        written.append(len(batch.memories))
        return created

    monkeypatch.setattr(CubeTransferRepository, "write", write)
    return written


def test_an_import_that_fails_halfway_leaves_nothing(
    transfer_mos: Callable[..., MOS],
    runtime: Runtime,
    uid: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [general_entry(f"Fact number {i} about the lighthouse", [0.1]) for i in range(7)]
    directory = write_cube(tmp_path / "in", memos_config("general_text", "x"), entries)
    cube_id = uid("halfway")
    written = break_writes(monkeypatch, 2, BackendUnavailable("Neo4j is unavailable: connection reset"))

    with pytest.raises(BackendUnavailable):
        transfer_mos(batch_size=2).register_mem_cube(str(directory), mem_cube_id=cube_id)

    assert written == [2, 2]  # two batches had committed before the failure
    assert count_nodes(runtime, "MemCube", id=cube_id) == 0
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 0


def test_a_crashed_import_is_invisible_and_cleaned_up_by_the_next_one(
    transfer_mos: Callable[..., MOS],
    runtime: Runtime,
    uid: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [general_entry(f"Note {i} on the garden", [0.1]) for i in range(5)]
    directory = write_cube(tmp_path / "in", memos_config("general_text", "x"), entries)
    cube_id = uid("crashed")
    mos = transfer_mos(batch_size=2)
    break_writes(monkeypatch, 1, KeyboardInterrupt())  # the process dies: no clean-up runs
    monkeypatch.setattr(CubeTransferRepository, "discard", lambda *args: None)
    with pytest.raises(KeyboardInterrupt):
        mos.register_mem_cube(str(directory), mem_cube_id=cube_id)
    monkeypatch.undo()

    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 2  # the leftover of the dead import...
    assert all(c["cube_id"] != cube_id for c in mos.get_user_info()["accessible_cubes"])  # ...nobody sees
    with pytest.raises(CubeNotAccessible):
        mos.get_all(cube_id)
    # Until its lease runs out the dead import counts as running: the next import is refused, touching nothing.
    with pytest.raises(Conflict, match="is being imported by another call"):
        transfer_mos().register_mem_cube(str(directory), mem_cube_id=cube_id)
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 2

    expire_lease(runtime, cube_id)
    transfer_mos().register_mem_cube(str(directory), mem_cube_id=cube_id)
    assert sorted(m.memory for m in memories_of(transfer_mos(), cube_id)) == sorted(
        e["payload"]["memory"] for e in entries
    )
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 5


def test_repeated_texts_in_a_file_become_one_memory(
    transfer_mos: Callable[..., MOS], uid: Callable[[str], str], tmp_path: Path
) -> None:
    entries = [
        general_entry("Jack likes jazz", [0.1]),
        general_entry("Jack  likes jazz", [0.1]),
        general_entry("Jack likes blues", [0.1]),
    ]
    directory = write_cube(tmp_path / "dups", memos_config("general_text", "x"), entries)
    cube_id = uid("dups")
    mos = transfer_mos()
    mos.register_mem_cube(str(directory), mem_cube_id=cube_id)
    assert [m.memory for m in memories_of(mos, cube_id)] == ["Jack likes jazz", "Jack likes blues"]


def expire_lease(runtime: Runtime, cube_id: str) -> str:
    """Move the lease of the import holding the cube into the past; returns that import's id."""
    rows = runtime.store.run_statement(
        "MATCH (c:MemCube {id: $c}) WHERE c.import_id IS NOT NULL "
        "SET c.import_lease_until = datetime() - duration('PT1S') RETURN c.import_id AS id",
        c=cube_id,
    )
    assert len(rows) == 1, "no import holds the cube"
    return str(rows[0]["id"])


def marker_of(runtime: Runtime, cube_id: str) -> dict[str, Any]:
    """The import marker on the cube node (empty when no import holds it)."""
    rows = runtime.store.run_statement(
        "MATCH (c:MemCube {id: $c}) RETURN c.import_id AS id, c.import_started_at AS started, "
        "c.import_lease_until AS lease",
        c=cube_id,
    )
    return dict(rows[0]) if rows else {}


class PausedImport:
    """An import run in a thread that stops before its second batch until released (a slow import)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cube_id: str, run: Callable[[], object]) -> None:
        self.cube_id = cube_id
        self.paused = threading.Event()
        self.resume = threading.Event()
        self.error: BaseException | None = None
        real_write = CubeTransferRepository.write
        batches: list[str] = []  # the import id of each batch of the paused import (the first into the cube)

        def write(repo: CubeTransferRepository, cube: str, import_id: str, batch: Any) -> int:
            if cube == self.cube_id and (not batches or batches[0] == import_id):
                if len(batches) == 1:
                    self.paused.set()
                    assert self.resume.wait(60), "the test never released the paused import"
                batches.append(import_id)
            return real_write(repo, cube, import_id, batch)

        monkeypatch.setattr(CubeTransferRepository, "write", write)

        def target() -> None:
            try:
                run()
            except BaseException as exc:  # handed to the test
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()
        while not self.paused.wait(0.05):
            assert self.thread.is_alive(), f"the import ended before its second batch: {self.error!r}"

    def finish(self) -> BaseException | None:
        """Let the import go on; its error, if it failed."""
        self.resume.set()
        self.thread.join(60)
        assert not self.thread.is_alive()
        return self.error


def test_an_import_in_progress_is_not_taken_over(
    transfer_mos: Callable[..., MOS],
    runtime: Runtime,
    root: MOS,
    uid: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [general_entry(f"Step {i} of the long import", [0.1]) for i in range(4)]
    directory = write_cube(tmp_path / "slow", memos_config("general_text", "x"), entries)
    other_dir = write_cube(tmp_path / "other", memos_config("general_text", "x"), [general_entry("Intruder", [0.1])])
    cube_id, other = uid("slow"), uid("other")
    root.create_user(other)
    first = PausedImport(
        monkeypatch, cube_id, lambda: transfer_mos(batch_size=1).register_mem_cube(str(directory), mem_cube_id=cube_id)
    )
    marker = marker_of(runtime, cube_id)

    with pytest.raises(Conflict, match="is being imported by another call"):  # the same user, a second call
        transfer_mos().register_mem_cube(str(other_dir), mem_cube_id=cube_id)
    with pytest.raises(Conflict, match="is taken"):  # to anybody else the id is simply taken
        transfer_mos(other).register_mem_cube(str(other_dir), mem_cube_id=cube_id)
    assert marker_of(runtime, cube_id) == marker  # nothing touched: same import, same lease
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 1
    assert marker["id"] and marker["started"] is not None and marker["lease"] > marker["started"]

    assert first.finish() is None
    assert [m.memory for m in memories_of(root, cube_id)] == [e["payload"]["memory"] for e in entries]
    assert marker_of(runtime, cube_id) == {"id": None, "started": None, "lease": None}


def test_a_stalled_import_whose_lease_ran_out_is_taken_over_and_fenced_out(
    transfer_mos: Callable[..., MOS],
    runtime: Runtime,
    root: MOS,
    uid: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stalled = [general_entry(f"Stale line {i}", [0.1]) for i in range(4)]
    fresh = [general_entry(f"Fresh line {i}", [0.1]) for i in range(3)]
    stalled_dir = write_cube(tmp_path / "stalled", memos_config("general_text", "x"), stalled)
    fresh_dir = write_cube(tmp_path / "fresh", memos_config("general_text", "x"), fresh)
    cube_id = uid("stalled")
    first = PausedImport(
        monkeypatch,
        cube_id,
        lambda: transfer_mos(batch_size=1).register_mem_cube(str(stalled_dir), mem_cube_id=cube_id),
    )
    stale_id = expire_lease(runtime, cube_id)

    transfer_mos().register_mem_cube(str(fresh_dir), mem_cube_id=cube_id)  # takes over, deletes the leftover
    assert count_nodes(runtime, "Memory", cube_id=cube_id, import_id=stale_id) == 0

    error = first.finish()  # the stalled import wakes up: it lost its cube and writes nothing more
    assert isinstance(error, Conflict) and "lost its cube" in str(error)
    assert [m.memory for m in memories_of(root, cube_id)] == [e["payload"]["memory"] for e in fresh]
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 3
    assert marker_of(runtime, cube_id) == {"id": None, "started": None, "lease": None}


def test_with_transfer_roots_a_dump_is_importable_by_its_writer_root_or_from_the_own_area(
    transfer_mos: Callable[..., MOS], root: MOS, runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    roots = tmp_path / "transfer"
    roots.mkdir()
    alice, bob = uid("alice"), uid("bob")
    root.create_user(alice)
    root.create_user(bob)
    as_alice = transfer_mos(alice, transfer_roots=(str(roots),))
    as_bob = transfer_mos(bob, transfer_roots=(str(roots),))
    cube = as_alice.create_cube_for_user("diary", alice, cube_id=uid("diary"))
    as_alice.add(memory_content=["Alice's locker code is 4471"], mem_cube_id=cube)
    as_alice.dump("alice-diary", mem_cube_id=cube)  # into Alice's own area <root>/<alice>/
    assert (roots / alice / "alice-diary" / "config.json").is_file()

    refusals = []
    # (A name with a slash that is no cube Bob may read is a directory, so it answers alike too.)
    for path in (
        f"../{alice}/alice-diary",
        str(roots / alice / "alice-diary"),
        f"../{alice}/no-such-dump",
        "../../outside",
        str(roots / "no-such-dump"),
    ):
        with pytest.raises(AccessDenied) as refused:
            as_bob.register_mem_cube(path, mem_cube_id=uid("stolen"))
        refusals.append(str(refused.value))
    assert len(set(refusals)) == 1, refusals  # another user's dump answers like a path that does not exist
    assert count_nodes(runtime, "MemCube", id=uid("stolen")) == 0

    assert as_alice.register_mem_cube("./alice-diary", mem_cube_id=uid("alice-copy")) == uid("alice-copy")
    as_root = transfer_mos(transfer_roots=(str(roots),))  # ROOT's paths start at the root
    by_root = as_root.register_mem_cube(f"./{alice}/alice-diary", mem_cube_id=uid("root-copy"))
    assert [m.memory for m in memories_of(root, by_root)] == ["Alice's locker code is 4471"]

    # A MemOS directory (no record of who wrote it) in Bob's own area: Bob's to import, nobody else's.
    write_cube(roots / bob / "from-memos", memos_config("general_text", "x"), [general_entry("Bob's kite", [0.1])])
    assert as_bob.register_mem_cube("./from-memos", mem_cube_id=uid("kite")) == uid("kite")
    with pytest.raises(AccessDenied) as refused:
        as_alice.register_mem_cube(f"../{bob}/from-memos", mem_cube_id=uid("alice-kite"))
    with pytest.raises(AccessDenied) as missing:
        as_alice.register_mem_cube(f"../{bob}/no-such", mem_cube_id=uid("alice-kite"))
    assert str(refused.value) == str(missing.value)
    (roots / bob / "link").symlink_to(roots / alice / "alice-diary")  # a link in Bob's area to Alice's dump
    with pytest.raises(AccessDenied):
        as_bob.register_mem_cube("./link", mem_cube_id=uid("linked"))

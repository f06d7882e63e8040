"""Coming from MemOS (issue 14): the seed's example run verbatim with only its imports changed, against
MemOS-format fixtures written here (a mem_cube_2-like general_text cube whose id is a hub name, a
mem_cube_tree-like directory holding only textual_memory.json, and a MemOS MOS config); cube ids with
slashes everywhere; sources given as JSON strings; MemOS's metadata round-tripping; MemOS configs mapped."""

from __future__ import annotations

import json
import logging
import runpy
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from strawberry.relay import GlobalID

from graphql_schema.app import create_app
from memos_graph import MOS, Conflict, InvalidInput, MOSConfig
from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import caller_of
from tests.integration.test_cube_transfer import memos_config

pytestmark = pytest.mark.neo4j

HUB_ID = "Ki-Seki/mem_cube_2"
MEMOS_METADATA = {
    "memory_time": "2024-05-02",
    "entities": ["Alice", "football"],
    "visibility": "private",
    "usage": ["2024-05-03 chat"],
    "file_ids": ["file-1"],
    "background": "Alice talked about sports",
}

# The seed's first example (MOS API doc, "使用样例"), verbatim but for its import lines.
SEED_EXAMPLE = """
import uuid

from memos_graph import MOSConfig
from memos_graph import MOS


# 初始化MOS
mos_config = MOSConfig.from_json_file("examples/data/config/simple_memos_config.json")
memory = MOS(mos_config)

# 创建用户
user_id = str(uuid.uuid4())
memory.create_user(user_id=user_id)

# 为用户注册记忆立方
memory.register_mem_cube("examples/data/mem_cube_2", user_id=user_id)

# 为用户添加记忆
memory.add(
    messages=[
        {"role": "user", "content": "I like playing football."},
        {"role": "assistant", "content": "I like playing football too."},
    ],
    user_id=user_id,
)
# 之后，当您想为用户检索记忆时
retrieved_memories = memory.search(query="What do you like?", user_id=user_id)
# 输出明文记忆: I like playing football, act_memories, para_memories
print(f"text_memories: {retrieved_memories['text_mem']}")
"""


def mem_cube_2(directory: Path, cube_id: str = HUB_ID) -> Path:
    """A general_text cube as MemOS ships mem_cube_2: a hub id, 768-d vectors of nomic-embed-text (Ollama)."""
    directory.mkdir(parents=True)
    config = memos_config("general_text", "nomic-embed-text:latest", cube_id=cube_id)
    config["text_mem"]["config"]["vector_db"] = {"backend": "qdrant", "config": {"vector_dimension": 768}}
    (directory / "config.json").write_text(json.dumps(config))
    entries = []
    for text in ("Alice's favourite sport is tennis", "Alice lives in Lyon"):
        memory_id = str(uuid.uuid4())
        metadata = {"type": "fact", "source": "conversation", "memory_type": "LongTermMemory", **MEMOS_METADATA}
        entries.append(
            {
                "id": memory_id,
                "vector": [0.01] * 768,
                "payload": {"id": memory_id, "memory": text, "metadata": metadata},
            }
        )
    (directory / "textual_memory.json").write_text(json.dumps(entries))
    return directory


def mem_cube_tree(directory: Path) -> Path:
    """A tree_text directory as MemOS's mem_cube_tree example: textual_memory.json alone, its sources JSON
    strings (one encoded twice), and one plain-text source."""
    directory.mkdir(parents=True)
    source = {
        "type": "chat",
        "role": "user",
        "chat_time": "2 May 2024",
        "message_id": "m-7",
        "content": "I moved to Grenoble",
    }
    once = json.dumps(source)
    nodes = [
        {
            "id": str(uuid.uuid4()),
            "memory": "The user moved to Grenoble",
            "metadata": {"memory_type": "LongTermMemory", "sources": [once], **MEMOS_METADATA},
        },
        {
            "id": str(uuid.uuid4()),
            "memory": "The user works at a lab",
            "metadata": {"memory_type": "UserMemory", "sources": [json.dumps(once), "said over coffee"]},
        },
    ]
    (directory / "textual_memory.json").write_text(
        json.dumps({"nodes": nodes, "edges": [], "total_nodes": 2, "total_edges": 0})
    )
    return directory


def memos_mos_config(path: Path, llm_url: str) -> Path:
    """A MemOS MOS config (simple_memos_config.json's shape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "user_id": "root",
                "chat_model": {
                    "backend": "openai",
                    "config": {
                        "model_name_or_path": "gpt-4o-mini",
                        "temperature": 0.1,
                        "api_key": "sk-test",
                        "api_base": llm_url,
                    },
                },
                "mem_reader": {
                    "backend": "simple_struct",
                    "config": {
                        "llm": {"backend": "ollama", "config": {"model_name_or_path": "qwen3:0.6b"}},
                        "embedder": {
                            "backend": "sentence_transformer",
                            "config": {"model_name_or_path": "all-MiniLM-L6-v2"},
                        },
                        "chunker": {"backend": "sentence", "config": {"chunk_size": 512}},
                    },
                },
                "max_turns_window": 12,
                "top_k": 4,
                "enable_textual_memory": True,
                "enable_activation_memory": False,
                "PRO_MODE": False,
            }
        )
    )
    return path


def test_the_seeds_example_runs_verbatim_on_memos_fixtures(
    neo4j_settings: Neo4jSettings,
    runtime: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    llm_server: FakeOpenAI,
) -> None:
    mem_cube_2(tmp_path / "examples" / "data" / "mem_cube_2", cube_id=f"Ki-Seki/mem_cube_2-{uuid.uuid4().hex[:6]}")
    memos_mos_config(tmp_path / "examples" / "data" / "config" / "simple_memos_config.json", llm_server.url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_settings.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.password.get_secret_value())
    (tmp_path / "example.py").write_text(SEED_EXAMPLE, encoding="utf-8")
    # Run twice against one database, as a user re-running the script does: each run makes a new user, and
    # the directory's cube id is the first run's; the second run gets a copy of its own.
    runs = [runpy.run_path(str(tmp_path / "example.py")) for _ in range(2)]
    first, second = runs
    try:
        printed = capsys.readouterr().out
        assert printed.startswith("text_memories: [") and printed.count("text_memories: [") == 2
        cube_ids = []
        for namespace in runs:
            memory: MOS = namespace["memory"]
            (group,) = namespace["retrieved_memories"]["text_mem"]
            cube_ids.append(group["cube_id"])
            texts = [item.memory for item in group["memories"]]
            assert "user: I like playing football." in texts and "Alice's favourite sport is tennis" in texts
            assert memory.config.top_k == 4 and memory.config.max_turns_window == 12
            assert memory.config.llm is not None and memory.config.llm.model == "openai/gpt-4o-mini"
        assert cube_ids[0].startswith("Ki-Seki/mem_cube_2-")
        assert cube_ids[1] == f"{cube_ids[0]}@{second['user_id']}"
        # each user reads its own copy only
        mos: MOS = second["memory"]
        for namespace, own, other in ((first, cube_ids[0], cube_ids[1]), (second, cube_ids[1], cube_ids[0])):
            readable = {c["cube_id"] for c in mos.get_user_info(namespace["user_id"])["accessible_cubes"]}
            assert own in readable and other not in readable
        # the same user registering the directory again finds its copy taken by itself: told, nothing changes
        with pytest.raises(Conflict, match="already holds memories"):
            mos.register_mem_cube("examples/data/mem_cube_2", user_id=second["user_id"])
    finally:
        for namespace in runs:
            namespace["memory"].close()


def test_a_cube_id_with_slashes_works_in_mos_graphql_and_dumps(
    keyed_runtime: Runtime, root: MOS, uid: Callable[[str], str], tmp_path: Path
) -> None:
    user = root.create_user(uid("hub"))
    cube = f"{uid('owner')}/notes.v2"
    assert root.create_cube_for_user("notes", owner_id=user, cube_id=cube) == cube
    (memory_id,) = root.add(memory_content=["Hub cubes keep slashes"], mem_cube_id=cube, user_id=user)
    assert root.get(cube, memory_id, user_id=user).memory == "Hub cubes keep slashes"
    found = root.search("What do hub cubes keep?", user_id=user, install_cube_ids=[cube])
    assert [g["cube_id"] for g in found["text_mem"]] == [cube]
    # Registering by id: a name with a slash that is a readable cube is that cube, not a path.
    other = root.create_user(uid("reader"))
    root.share_cube_with_user(cube, other)
    assert root.register_mem_cube(cube, user_id=other) == cube
    # GraphQL: the plain id and the global id both name it; the global id decodes back to it.
    with TestClient(create_app(runtime=keyed_runtime)) as client:
        call = caller_of(client)
        for given in (cube, str(GlobalID("MemCube", cube))):
            body = call("query($c: ID!) { cube(id: $c) { id cubeId } }", ROOT_KEY, c=given)
            assert body["data"]["cube"]["cubeId"] == cube, body
            assert GlobalID.from_id(body["data"]["cube"]["id"]).node_id == cube
    # A dump names the cube in its files, never in a path; re-imported under a new slashed id.
    root.dump(str(tmp_path / "dump"), user_id=user, mem_cube_id=cube)
    assert json.loads((tmp_path / "dump" / "config.json").read_text())["cube_id"] == cube
    copy = root.register_mem_cube(str(tmp_path / "dump"), mem_cube_id=f"{cube}-copy", user_id=user)
    assert [m.memory for m in root.get_all(copy, user_id=user)["text_mem"][0]["memories"]] == ["Hub cubes keep slashes"]
    for bad in ("/leading", "trailing/", "a//b", "a/../b", "a/./b", "a/ b"):
        with pytest.raises(InvalidInput, match="joined by single slashes"):
            root.create_cube_for_user("bad", owner_id=user, cube_id=bad)


def test_a_tree_directory_without_config_imports_with_its_sources_decoded(
    root: MOS, uid: Callable[[str], str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    user = root.create_user(uid("tree"))
    directory = mem_cube_tree(tmp_path / "mem_cube_tree")
    with caplog.at_level(logging.WARNING):
        cube = root.register_mem_cube(str(directory), mem_cube_id=uid("tree-cube"), user_id=user)
    assert "1 sources are text" in caplog.text
    items = {m.memory: m for m in root.get_all(cube, user_id=user)["text_mem"][0]["memories"]}
    moved, works = items["The user moved to Grenoble"], items["The user works at a lab"]
    (source,) = moved.metadata.sources
    assert (source.type, source.role, source.chat_time, source.message_id, source.content) == (
        "chat",
        "user",
        "2 May 2024",
        "m-7",
        "I moved to Grenoble",
    )
    assert [s.type for s in works.metadata.sources] == ["chat", "text"]  # twice encoded, then plain text
    assert works.metadata.sources[1].content == "said over coffee"  # kept verbatim, never dropped
    assert works.metadata.memory_type == "UserMemory"
    # MemOS's memory_time is the event's day: the span follows it (a MemOS cube has no spans of its own)
    assert (moved.metadata.event_start, moved.metadata.event_end, moved.metadata.time_source) == (
        "2024-05-02T00:00:00Z",
        "2024-05-03T00:00:00Z",
        "caller",
    )
    # MemOS's other metadata round-trips: stored, returned, and dumped again.
    assert {
        key: moved.metadata.extra_fields().get(key, getattr(moved.metadata, key, None)) for key in MEMOS_METADATA
    } == MEMOS_METADATA
    root.dump(str(tmp_path / "again"), user_id=user, mem_cube_id=cube)
    dumped = json.loads((tmp_path / "again" / "textual_memory.json").read_text())
    node = next(n for n in dumped["nodes"] if n["memory"] == "The user moved to Grenoble")
    assert {key: node["metadata"].get(key) for key in MEMOS_METADATA} == MEMOS_METADATA


def test_the_import_report_counts_sources_kept_as_text(
    keyed_runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    roots = tmp_path / "transfer"
    mem_cube_tree(roots / "shared" / "tree")
    transfer = keyed_runtime.config.transfer.model_copy(update={"roots": (str(roots),)})
    config = keyed_runtime.config.model_copy(update={"transfer": transfer})
    with TestClient(create_app(runtime=replace(keyed_runtime, config=config))) as client:
        body = caller_of(client)(
            "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId memories undecodedSources "
            "reembedded } }",
            ROOT_KEY,
            p="shared/tree",
            c=f"{uid('o')}/tree",
        )
    assert body["data"]["importCube"]["memories"] == 2, body
    assert body["data"]["importCube"]["undecodedSources"] == 1 and body["data"]["importCube"]["reembedded"]


def test_memos_mos_configs_are_mapped_and_the_rest_named_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = memos_mos_config(tmp_path / "memos.json", "http://127.0.0.1:9/v1")
    with caplog.at_level(logging.INFO):
        config = MOSConfig.load(path, environ={})
    assert config.llm is not None and config.llm.model == "openai/gpt-4o-mini"
    assert config.llm.api_base == "http://127.0.0.1:9/v1" and config.llm.temperature == 0.1
    assert config.llm.api_key is not None and config.llm.api_key.get_secret_value() == "sk-test"
    assert (config.embedder.backend, config.embedder.model) == ("onnx", "all-MiniLM-L6-v2")
    assert (config.top_k, config.max_turns_window, config.user_id) == (4, 12, "root")
    lines = [r.getMessage() for r in caplog.records if "MemOS config" in r.getMessage()]
    assert len(lines) == 1 and "ignored" in lines[0]
    for ignored in ("mem_reader.config.llm", "mem_reader.config.chunker", "enable_activation_memory", "PRO_MODE"):
        assert ignored in lines[0], lines[0]
    assert not [r for r in caplog.records if "config keys not used" in r.getMessage()]  # one line, not two
    # Ollama chat; an environment variable still wins over the file.
    path.write_text(json.dumps({"chat_model": {"backend": "ollama", "config": {"model_name_or_path": "qwen3:8b"}}}))
    ollama = MOSConfig.load(path, environ={})
    assert ollama.llm is not None and (ollama.llm.model, ollama.llm.api_base) == (
        "ollama/qwen3:8b",
        "http://localhost:11434",
    )
    assert MOSConfig.load(path, environ={"MEMOS_LLM_MODEL": "openai/gpt-4o"}).llm.model == "openai/gpt-4o"  # type: ignore[union-attr]


def test_memos_metadata_round_trips_through_a_general_text_import(
    root: MOS, uid: Callable[[str], str], tmp_path: Path
) -> None:
    user = root.create_user(uid("general"))
    cube = root.register_mem_cube(
        str(mem_cube_2(tmp_path / "mem_cube_2")), mem_cube_id=f"{uid('o')}/general", user_id=user
    )
    items = root.get_all(cube, user_id=user)["text_mem"][0]["memories"]
    assert len(items) == 2
    for item in items:
        kept = {key: item.metadata.extra_fields().get(key, getattr(item.metadata, key, None)) for key in MEMOS_METADATA}
        assert kept == MEMOS_METADATA
    root.dump(str(tmp_path / "out"), user_id=user, mem_cube_id=cube)
    dumped = json.loads((tmp_path / "out" / "textual_memory.json").read_text())
    metadata = [n["metadata"] for n in dumped["nodes"] if n["memory"] == "Alice lives in Lyon"]
    assert len(metadata) == 1 and {key: metadata[0].get(key) for key in MEMOS_METADATA} == MEMOS_METADATA

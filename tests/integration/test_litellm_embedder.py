"""The litellm embedder (embedder.backend "litellm") through the real litellm.embedding call against the local
fake OpenAI server's /v1/embeddings, on a real Neo4j of this module's own: these tests build vector indexes of
other dimensions and re-embed whole graphs, which must never reach the session's shared test database."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from pydantic import SecretStr

from memos_graph import MOS, MOSConfig
from memos_graph.cli import main as cli_main
from memos_graph.config import EmbedderSettings, Neo4jSettings
from memos_graph.embeddings import build_embedder
from memos_graph.embeddings.factory import same_model
from memos_graph.embeddings.litellm_embedder import LiteLLMEmbedder
from memos_graph.errors import BackendUnavailable, ConfigurationError
from memos_graph.graph.store import GraphStore
from memos_graph.maintenance import reembed_graph
from testkit.fake_llm import FakeOpenAI, fake_embedding
from testkit.faults import PATIENT_TIMEOUTS, Neo4jInstance, driver_for
from testkit.servers import free_port

KEY = "sk-test-embedder-key-must-never-be-logged-0123456789"
SMALL, LARGE = "fake-embed-small", "fake-embed-large"  # the model names the fake server sees
DIMENSIONS = {SMALL: 16, LARGE: 24}


@pytest.fixture(scope="module")
def own_neo4j() -> Iterator[Neo4jInstance]:
    """A Neo4j of this module's own on free ports, wiped afterwards."""
    instance = Neo4jInstance(bolt_port=free_port(), http_port=free_port())
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        instance._script("wipe")


@pytest.fixture(scope="module")
def neo4j_own(own_neo4j: Neo4jInstance) -> Neo4jSettings:
    """Connection settings of the module's Neo4j."""
    return own_neo4j.settings(**PATIENT_TIMEOUTS)


@pytest.fixture(scope="module")
def graph(neo4j_own: Neo4jSettings) -> Iterator[neo4j.Driver]:
    """The test's own driver, for setup and for reading what the service stored."""
    driver = driver_for(neo4j_own)
    yield driver
    driver.close()


@pytest.fixture(autouse=True)
def empty_graph(graph: neo4j.Driver, llm_server: FakeOpenAI) -> None:
    """Every test starts on an empty graph without vector indexes."""
    graph.execute_query("MATCH (n) DETACH DELETE n")
    for record in graph.execute_query("SHOW VECTOR INDEXES YIELD name RETURN name").records:
        graph.execute_query(f"DROP INDEX `{record['name']}`")  # names read back from this test database
    llm_server.reset_embeddings(dimensions=DIMENSIONS)


def embedder_settings(server: FakeOpenAI, model: str = SMALL, **overrides: Any) -> EmbedderSettings:
    """The litellm backend pointed at the fake server as an OpenAI-compatible one."""
    values: dict[str, Any] = {
        "backend": "litellm",
        "model": f"openai/{model}",
        "api_base": server.url,
        "api_key": SecretStr(KEY),
        "batch_size": 4,
        "num_retries": 0,
        **overrides,
    }
    return EmbedderSettings(**values)


def config_for(settings: Neo4jSettings, embedder: EmbedderSettings, **overrides: Any) -> MOSConfig:
    """Defaults, the module's Neo4j, the given embedder."""
    return MOSConfig(neo4j=settings, embedder=embedder, **overrides)


def unit(vector: list[float]) -> list[float]:
    """The vector scaled to length 1."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def stored_vectors(graph: neo4j.Driver, cube_id: str) -> dict[str, list[float]]:
    """memory text -> stored embedding, for one cube."""
    records = graph.execute_query(
        "MATCH (:MemCube {id: $cube})-[:HAS_MEMORY]->(m:Memory) RETURN m.memory AS memory, m.embedding AS vector",
        cube=cube_id,
    ).records
    return {record["memory"]: list(record["vector"]) for record in records}


def index_dimensions(graph: neo4j.Driver) -> dict[str, int]:
    """Vector index name -> dimension."""
    records = graph.execute_query("SHOW VECTOR INDEXES YIELD name, options RETURN name, options").records
    return {r["name"]: int(r["options"]["indexConfig"]["vector.dimensions"]) for r in records}


def close_to(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-5 for x, y in zip(a, b, strict=True))


def seeded(config: MOSConfig, texts: list[str]) -> tuple[MOS, str]:
    """A MOS on the config, a user with a cube holding the texts."""
    mos = MOS(config, apply_schema=True)
    mos.create_user("alice")
    cube = mos.create_cube_for_user("notes", owner_id="alice")
    if texts:
        mos.add(memory_content=texts, mem_cube_id=cube, user_id="alice")
    return mos, cube


TEXTS = [
    f"Alice noted fact number {n}: the {word} is on the table"
    for n, word in enumerate(
        ["cello", "violin", "lamp", "book", "kettle", "plant", "clock", "mirror", "candle", "radio"]
    )
]


def test_adds_and_searches_through_litellm(
    neo4j_own: Neo4jSettings, graph: neo4j.Driver, llm_server: FakeOpenAI
) -> None:
    config = config_for(neo4j_own, embedder_settings(llm_server))
    mos, cube = seeded(config, [])
    try:
        assert mos.runtime.embedder.model_name == f"openai/{SMALL}"  # the configured string, as is
        assert mos.runtime.embedder.dimension == DIMENSIONS[SMALL]  # from the probe at start
        llm_server.reset_embeddings(dimensions=DIMENSIONS)
        mos.add(memory_content=TEXTS, mem_cube_id=cube, user_id="alice")
        # One embed() call per add, batch_size (4) texts per request: 10 texts -> 3 requests, in order.
        assert [len(body["input"]) for body in llm_server.embedding_requests] == [4, 4, 2]
        assert [text for body in llm_server.embedding_requests for text in body["input"]] == TEXTS
        assert set(llm_server.embedding_keys) == {KEY}
        vectors = stored_vectors(graph, cube)
        for text in TEXTS:  # unit length, the provider's direction
            assert close_to(vectors[text], unit(fake_embedding(SMALL, text, DIMENSIONS[SMALL])))
        hits = mos.search(TEXTS[3], user_id="alice", top_k=3)["text_mem"][0]["memories"]
        assert hits[0].memory == TEXTS[3]
        record = graph.execute_query("MATCH (c:MemCube {id: $id}) RETURN c", id=cube).records[0]["c"]
        assert (record["embedding_model"], record["embedding_dim"]) == (f"openai/{SMALL}", DIMENSIONS[SMALL])
        assert index_dimensions(graph)["memory_embedding"] == DIMENSIONS[SMALL]
    finally:
        mos.close()


def test_configured_dimensions_are_asked_for_and_skip_the_probe(llm_server: FakeOpenAI) -> None:
    embedder = build_embedder(embedder_settings(llm_server, model="text-embedding-3-small", dimensions=8))
    assert isinstance(embedder, LiteLLMEmbedder)
    assert embedder.dimension == 8 and llm_server.embedding_requests == []
    vectors = embedder.embed(["one", "two"])
    assert [len(v) for v in vectors] == [8, 8]
    assert llm_server.embedding_requests[0]["dimensions"] == 8


def test_a_provider_error_is_backend_unavailable_and_writes_nothing(
    neo4j_own: Neo4jSettings, graph: neo4j.Driver, llm_server: FakeOpenAI
) -> None:
    mos, cube = seeded(config_for(neo4j_own, embedder_settings(llm_server)), [])
    try:
        llm_server.reset_embeddings(dimensions=DIMENSIONS, status=503, fail_from=1)  # the second batch fails
        with pytest.raises(BackendUnavailable, match="embedder exploded"):
            mos.add(memory_content=TEXTS, mem_cube_id=cube, user_id="alice")
        assert len(llm_server.embedding_requests) >= 2
        assert stored_vectors(graph, cube) == {}
    finally:
        mos.close()


def test_retries_and_answer_checks(llm_server: FakeOpenAI) -> None:
    embedder = build_embedder(embedder_settings(llm_server, num_retries=1))
    llm_server.reset_embeddings(dimensions=DIMENSIONS, status=500, fail_count=1)  # the first request fails
    assert len(embedder.embed(["retried"])) == 1
    bad_answers = {
        "2 vectors for 1": {"data": [{"index": 0, "embedding": [1.0] * 16}, {"index": 1, "embedding": [1.0] * 16}]},
        "length 3": {"data": [{"index": 0, "embedding": [1.0, 2.0, 3.0]}]},
        "NaN": {"data": [{"index": 0, "embedding": [float("nan")] * 16}]},
        "zero vector": {"data": [{"index": 0, "embedding": [0.0] * 16}]},
    }
    for problem, answer in bad_answers.items():
        body = json.dumps(
            {"object": "list", "model": SMALL, "usage": {"prompt_tokens": 1, "total_tokens": 1}, **answer}
        ).encode()
        llm_server.reset_embeddings(dimensions=DIMENSIONS, body=body)
        with pytest.raises(BackendUnavailable, match=problem.split()[0]):
            embedder.embed(["checked"])


def test_misconfiguration_is_a_configuration_error(llm_server: FakeOpenAI) -> None:
    with pytest.raises(ConfigurationError, match="not a litellm model string"):
        build_embedder(EmbedderSettings(backend="litellm", model="all-MiniLM-L6-v2"))
    llm_server.reset_embeddings(status=401)
    with pytest.raises(ConfigurationError, match="refused"):
        build_embedder(embedder_settings(llm_server))
    with pytest.raises(ValueError, match="litellm backend only"):
        EmbedderSettings(api_base="http://127.0.0.1:1/v1")


def test_the_api_key_never_appears_in_logs_or_errors(llm_server: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="LiteLLM")  # quiet by default: an operator turns its debug log on
    embedder = build_embedder(embedder_settings(llm_server, num_retries=1))
    embedder.embed(["a text"])
    llm_server.reset_embeddings(status=401)  # the fake quotes the key it was sent, as some providers do
    with pytest.raises(ConfigurationError) as refused:
        embedder.embed(["a text"])
    llm_server.reset_embeddings(status=500)
    with pytest.raises(BackendUnavailable) as failed:
        embedder.embed(["a text"])
    assert llm_server.embedding_keys[0] == KEY  # it was sent
    assert "[api key]" in refused.value.message
    for text in (refused.value.message, failed.value.message, str(refused.value), repr(refused.value)):
        assert KEY not in text
    assert "LiteLLM" in caplog.text  # litellm's own debug log was captured
    assert KEY not in caplog.text
    assert KEY not in repr(embedder_settings(llm_server)) and KEY not in repr(
        MOSConfig(embedder=embedder_settings(llm_server))
    )


def test_a_changed_model_is_refused_at_start(neo4j_own: Neo4jSettings, llm_server: FakeOpenAI) -> None:
    mos, _ = seeded(config_for(neo4j_own, embedder_settings(llm_server)), TEXTS[:2])
    mos.close()
    with pytest.raises(ConfigurationError) as other_dimension:
        MOS(config_for(neo4j_own, embedder_settings(llm_server, model=LARGE)), apply_schema=True)
    assert "dimension 16 but the embedder produces 24" in other_dimension.value.message
    assert "memos-graph maintenance re-embed" in other_dimension.value.message
    llm_server.reset_embeddings(dimensions={**DIMENSIONS, "fake-embed-other": 16})
    with pytest.raises(ConfigurationError) as same_dimension:
        MOS(config_for(neo4j_own, embedder_settings(llm_server, model="fake-embed-other")), apply_schema=True)
    assert f"embedded with openai/{SMALL} (1 cube)" in same_dimension.value.message
    assert "openai/fake-embed-other" in same_dimension.value.message
    # The graph's own model still starts.
    MOS(config_for(neo4j_own, embedder_settings(llm_server)), apply_schema=True).close()


def test_mos_applies_the_schema_only_when_asked(
    neo4j_own: Neo4jSettings, graph: neo4j.Driver, llm_server: FakeOpenAI
) -> None:
    MOS(config_for(neo4j_own, embedder_settings(llm_server))).close()
    assert index_dimensions(graph) == {}
    MOS(config_for(neo4j_own, embedder_settings(llm_server)), apply_schema=True).close()
    assert index_dimensions(graph) == {"memory_embedding": DIMENSIONS[SMALL]}


def test_an_unfinished_reembed_is_refused_at_start(
    neo4j_own: Neo4jSettings, graph: neo4j.Driver, llm_server: FakeOpenAI
) -> None:
    MOS(config_for(neo4j_own, embedder_settings(llm_server)), apply_schema=True).close()
    graph.execute_query("MATCH (s:MemosGraphSchema) SET s.reembed_model = 'openai/x', s.reembed_dim = 24")
    with pytest.raises(ConfigurationError, match="re-embed of the graph with openai/x began and did not finish"):
        MOS(config_for(neo4j_own, embedder_settings(llm_server)), apply_schema=True)


def test_reembed_switches_the_graph_to_another_model(
    neo4j_own: Neo4jSettings,
    graph: neo4j.Driver,
    llm_server: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Cubes of 6 memories or more get their own vector index: the re-embed must rebuild it too.
    small = config_for(neo4j_own, embedder_settings(llm_server), search={"dedicated_index_min_memories": 6})
    mos, big = seeded(small, TEXTS)
    try:
        other = mos.create_cube_for_user("chats", owner_id="alice")
        conversation = [
            {"role": "user", "content": "I moved to Lyon"},
            {"role": "assistant", "content": "Nice!"},
            {"role": "user", "content": "The flat has a balcony"},
        ]
        mos.add(messages=conversation, mem_cube_id=other, user_id="alice")
        own_index = wait_for_own_index(graph, big)
        before = stored_vectors(graph, other)
    finally:
        mos.close()
    assert index_dimensions(graph)[own_index] == DIMENSIONS[SMALL]

    # The operator switches the configuration to the large model and runs the command.
    config_file = tmp_path / "config.json"
    large_settings = embedder_settings(llm_server, model=LARGE).model_dump(mode="json")
    large_settings["api_key"] = KEY
    config_file.write_text(json.dumps({"embedder": large_settings, "search": {"dedicated_index_min_memories": 6}}))
    for variable, value in (
        ("NEO4J_URI", neo4j_own.uri),
        ("NEO4J_USER", neo4j_own.user),
        ("NEO4J_PASSWORD", neo4j_own.password.get_secret_value()),
    ):
        monkeypatch.setenv(variable, value)
    llm_server.reset_embeddings(dimensions=DIMENSIONS)
    capsys.readouterr()
    code = cli_main(["maintenance", "re-embed", "--config", str(config_file), "--page-size", "4", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    assert report["memories"] == len(TEXTS) + len(conversation)
    assert (report["model"], report["dimension"], report["previous_dimension"]) == (f"openai/{LARGE}", 24, 16)
    assert report["cubes"] == 2 and report["cube_indexes"] == 1
    assert "re-embedding with openai/" in err  # the progress bar, on stderr
    assert KEY not in out + err
    # Probe, then pages of 4 memories, each page one embed() call of batch_size (4) texts.
    assert [len(body["input"]) for body in llm_server.embedding_requests] == [1, 4, 4, 4, 1]

    for text, vector in stored_vectors(graph, big).items():
        assert close_to(vector, unit(fake_embedding(LARGE, text, 24)))
    after = stored_vectors(graph, other)
    assert set(after) == set(before)
    first, second = ("user: I moved to Lyon", "assistant: Nice!")
    # A message's memory is embedded with the message before it, as the add did (ingest.context_messages 1).
    assert close_to(after[second], unit(fake_embedding(LARGE, f"{second} (after: {first})", 24)))
    assert close_to(after[first], unit(fake_embedding(LARGE, first, 24)))
    assert index_dimensions(graph) == {"memory_embedding": 24, own_index: 24}
    cubes = graph.execute_query(
        "MATCH (c:MemCube) RETURN c.id AS id, c.embedding_model AS model, "
        "c.embedding_dim AS dim, c.vector_index AS index"
    ).records
    assert {(r["model"], r["dim"]) for r in cubes} == {(f"openai/{LARGE}", 24)}
    assert {r["id"]: r["index"] for r in cubes}[big] == own_index
    assert graph.execute_query("MATCH (s:MemosGraphSchema) RETURN s.reembed_model AS m").records[0]["m"] is None

    large = config_for(
        neo4j_own,
        embedder_settings(llm_server, model=LARGE),
        search={"dedicated_index_min_memories": 6, "exact_scan_max_memories": 0},
    )
    mos = MOS(large, apply_schema=True)
    try:  # searches work, through the cube's own index too (no exact scan)
        assert mos.search(TEXTS[7], user_id="alice", top_k=2)["text_mem"][0]["memories"][0].memory == TEXTS[7]
        ids = mos.add(memory_content=["Alice bought a piano"], mem_cube_id=big, user_id="alice")
        assert len(ids) == 1
    finally:
        mos.close()
    with pytest.raises(ConfigurationError):  # and the old model is refused now
        MOS(small, apply_schema=True)


def test_reembed_of_an_empty_graph_and_same_model_helper(neo4j_own: Neo4jSettings, llm_server: FakeOpenAI) -> None:
    config = config_for(neo4j_own, embedder_settings(llm_server, model=LARGE))
    store = GraphStore(neo4j_own)
    try:
        report = reembed_graph(store, build_embedder(config.embedder), config, progress=False)
    finally:
        store.close()
    assert (report.memories, report.cubes, report.dimension, report.previous_dimension) == (0, 0, 24, None)
    assert same_model("ollama/nomic-embed-text", "nomic-embed-text:latest")
    assert same_model("openai/text-embedding-3-small", "text-embedding-3-small")
    assert not same_model("openai/text-embedding-3-small", "openai/text-embedding-3-large")
    assert not same_model(None, None)


def wait_for_own_index(graph: neo4j.Driver, cube_id: str, timeout_s: float = 120.0) -> str:
    """The cube's own vector index, once the background promotion recorded it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        records = graph.execute_query("MATCH (c:MemCube {id: $id}) RETURN c.vector_index AS index", id=cube_id).records
        if records and records[0]["index"]:
            return str(records[0]["index"])
        time.sleep(0.5)
    raise AssertionError(f"cube {cube_id} got no vector index of its own within {timeout_s} s")

"""A graph built before multilingual embedding (embedder.multilingual "off": MiniLM alone, 384 dimensions) keeps
working under the default two-model embedder, and the re-embed maintenance turns it into one (896 dimensions,
Chinese memories on USE's half), on a real Neo4j of this module's own: these tests build vector indexes of
another dimension, which must never reach the session's shared test database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import neo4j
import pytest

from memos_graph import MOS, MOSConfig
from memos_graph.config import EmbedderSettings, Neo4jSettings
from memos_graph.embeddings import build_embedder
from memos_graph.embeddings.onnx import OnnxEmbedder
from memos_graph.graph.store import GraphStore
from memos_graph.maintenance import reembed_graph
from testkit.faults import PATIENT_TIMEOUTS, Neo4jInstance, driver_for
from testkit.multilingual import ALLERGY, CHINESE_MEMORIES, ENGINEER
from testkit.servers import free_port

pytestmark = pytest.mark.neo4j

ENGLISH = ["I work as a nurse at the city hospital", "My sister lives in Toronto with her two dogs"]
ROUTED = "all-MiniLM-L6-v2+use-multilingual-v3"


@pytest.fixture(scope="module")
def settings() -> Iterator[Neo4jSettings]:
    """A Neo4j of this module's own on free ports, wiped afterwards."""
    instance = Neo4jInstance(bolt_port=free_port(), http_port=free_port())
    instance.start()
    try:
        yield instance.settings(**PATIENT_TIMEOUTS)
    finally:
        instance.stop()
        instance._script("wipe")


@pytest.fixture(scope="module")
def graph(settings: Neo4jSettings) -> Iterator[neo4j.Driver]:
    driver = driver_for(settings)
    yield driver
    driver.close()


def config(settings: Neo4jSettings, **embedder: Any) -> MOSConfig:
    return MOSConfig(neo4j=settings, embedder=EmbedderSettings(**embedder))


def index_dimension(graph: neo4j.Driver) -> int:
    records = graph.execute_query(
        "SHOW VECTOR INDEXES YIELD name, options WHERE name = 'memory_embedding' RETURN options"
    ).records
    return int(records[0]["options"]["indexConfig"]["vector.dimensions"])


def first(mos: MOS, query: str, user: str) -> str:
    (group,) = mos.search(query, user_id=user, top_k=3)["text_mem"]
    return str(group["memories"][0].memory)


def test_an_old_graph_keeps_its_model_until_re_embedded_then_chinese_gets_e5(
    settings: Neo4jSettings, graph: neo4j.Driver, caplog: pytest.LogCaptureFixture
) -> None:
    graph.execute_query("MATCH (n) DETACH DELETE n")
    old = MOS(config(settings, multilingual="off"), apply_schema=True)
    try:
        user = old.create_user("wang")
        cube = old.create_cube_for_user("wang", owner_id=user)
        old.add(memory_content=[*CHINESE_MEMORIES, *ENGLISH], mem_cube_id=cube, user_id=user)
    finally:
        old.close()
    assert index_dimension(graph) == 384

    # The default (two models) on the old graph: it starts, says how to upgrade, and runs MiniLM alone.
    with caplog.at_level(logging.WARNING, logger="memos_graph.services.runtime"):
        kept = MOS(config(settings), apply_schema=True)
    try:
        assert isinstance(kept.runtime.embedder, OnnxEmbedder)
        assert any("maintenance re-embed" in record.getMessage() for record in caplog.records)
        assert first(kept, "我对什么过敏？", user) == ALLERGY
        assert first(kept, "Where does my sister live?", user) == ENGLISH[1]
        kept.add(memory_content=["妹妹住在多伦多。"], mem_cube_id=cube, user_id=user)  # still 384 dimensions
    finally:
        kept.close()
    assert index_dimension(graph) == 384

    store = GraphStore(settings)
    try:
        report = reembed_graph(store, build_embedder(EmbedderSettings()), config(settings), progress=False)
    finally:
        store.close()
    assert (report.memories, report.dimension, report.previous_dimension) == (7, 896, 384)
    assert index_dimension(graph) == 896
    rows = graph.execute_query("MATCH (m:Memory) RETURN m.memory AS text, m.embedding AS vector").records
    halves = {row["text"]: (any(row["vector"][:384]), any(row["vector"][384:])) for row in rows}
    assert halves[ALLERGY] == (False, True) and halves[ENGLISH[0]] == (True, False)
    models = graph.execute_query("MATCH (c:MemCube) RETURN DISTINCT c.embedding_model AS model").records
    assert [row["model"] for row in models] == [ROUTED]

    upgraded = MOS(config(settings), apply_schema=True)
    try:
        assert upgraded.runtime.embedder.model_name == ROUTED
        assert first(upgraded, "我的职业是什么？", user) == ENGINEER  # no shared bigram: the vector side found it
        assert first(upgraded, "Where does my sister live?", user) == ENGLISH[1]
    finally:
        upgraded.close()
    with pytest.raises(Exception, match="re-embed"):  # and MiniLM alone is refused on the new graph
        MOS(config(settings, multilingual="off"), apply_schema=True)


def test_an_empty_graph_gets_an_index_of_the_configured_dimension(settings: Neo4jSettings, graph: neo4j.Driver) -> None:
    graph.execute_query("MATCH (n) DETACH DELETE n")
    MOS(config(settings, multilingual="off"), apply_schema=True).close()
    assert index_dimension(graph) == 384
    MOS(config(settings), apply_schema=True).close()  # no memory holds a vector: the index is remade
    assert index_dimension(graph) == 896

"""Shared fixtures: a real Neo4j over Bolt, the real embedder, and per-test ids for isolation.

Neo4j comes from NEO4J_URI (+ NEO4J_USER, NEO4J_PASSWORD) when set; otherwise from testcontainers where a
Docker engine answers; otherwise from scripts/neo4j.sh (the project's own local server). If none of those
works the tests fail; they never skip for want of Neo4j.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from memos_graph import MOS, MOSConfig
from memos_graph.config import Neo4jSettings
from memos_graph.embeddings import Embedder
from memos_graph.embeddings.sentence_transformer import SentenceTransformerEmbedder
from memos_graph.services.runtime import Runtime
from tests.fake_llm import FakeOpenAI, serve_fake_openai

REPO = Path(__file__).resolve().parents[1]


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _local_neo4j() -> dict[str, str]:
    script = REPO / "scripts" / "neo4j.sh"
    subprocess.run([str(script), "start"], check=True, timeout=600)
    exports = subprocess.run([str(script), "env"], check=True, capture_output=True, text=True).stdout
    values = {}
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        values[name] = value
    return values


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Neo4jSettings]:
    """Connection settings for a running Neo4j."""
    if os.environ.get("NEO4J_URI"):
        yield Neo4jSettings(
            uri=os.environ["NEO4J_URI"],
            user=os.environ.get("NEO4J_USER", "neo4j"),
            password=SecretStr(os.environ.get("NEO4J_PASSWORD", "")),
        )
    elif _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            yield Neo4jSettings(
                uri=container.get_connection_url(), user="neo4j", password=SecretStr(container.password)
            )
    else:
        values = _local_neo4j()
        yield Neo4jSettings(
            uri=values["NEO4J_URI"], user=values["NEO4J_USER"], password=SecretStr(values["NEO4J_PASSWORD"])
        )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 embedder, loaded once."""
    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def base_config(neo4j_settings: Neo4jSettings) -> MOSConfig:
    """Defaults plus the test Neo4j, acting as root."""
    return MOSConfig(neo4j=neo4j_settings)


@pytest.fixture(scope="session")
def runtime(base_config: MOSConfig, embedder: Embedder) -> Iterator[Runtime]:
    """One connected runtime (schema applied) shared by the session."""
    rt = Runtime.start(base_config, embedder)
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def root(runtime: Runtime) -> MOS:
    """A MOS acting as the root user."""
    return MOS(runtime.config, runtime=runtime)


@pytest.fixture
def as_user(runtime: Runtime) -> Callable[[str], MOS]:
    """A MOS acting as the given (existing) user, sharing the session's runtime."""

    def build(user_id: str) -> MOS:
        return MOS(runtime.config.model_copy(update={"user_id": user_id}), runtime=runtime)

    return build


@pytest.fixture
def uid() -> Callable[[str], str]:
    """Unique ids per test, so tests never see each other's data."""
    token = uuid.uuid4().hex[:10]

    def make(name: str) -> str:
        return f"{name}-{token}"

    return make


def count_nodes(runtime: Runtime, label: str, **properties: str) -> int:
    """How many nodes with this label and these properties the graph holds."""
    where = " AND ".join(f"n.{key} = ${key}" for key in properties) or "true"
    records = runtime.store.run_statement(f"MATCH (n:{label}) WHERE {where} RETURN count(n) AS n", **properties)
    return int(records[0]["n"])


@pytest.fixture(scope="session")
def llm_server() -> Iterator[FakeOpenAI]:
    """The OpenAI-compatible test server (see tests/fake_llm.py)."""
    with serve_fake_openai() as server:
        yield server

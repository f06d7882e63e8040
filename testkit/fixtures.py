"""The suite's fixtures, a pytest plugin (pyproject's addopts load it with `-p testkit.fixtures`) shared by
tests/ and bench/tests/: a real Neo4j over Bolt, the real embedder, and per-test ids for isolation.

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
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from memos_graph import MOS, MOSConfig
from memos_graph.config import Neo4jSettings
from memos_graph.embeddings import Embedder
from memos_graph.embeddings.onnx import OnnxEmbedder
from memos_graph.embeddings.routed import RoutedEmbedder
from memos_graph.embeddings.use import UseEmbedder
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fake_llm import FakeOpenAI, serve_fake_openai
from testkit.keys import ROOT_KEY

REPO = Path(__file__).resolve().parents[1]


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


def _local_neo4j() -> dict[str, str]:
    """The suite's own local Neo4j (port 7697 unless MEMOS_TEST_BOLT_PORT says otherwise), never run.sh's."""
    script = REPO / "scripts" / "neo4j.sh"
    env = {
        **os.environ,
        "NEO4J_BOLT_PORT": os.environ.get("MEMOS_TEST_BOLT_PORT", "7697"),
        "NEO4J_HTTP_PORT": os.environ.get("MEMOS_TEST_HTTP_PORT", "7484"),
    }
    subprocess.run([str(script), "start"], check=True, timeout=600, env=env)
    exports = subprocess.run([str(script), "env"], check=True, capture_output=True, text=True, env=env).stdout
    values = {}
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        values[name] = value
    return values


# The suite's mark on a database it made its own: a node of this label, written into an empty database.
TEST_MARKER_LABEL = "MemosGraphTestSuite"
Runner = Callable[[str], list[dict[str, Any]]]


class ForeignDatabase(Exception):
    """The database holds data the suite did not write: it is somebody's, and the suite must not touch it."""


def process_environment(settings: Neo4jSettings) -> dict[str, str]:
    """The environment for a memos-graph command a test starts: this process's, without MEMOS_ and NEO4J_
    settings, pointed at the tests' Neo4j, offline."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MEMOS_", "NEO4J_"))}
    env.update(
        NEO4J_URI=settings.uri,
        NEO4J_USER=settings.user,
        NEO4J_PASSWORD=settings.password.get_secret_value(),
        HF_HUB_OFFLINE="1",
    )
    return env


def claim_test_database(run: Runner, uri: str) -> None:
    """Make sure the database is the suite's own: marked by an earlier run, or empty (then marked now).

    A database with data but no marker is refused: it may be a real deployment's, and the suite creates
    users, rotates keys and deletes cubes.
    """
    if run(f"MATCH (m:{TEST_MARKER_LABEL}) RETURN count(m) AS n")[0]["n"]:
        return
    if run("MATCH (n) RETURN count(n) > 0 AS used")[0]["used"]:
        raise ForeignDatabase(
            f"the Neo4j at {uri} holds data but not the test suite's marker (a :{TEST_MARKER_LABEL} node), "
            "so it is not a database the tests created; they refuse to change it. Point NEO4J_URI at an empty "
            "database (bash scripts/test.sh starts its own on port 7697), or wipe this one if it is scratch."
        )
    run(f"CREATE (:{TEST_MARKER_LABEL} {{claimed_at: datetime()}}) RETURN 1 AS ok")


def _claim(settings: Neo4jSettings) -> Neo4jSettings:
    from neo4j import GraphDatabase

    auth = (settings.user, settings.password.get_secret_value())
    with GraphDatabase.driver(settings.uri, auth=auth) as driver:

        def run(text: str) -> list[dict[str, Any]]:
            records, _, _ = driver.execute_query(text, database_=settings.database)
            return [record.data() for record in records]

        try:
            claim_test_database(run, settings.uri)
        except ForeignDatabase as exc:
            pytest.exit(str(exc), returncode=4)
    return settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        help="also run the tests marked slow (scripts/test.sh, and so CI, passes it; so does -m naming slow)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that reaches the suite's Neo4j through a fixture is marked `neo4j`, whether or not its module
    says so, so `pytest -m "not neo4j"` is the loop that needs no database (runs before -m selects). Tests
    marked `slow` (torch beside ONNX, memory of large files: about two minutes together) are skipped unless
    --run-slow is given or the -m expression names them, so that loop stays under a minute."""
    run_slow = bool(config.getoption("--run-slow")) or "slow" in (config.getoption("markexpr") or "")
    skip_slow = pytest.mark.skip(reason="slow: pass --run-slow (scripts/test.sh does) or -m slow")
    for item in items:
        if {"neo4j_settings", "own_neo4j"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.neo4j)
        if not run_slow and item.get_closest_marker("slow") is not None:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Neo4jSettings]:
    """Connection settings for a running Neo4j the suite may change (see claim_test_database)."""
    if os.environ.get("NEO4J_URI"):
        yield _claim(
            Neo4jSettings(
                uri=os.environ["NEO4J_URI"],
                user=os.environ.get("NEO4J_USER", "neo4j"),
                password=SecretStr(os.environ.get("NEO4J_PASSWORD", "")),
            )
        )
    elif _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            yield _claim(
                Neo4jSettings(uri=container.get_connection_url(), user="neo4j", password=SecretStr(container.password))
            )
    else:
        values = _local_neo4j()
        yield _claim(
            Neo4jSettings(
                uri=values["NEO4J_URI"], user=values["NEO4J_USER"], password=SecretStr(values["NEO4J_PASSWORD"])
            )
        )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real embedder the service runs by default, loaded once: all-MiniLM-L6-v2 (set-up's ONNX export
    through onnxruntime) for Latin-script text, USE multilingual v3 for other scripts; built directly so that
    a missing export fails the suite instead of quietly testing the torch fallback."""
    return RoutedEmbedder(OnnxEmbedder("all-MiniLM-L6-v2"), UseEmbedder())


@pytest.fixture(scope="session")
def base_config(neo4j_settings: Neo4jSettings) -> MOSConfig:
    """Defaults plus the test Neo4j, acting as root."""
    return MOSConfig(neo4j=neo4j_settings)


def fit_suite_database(settings: Neo4jSettings, dimension: int) -> bool:
    """Empty a database of the suite's own whose vector index has another dimension than `dimension` (left by a
    run of an earlier embedder), and drop its vector indexes, so the schema is built for this embedder. Only
    for databases the suite made its own (claim_test_database, or a server the suite starts on its own port).
    True when it emptied it."""
    from neo4j import GraphDatabase

    auth = (settings.user, settings.password.get_secret_value())
    with GraphDatabase.driver(settings.uri, auth=auth) as driver:
        indexes = driver.execute_query("SHOW VECTOR INDEXES YIELD name, options RETURN name, options").records
        if all(int(row["options"]["indexConfig"]["vector.dimensions"]) == dimension for row in indexes):
            return False
        with driver.session() as session:  # CALL ... IN TRANSACTIONS runs in an auto-commit transaction only
            session.run(
                f"MATCH (n) WHERE NOT n:{TEST_MARKER_LABEL} CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS"
            ).consume()
        for row in indexes:
            driver.execute_query(f"DROP INDEX `{row['name']}` IF EXISTS")  # names read back from this database
    return True


@pytest.fixture(scope="session")
def runtime(base_config: MOSConfig, embedder: Embedder) -> Iterator[Runtime]:
    """One connected runtime (schema applied) shared by the session, on the suite's database emptied first when
    an earlier run left vectors of another embedder."""
    fit_suite_database(base_config.neo4j, embedder.dimension)
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
    """The OpenAI-compatible test server (see testkit/fake_llm.py)."""
    with serve_fake_openai() as server:
        yield server


def apply_root_key(runtime: Runtime) -> None:
    """Make ROOT_KEY the root user's key in the suite's database (again, after a test changed it)."""
    users = Services.over(runtime).users
    users.bootstrap(runtime.config.user_id, runtime.config.user_name)
    users.apply_root_key(runtime.config.user_id, SecretStr(ROOT_KEY))


@pytest.fixture(scope="session")
def keyed_runtime(runtime: Runtime) -> Runtime:
    """The session's runtime (Neo4j driver, embedder) with the session's root API key, applied."""
    keyed = replace(runtime, config=runtime.config.model_copy(update={"root_api_key": SecretStr(ROOT_KEY)}))
    apply_root_key(keyed)
    return keyed

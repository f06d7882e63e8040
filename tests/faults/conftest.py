"""Fixtures for fault injection: a Neo4j of the session's own (never the shared one), the GraphQL server as a
process on it, and an in-process MOS on it, all with small Neo4j timeouts (testkit/faults.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from pydantic import SecretStr

from memos_graph import MOS, MOSConfig
from memos_graph.config import Neo4jSettings
from memos_graph.embeddings import Embedder
from memos_graph.services.runtime import Runtime
from testkit.faults import Neo4jInstance, ServerProcess, driver_for
from testkit.fixtures import fit_suite_database

ROOT_KEY = "mgk_faults-root-key-for-the-outage-suite"


@pytest.fixture(scope="session")
def outage_neo4j(embedder: Embedder) -> Iterator[Neo4jInstance]:
    """A separate Neo4j (scripts/neo4j.sh on MEMOS_FAULTS_BOLT_PORT, 7690 by default) that tests may stop."""
    instance = Neo4jInstance()
    instance.start()
    # The suite's own server: an earlier run's vectors of another embedder are cleared before the server and
    # the in-process runtimes start on it.
    fit_suite_database(instance.settings(), embedder.dimension)
    try:
        yield instance
    finally:
        if instance.pid() is not None:
            instance.thaw()  # harmless when not frozen; a frozen JVM would ignore the SIGTERM of stop()
        instance.stop()


@pytest.fixture(scope="session")
def outage_settings(outage_neo4j: Neo4jInstance) -> Neo4jSettings:
    """Connection settings of the separate Neo4j, with the small fault timeouts."""
    return outage_neo4j.settings()


@pytest.fixture(scope="session")
def outage_driver(outage_settings: Neo4jSettings) -> Iterator[neo4j.Driver]:
    """The test's own driver to the separate Neo4j, for the audit."""
    driver = driver_for(outage_settings)
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def outage_server(
    outage_neo4j: Neo4jInstance, outage_settings: Neo4jSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """`python -m graphql_schema` on the separate Neo4j, its timeouts from a --config file."""
    server = ServerProcess(outage_settings, ROOT_KEY, Path(tmp_path_factory.mktemp("server")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def outage_mos(outage_settings: Neo4jSettings, embedder: Embedder) -> Iterator[MOS]:
    """An in-process MOS (root) on the separate Neo4j; its runtime's own driver serves every read and write,
    so the other runtimes of the process stay on theirs."""
    config = MOSConfig(neo4j=outage_settings, root_api_key=SecretStr(ROOT_KEY))
    runtime = Runtime.start(config, embedder)
    try:
        yield MOS(config, runtime=runtime)
    finally:
        runtime.close()

"""A CI-sized run of the load benchmark: the real server as a subprocess, 8 concurrent clients over 4 users
for a few seconds. No call may fail and every acknowledged add must be found afterwards, through the API and
in the graph's per-cube counts."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from bench.bench_load import (
    OPERATIONS,
    cleanup,
    count_mismatches,
    graph_counts,
    parse_mix,
    run_load,
    server_env,
    setup_users,
)
from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI
from testkit.keys import ROOT_KEY
from testkit.servers import serve

pytestmark = pytest.mark.neo4j

ANSWER = "You went hiking near the lake."


def test_concurrent_mix_has_no_errors_and_loses_no_writes(
    neo4j_settings: Neo4jSettings, keyed_runtime: Runtime, llm_server: FakeOpenAI, tmp_path: Path
) -> None:
    llm_server.reset(ANSWER)
    root_key = ROOT_KEY  # the suite's root key, which keyed_runtime stored (a server start never replaces it)
    log_path = tmp_path / "server.log"
    token = uuid.uuid4().hex[:8]
    users = []
    with serve(server_env(neo4j_settings, root_key, llm_server.url), log_path) as server:
        try:
            users = asyncio.run(setup_users(server.base_url, root_key, count=4, seed_memories=10, token=token))
            result = run_load(
                server.base_url, users, clients=8, duration=8.0, weights=parse_mix("search=40,add=30,get=20,chat=10")
            )
            counts = graph_counts(neo4j_settings, users)
        finally:
            if users:
                cleanup(neo4j_settings, users)
    log = log_path.read_text(errors="replace")
    summary = result.summary()

    assert result.errors == 0, (summary["operations"], log[-3000:])
    for name in OPERATIONS:
        assert result.operations[name].count >= 3, f"{name} ran {result.operations[name].count} times"
    writes = result.writes
    assert writes.acknowledged == result.operations["add"].count > 0
    assert writes.found == writes.acknowledged and writes.lost_ids == [], writes.summary()
    assert writes.wrong_text_ids == [] and writes.repeated_ids == 0 and writes.check_errors == []
    assert sorted(counts) == sorted(user.cube_id for user in users)
    assert count_mismatches(counts, writes.expected_per_cube) == [], counts
    assert sum(c["stored"] for c in counts.values()) == 4 * 10 + writes.acknowledged
    assert result.ok
    assert any(request["model"] == "load-test" for request in llm_server.requests)


def test_compare_sides_parse_and_name_their_launcher() -> None:
    from bench.bench_load import Side

    base = Side.parse("base", "")
    assert (base.name, base.env, base.workers, base.command(), base.describe()) == ("base", {}, 1, None, "defaults")
    two = Side.parse("candidate", '{"name": "two", "env": {"MEMOS_MAX_LIGHT_WORKER_THREADS": 0}, "workers": 2}')
    assert two.name == "two" and two.env == {"MEMOS_MAX_LIGHT_WORKER_THREADS": "0"}
    command = two.command()
    assert command is not None and command[-2:] == ["--workers", "2"] and "--factory" in command
    with pytest.raises(ValueError, match="unknown keys"):
        Side.parse("x", '{"threads": 3}')

"""One tenant cannot stall the others (issue 11, point 3), through the real server as a process on the real Neo4j.

A hostile USER with 20 cubes sends, from four clients at once, requests of 20 aliased searches over all of them
(cost 20 x 20 x 5 = 2,000, the most a request may cost), while a second USER sends a one-field query one at a
time. Before the limits, such requests took every worker thread and the quiet tenant's query waited for them
(bench/results/load-hostile-before.md: 13.9 s at worst); now one caller holds at most
limits.max_workers_per_caller threads and the quiet tenant's query stays under VICTIM_MAX_S. A request over the
cost budget is refused before any work, within REFUSAL_MAX_S.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.faults import ServerProcess
from testkit.keys import ROOT_KEY
from testkit.security import Caller, aliased_search, create_caller, purge_user

pytestmark = pytest.mark.neo4j

CUBES = 20
ALIASES = 20
HOSTILE_CLIENTS = 4
HOSTILE_S = 15.0
VICTIM_QUERY = "{ me { user { userId } } }"
# The quiet tenant's query alone answers in about 20 ms here; with the hostile load, in at most this long.
VICTIM_MAX_S = 3.0
VICTIM_MEDIAN_S = 0.5
REFUSAL_MAX_S = 1.0


@dataclass
class Tenants:
    server: ServerProcess
    hostile: Caller
    victim: Caller
    cubes: list[str]


@pytest.fixture(scope="module")
def tenants(
    keyed_runtime: Runtime, neo4j_settings: Neo4jSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Tenants]:
    services = Services.over(keyed_runtime)
    token = uuid.uuid4().hex[:8]
    hostile = create_caller(services, f"sec-hostile-{token}")
    victim = create_caller(services, f"sec-victim-{token}")
    try:
        actor = services.cubes.actor(hostile.user_id)
        cubes = []
        for index in range(CUBES):
            cube = services.cubes.create_cube(actor, f"hostile {index}", hostile.user_id).cube_id
            texts = [f"hostile note {index}-{n}: the tenant writes about gardens and rain {n}" for n in range(10)]
            services.memories.add_texts(actor, texts, cube)
            cubes.append(cube)
        server = ServerProcess(neo4j_settings, ROOT_KEY, Path(tmp_path_factory.mktemp("limits-server")))
        server.start()
        try:
            yield Tenants(server, hostile, victim, cubes)
        finally:
            server.stop()
    finally:
        for caller in (hostile, victim):
            purge_user(keyed_runtime, caller.user_id)


def post(client: httpx.Client, key: str, query: str, **variables: Any) -> tuple[float, dict[str, Any]]:
    began = time.monotonic()
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
    )
    seconds = time.monotonic() - began
    assert response.status_code == 200, response.text[:300]
    body: dict[str, Any] = response.json()
    return seconds, body


def codes(body: dict[str, Any]) -> list[str]:
    return [str((error.get("extensions") or {}).get("code")) for error in body.get("errors") or []]


def test_a_hostile_tenant_does_not_stall_another(tenants: Tenants) -> None:
    url, hostile, victim = tenants.server.url, tenants.hostile, tenants.victim
    with httpx.Client(base_url=url, timeout=120.0) as client:
        alone = [post(client, victim.key, VICTIM_QUERY)[0] for _ in range(10)]
        # Over the budget (20 x 20 x topK 10 = 4,000): refused as a whole, before any work.
        seconds, body = post(client, hostile.key, aliased_search(ALIASES), cubes=tenants.cubes, k=10)
        assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"], body
        assert body["errors"][0]["extensions"]["reason"] == "COST_LIMIT"
        print(f"\nover-budget request refused in {seconds:.3f} s: {body['errors'][0]['message']}")
        assert seconds < REFUSAL_MAX_S

    stop = threading.Event()
    hostile_times: list[float] = []
    hostile_codes: Counter[str] = Counter()
    victim_times: list[float] = []
    victim_failures: list[dict[str, Any]] = []

    def attacker() -> None:
        with httpx.Client(base_url=url, timeout=120.0) as client:
            while not stop.is_set():
                seconds, body = post(client, hostile.key, aliased_search(ALIASES), cubes=tenants.cubes, k=5)
                hostile_times.append(seconds)
                hostile_codes.update(codes(body) or ["ok"])

    threads = [threading.Thread(target=attacker, daemon=True) for _ in range(HOSTILE_CLIENTS)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the attack is under way
    with httpx.Client(base_url=url, timeout=120.0) as client:
        ends = time.monotonic() + HOSTILE_S
        while time.monotonic() < ends:
            seconds, body = post(client, victim.key, VICTIM_QUERY)
            victim_times.append(seconds)
            if body.get("errors"):
                victim_failures.append(body)
            time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=180)

    print(
        f"victim alone: median {statistics.median(alone) * 1000:.0f} ms, max {max(alone) * 1000:.0f} ms; "
        f"under attack ({HOSTILE_CLIENTS} clients x {ALIASES} aliases x {CUBES} cubes, {HOSTILE_S:g} s): "
        f"{len(victim_times)} queries, median {statistics.median(victim_times) * 1000:.0f} ms, "
        f"max {max(victim_times) * 1000:.0f} ms; hostile: {len(hostile_times)} requests, "
        f"median {statistics.median(hostile_times):.1f} s, max {max(hostile_times):.1f} s, codes {dict(hostile_codes)}"
    )
    assert not victim_failures, victim_failures[:3]
    assert max(victim_times) < VICTIM_MAX_S, sorted(victim_times)[-5:]
    assert statistics.median(victim_times) < VICTIM_MEDIAN_S
    assert hostile_codes["ok"] >= 1, hostile_codes  # the hostile tenant is slowed, not shut out

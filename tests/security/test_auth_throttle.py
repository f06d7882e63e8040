"""Issue 22, L10: failed API-key attempts are budgeted per client address, before any Neo4j lookup.

Through the real GraphQL app (HTTP and WebSocket) and the real MCP-over-HTTP app over the real Neo4j, with the
throttle's clock driven by the test (no sleeping): an address that spent its burst of wrong keys gets 429 with
Retry-After (WebSocket: close 4429) and no lookup is made for it; a good key, or another address, goes on;
the budget refills with time. Before the fix every wrong key was looked up: 3 + 10 keys, 13 lookups, 13 x 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from graphql_schema.app import create_app
from memos_graph.mcp_server.http import create_http_app
from memos_graph.services.auth_throttle import FailedAuthThrottle
from memos_graph.services.identity import new_api_key
from testkit.security import SecurityEnv

pytestmark = pytest.mark.neo4j

ME = {"query": "{ me { user { userId } } }"}
BURST = 3
PER_SECOND = 1.0
ATTACKER = ("203.0.113.7", 40000)
NEIGHBOUR = ("198.51.100.9", 40001)
PROTOCOL = "graphql-transport-ws"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Throttled:
    throttle: FailedAuthThrottle
    clock: Clock
    lookups: list[str]


@pytest.fixture
def throttled(security_env: SecurityEnv, monkeypatch: pytest.MonkeyPatch) -> Throttled:
    """A throttle of BURST wrong keys refilled at PER_SECOND on a hand-driven clock; Neo4j key lookups counted."""
    clock = Clock()
    lookups: list[str] = []
    users = security_env.runtime.users
    real = users.get_by_api_key_hash

    def counting(digest: str) -> Any:
        lookups.append(digest)
        return real(digest)

    monkeypatch.setattr(users, "get_by_api_key_hash", counting)
    return Throttled(FailedAuthThrottle(PER_SECOND, BURST, 100, clock), clock, lookups)


@pytest.fixture
def graphql_app(security_env: SecurityEnv, throttled: Throttled) -> Iterator[Any]:
    app = create_app(runtime=security_env.runtime, auth_throttle=throttled.throttle)
    with TestClient(app, client=ATTACKER):  # runs the lifespan; other clients share the started app
        throttled.lookups.clear()  # the start-up's own lookup (the root key) is not a request's
        yield app


def post(client: TestClient, key: str) -> Any:
    return client.post("/graphql", json=ME, headers={"Authorization": f"Bearer {key}"})


def test_wrong_keys_from_one_address_get_429_after_the_burst_without_a_lookup(
    security_env: SecurityEnv, throttled: Throttled, graphql_app: Any
) -> None:
    attacker, neighbour = TestClient(graphql_app, client=ATTACKER), TestClient(graphql_app, client=NEIGHBOUR)
    alice = security_env.caller("alice")

    assert [post(attacker, new_api_key()).status_code for _ in range(BURST)] == [401] * BURST
    assert len(throttled.lookups) == BURST
    refused = [post(attacker, new_api_key()) for _ in range(10)]
    assert [r.status_code for r in refused] == [429] * 10
    assert len(throttled.lookups) == BURST  # refused before any lookup
    answer = refused[-1]
    assert answer.headers["retry-after"] == "1" and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS"

    # Another address is not concerned, and a good key costs it nothing.
    assert post(neighbour, alice.key).json()["data"]["me"]["user"]["userId"] == alice.user_id
    assert throttled.throttle.remaining(NEIGHBOUR[0]) == BURST
    assert post(neighbour, new_api_key()).status_code == 401
    # A key the cache knows to be good is served even to the spent address (no lookup, nothing to guess).
    lookups = len(throttled.lookups)
    assert post(attacker, alice.key).status_code == 200 and len(throttled.lookups) == lookups

    # The budget refills: one token per second, up to the burst.
    throttled.clock.now += 1 / PER_SECOND
    assert [post(attacker, new_api_key()).status_code for _ in range(2)] == [401, 429]
    throttled.clock.now += 3_600
    assert [post(attacker, new_api_key()).status_code for _ in range(BURST + 1)] == [401] * BURST + [429]


def test_the_websocket_shares_the_budget_and_closes_with_4429(
    security_env: SecurityEnv, throttled: Throttled, graphql_app: Any
) -> None:
    attacker, neighbour = TestClient(graphql_app, client=ATTACKER), TestClient(graphql_app, client=NEIGHBOUR)
    alice = security_env.caller("alice")

    def connect(client: TestClient, key: str) -> int | None:
        """The close code of a connection_init with this key (None: acknowledged)."""
        with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
            try:
                assert ws.receive_json() == {"type": "connection_ack"}
            except WebSocketDisconnect as closed:
                return closed.code
            return None

    assert post(attacker, new_api_key()).status_code == 401  # HTTP and WebSocket draw on one budget
    assert [connect(attacker, new_api_key()) for _ in range(BURST - 1)] == [4403] * (BURST - 1)
    assert connect(attacker, new_api_key()) == 4429
    assert len(throttled.lookups) == BURST
    assert connect(neighbour, alice.key) is None


def test_mcp_over_http_answers_429_after_the_burst(security_env: SecurityEnv, throttled: Throttled) -> None:
    app = create_http_app(security_env.services, auth_throttle=throttled.throttle)
    alice = security_env.caller("alice")
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    with TestClient(app, base_url="http://127.0.0.1:8765", client=ATTACKER) as attacker:
        neighbour = TestClient(app, base_url="http://127.0.0.1:8765", client=NEIGHBOUR)

        def status(client: TestClient, key: str) -> int:
            sent = {**headers, "Authorization": f"Bearer {key}"}
            return client.post("/mcp", headers=sent, json=initialize).status_code

        assert [status(attacker, new_api_key()) for _ in range(BURST + 2)] == [401] * BURST + [429] * 2
        assert len(throttled.lookups) == BURST
        refused = attacker.post("/mcp", headers={**headers, "Authorization": "Bearer x"}, json=initialize)
        assert refused.headers["retry-after"] == "1" and refused.json()["error"]["code"] == "TOO_MANY_REQUESTS"
        assert status(neighbour, alice.key) == 200

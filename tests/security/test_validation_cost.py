"""A document's validation costs time linear in its text (security probe 2026-12, H2), through the real app
served by uvicorn (its own event loop, as in production) on the real Neo4j.

The probe's "diamond": each fragment spreads two fragments of the next level, so 19 levels (1.6 KB) hold 2^19
paths; Strawberry's depth and alias limiters and the cost model walked every path on the event loop, and
one GUEST request stalled every client, /healthz included, for 20 s. Now each fragment is measured once and
the expanded size is multiplied: the document is refused with NODE_LIMIT at once, and /healthz answers
while a flood of them is being refused. Bounds are generous (the machine is shared): a refusal within
REFUSAL_MAX_S, /healthz within HEALTH_MAX_S; bench/bench_diamond.py measures the real figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from graphql_schema.refusals import RefusedDocuments
from memos_graph.domain import UserRole
from testkit.diamond import diamond
from testkit.security import Caller, SecurityEnv
from testkit.servers import serve_app

pytestmark = pytest.mark.neo4j

REFUSAL_MAX_S = 5.0
HEALTH_MAX_S = 5.0
FLOOD_S = 3.0
FLOOD_CLIENTS = 4


@pytest.fixture(scope="module")
def server(security_env: SecurityEnv) -> Iterator[str]:
    """The app under uvicorn in a thread: one event loop, shared by every client as in production."""
    with serve_app(create_app(runtime=security_env.runtime)) as origin:
        yield origin


@pytest.fixture(scope="module")
def guest(security_env: SecurityEnv) -> Caller:
    return security_env.caller("diamond", UserRole.GUEST)


def post(client: httpx.Client, key: str, query: str) -> tuple[float, dict[str, Any]]:
    began = time.monotonic()
    response = client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"})
    seconds = time.monotonic() - began
    assert response.status_code == 200, response.text[:300]
    body: dict[str, Any] = response.json()
    return seconds, body


def assert_node_limit(body: dict[str, Any]) -> None:
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["reason"] == "NODE_LIMIT", error
    assert error["extensions"]["cost"] > error["extensions"]["limit"], error


@pytest.mark.parametrize("levels", [19, 95])
def test_a_fragment_diamond_is_refused_at_once(server: str, guest: Caller, levels: int) -> None:
    document = diamond(levels)
    assert len(document) < 10_000  # the probe's 19 levels: 1,591 characters
    with httpx.Client(base_url=server, timeout=60.0) as client:
        seconds, body = post(client, guest.key, document)
    assert_node_limit(body)
    assert body["errors"][0]["extensions"]["cost"] == 2**levels  # multiplied, not walked
    assert seconds < REFUSAL_MAX_S, seconds


def test_healthz_answers_during_a_flood_of_diamonds(server: str, guest: Caller) -> None:
    stop = threading.Event()
    refusals: list[float] = []
    problems: list[str] = []

    def flood(levels: int) -> None:
        with httpx.Client(base_url=server, timeout=60.0) as client:
            while not stop.is_set():
                try:
                    seconds, body = post(client, guest.key, diamond(levels))
                    assert_node_limit(body)
                except (AssertionError, httpx.HTTPError) as exc:
                    problems.append(repr(exc)[:300])
                    return
                refusals.append(seconds)

    threads = [threading.Thread(target=flood, args=(19 if n % 2 else 95,), daemon=True) for n in range(FLOOD_CLIENTS)]
    for thread in threads:
        thread.start()
    health: list[float] = []
    try:
        with httpx.Client(base_url=server, timeout=60.0) as client:
            ends = time.monotonic() + FLOOD_S
            while time.monotonic() < ends:
                began = time.monotonic()
                response = client.get("/healthz")
                health.append(time.monotonic() - began)
                assert response.status_code == 200, response.text
                time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    print(
        f"\n{len(refusals)} diamonds refused in {FLOOD_S:g} s (slowest {max(refusals, default=0):.3f} s); "
        f"/healthz {len(health)} times, slowest {max(health):.3f} s"
    )
    assert not problems, problems[:3]
    assert len(refusals) >= FLOOD_CLIENTS, refusals  # every client got its refusals during the flood
    assert max(refusals) < REFUSAL_MAX_S, sorted(refusals)[-5:]
    assert max(health) < HEALTH_MAX_S, sorted(health)[-5:]


@pytest.mark.parametrize(
    "document",
    [
        # Within the 2,000-token limit; GraphQL's own validation took 0.9 s and 0.5 s on them before (here,
        # loaded), and about 3 s for 300 copies.
        "{ " + "me { user { userId } } " * 280 + "}",
        "{ "
        + " ".join(f"...F{n}" for n in range(130))
        + " } "
        + " ".join(f"fragment F{n} on Query {{ me {{ user {{ userId }} }} }}" for n in range(130)),
        "{ " + ("me { " + "user { userId } " * 30 + "} ") * 15 + "}",  # 450 users merged under me: 1.8-2.9 s
    ],
    ids=["280-copies", "130-fragments", "15-merged-30"],
)
def test_one_key_selected_hundreds_of_times_is_refused_at_once(server: str, guest: Caller, document: str) -> None:
    with httpx.Client(base_url=server, timeout=60.0) as client:
        seconds, body = post(client, guest.key, document)
    assert body.get("data") is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert "times in one selection set" in error["message"], error
    assert seconds < REFUSAL_MAX_S, seconds


class FakeClock:
    """A clock the test moves (the budget refills with time)."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_whose_documents_keep_being_refused_is_refused_unparsed(security_env: SecurityEnv) -> None:
    """A flood of fresh diamonds still costs a parse each (about 9 ms of the event loop for 95 levels):
    the caller's refused documents spend a byte budget, and a document is admitted only while the budget
    holds what it would spend if refused; otherwise it is answered 429 TOO_MANY_REQUESTS before it is
    parsed, on HTTP and the WebSocket, until the budget refills. Another caller is not affected."""
    clock = FakeClock()
    document = diamond(95)
    size = len(document.encode())
    budget = RefusedDocuments(bytes_per_s=1_000.0, burst_bytes=3 * size, max_callers=100, clock=clock)
    env = security_env
    flooder, other = env.caller("flood", UserRole.GUEST), env.caller("bystander")
    valid = "{ me { user { userId } } }"
    with TestClient(create_app(runtime=env.runtime, refused_documents=budget)) as client:

        def send(key: str, query: str) -> Any:
            return client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"})

        for _ in range(3):  # the burst: each one parsed, validated and refused as usual
            response = send(flooder.key, document)
            assert response.status_code == 200, response.text[:300]
            assert_node_limit(response.json())
        assert budget.remaining(flooder.user_id) < 1
        for query in (document, valid):  # spent: refused before parsing, even a valid document
            refused = send(flooder.key, query)
            assert refused.status_code == 429, refused.text[:300]
            assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS", refused.text
            assert int(refused.headers["Retry-After"]) >= 1
        answered = send(other.key, valid)  # another caller goes on
        assert answered.status_code == 200 and answered.json()["data"]["me"]["user"]["userId"] == other.user_id

        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {flooder.key}"}})
            assert ws.receive_json() == {"type": "connection_ack"}
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": document}})
            refusal = ws.receive_json()
            assert refusal["type"] == "error", refusal
            assert refusal["payload"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS", refusal

        clock.now += 1.0  # 1,000 bytes back: enough for a small document, not for another diamond
        again = send(flooder.key, valid)
        assert again.status_code == 200, again.text[:300]
        assert again.json()["data"]["me"]["user"]["userId"] == flooder.user_id
        assert send(flooder.key, document).status_code == 429  # it could spend more than the bucket holds
        clock.now += size / 1_000.0  # a diamond's worth back: admitted, parsed, refused, and spent again
        before = budget.remaining(flooder.user_id)
        assert_node_limit(send(flooder.key, document).json())
        assert before - budget.remaining(flooder.user_id) >= size  # the request's bytes, the document's at least
        assert send(flooder.key, document).status_code == 429

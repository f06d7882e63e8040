"""X-Request-ID on every answer of the GraphQL app (given, made up, unsafe ones replaced; refusals and the
WebSocket handshake included) and the id on the log lines of its request, worker threads and WebSocket
operations included; through the real ASGI app and Neo4j (Starlette's TestClient)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.config import LLMSettings
from memos_graph.logs import JsonFormatter, RequestIdFilter
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI

pytestmark = pytest.mark.neo4j

MADE_UP = re.compile(r"[0-9a-f]{32}")
PROTOCOL = "graphql-transport-ws"


@contextmanager
def captured_records(*names: str) -> Iterator[list[logging.LogRecord]]:
    """Every record that reaches the root logger (or one of the named loggers) while the block runs, once
    each, with its request_id set."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not any(kept is record for kept in records):
                records.append(record)

    handler = Keep(logging.DEBUG)
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in names)]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_a_sane_given_id_comes_back_and_a_missing_one_is_made_up(client: TestClient) -> None:
    given = f"req-{uuid.uuid4()}"
    answer = client.get("/healthz", headers={"X-Request-ID": given})
    assert answer.status_code == 200
    assert answer.headers.get_list("x-request-id") == [given]

    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert MADE_UP.fullmatch(first) and MADE_UP.fullmatch(second) and first != second


@pytest.mark.parametrize(
    "unsafe",
    [b"two words", b'quote"d', b"x" * 129, "caf\u00e9".encode(), b"tab\there", b"semi;colon", b""],
    ids=["space", "quote", "too-long", "non-ascii", "tab", "semicolon", "empty"],
)
def test_an_unsafe_given_id_is_replaced(client: TestClient, unsafe: bytes) -> None:
    answer = client.get("/healthz", headers={b"X-Request-ID": unsafe})
    assert answer.headers.get_list("x-request-id") != [unsafe.decode("latin-1")]
    assert MADE_UP.fullmatch(answer.headers["x-request-id"])


def test_refusals_and_pages_carry_the_id_too(client: TestClient) -> None:
    answers = {
        401: client.post("/graphql", json={"query": "{ me { userId } }"}, headers={"X-Request-ID": "r-401"}),
        413: client.post("/graphql", content=b"x" * 1_000_001, headers={"X-Request-ID": "r-413"}),
        404: client.get("/no-such-page", headers={"X-Request-ID": "r-404"}),
        200: client.get("/graphql", headers={"X-Request-ID": "r-200"}),  # GraphiQL's page
    }
    for status, answer in answers.items():
        assert answer.status_code == status, answer.text
        assert answer.headers.get_list("x-request-id") == [f"r-{status}"]


def test_log_lines_of_a_request_carry_its_id_also_from_a_worker_thread(
    client: TestClient, new_user: Callable[..., tuple[str, str]]
) -> None:
    user, key = new_user("rotator")
    given = f"rotate-{uuid.uuid4().hex}"
    with captured_records() as records:
        answer = client.post(
            "/graphql",
            json={"query": "mutation { rotateApiKey }"},
            headers={"Authorization": f"Bearer {key}", "X-Request-ID": given},
        )
    assert answer.status_code == 200 and answer.json().get("errors") is None, answer.text
    assert answer.headers["x-request-id"] == given
    # The key change is audited by the service, on the worker thread the resolver ran it on.
    (audited,) = [r for r in records if r.name == "memos_graph.audit" and repr(user) in r.getMessage()]
    assert str(audited.threadName).startswith("memos-worker"), audited.threadName
    line = json.loads(JsonFormatter().format(audited))
    assert line["request_id"] == given == answer.headers["x-request-id"]
    assert line["logger"] == "memos_graph.audit" and line["level"] == "WARNING"
    assert "api_key_rotate" in line["message"] and repr(user) in line["message"]


def test_a_websocket_gets_an_id_and_its_operations_log_with_it(
    keyed_runtime: Runtime, llm_server: FakeOpenAI, new_user: Callable[..., tuple[str, str]]
) -> None:
    _, key = new_user("streamer")  # no cubes: the stream asks the model without a search first
    llm_server.reset("Alice plays the cello.")
    llm = LLMSettings(model="openai/streamer", api_base=llm_server.url, api_key="sk-test", num_retries=0)
    config = keyed_runtime.config.model_copy(update={"llm": llm})
    given = f"ws-{uuid.uuid4().hex}"
    litellm_logger = logging.getLogger("LiteLLM")
    level = litellm_logger.level
    litellm_logger.setLevel(logging.INFO)  # its "LiteLLM completion() model= ..." line, logged for the stream
    try:
        with (
            TestClient(create_app(runtime=replace(keyed_runtime, config=config))) as client,
            captured_records(litellm_logger.name) as records,
            client.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers={"X-Request-ID": given}) as ws,
        ):
            handshake: list[tuple[bytes, bytes]] = list(ws.extra_headers or [])
            assert (b"x-request-id", given.encode()) in handshake
            ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
            assert ws.receive_json() == {"type": "connection_ack"}
            query = "subscription($q: String!) { chatStream(query: $q) { delta answer } }"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"q": "Hi?"}}})
            while (message := ws.receive_json())["type"] not in ("complete", "error"):
                assert message["type"] == "next" and not message["payload"].get("errors"), message
    finally:
        litellm_logger.setLevel(level)
    # The start-up warm-up (llm/warmup.py) makes a mocked call for the same model on its own thread, outside
    # any request; on a busy machine it may log while the stream's records are captured.
    to_model = [
        r
        for r in records
        if r.name == litellm_logger.name and "model= streamer" in r.getMessage() and r.threadName != "llm-warm-up"
    ]
    assert to_model, [(r.name, r.getMessage()) for r in records]
    assert {getattr(r, "request_id", None) for r in to_model} == {given}

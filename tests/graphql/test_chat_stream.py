"""The chatStream subscription over graphql-transport-ws, through the real ASGI app (Starlette's TestClient),
spoken by hand: connection_init, subscribe, next, complete. litellm streams for real over HTTP from the fake
OpenAI server on 127.0.0.1 (testkit/fake_llm.py, streaming mode); the chat history is the shared test Neo4j's."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Literal

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from graphql_schema.app import create_app
from memos_graph.config import LLMSettings
from memos_graph.llm.warmup import FIRST_CALL_MODULES, WarmUp
from memos_graph.request_ids import RequestIds
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI, stream_pieces
from testkit.fixtures import count_nodes
from testkit.servers import serve_app
from tests.graphql.conftest import Gql

pytestmark = pytest.mark.neo4j

PROTOCOL = "graphql-transport-ws"
STREAM = "subscription($q: String!, $s: String) { chatStream(query: $q, sessionId: $s) { delta answer } }"
REPLY = "Alice plays the cello every Sunday morning."
IDLE_S = 2.0
NewUser = Callable[..., tuple[str, str]]
Message = dict[str, Any]


def llm_for(server: FakeOpenAI, **overrides: Any) -> LLMSettings:
    """The chat model on the fake server: no retries, a short idle timeout, a total that never interferes."""
    fields: dict[str, Any] = {"timeout_s": 30.0, "stream_idle_timeout_s": IDLE_S, **overrides}
    return LLMSettings(model="openai/streamer", api_base=server.url, api_key="sk-test", num_retries=0, **fields)


@contextmanager
def serve(runtime: Runtime, llm: LLMSettings, call_deadline_s: float | None = None) -> Iterator[TestClient]:
    """The real ASGI app with this chat model (and call deadline), its lifespan run by the TestClient."""
    config = runtime.config.model_copy(update={"llm": llm})
    if call_deadline_s is not None:
        config = config.model_copy(
            update={"neo4j": config.neo4j.model_copy(update={"call_deadline_s": call_deadline_s})}
        )
    with TestClient(create_app(runtime=replace(runtime, config=config))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def client(keyed_runtime: Runtime, llm_server: FakeOpenAI) -> Iterator[TestClient]:
    """This module's app: the conftest's, with the chat model on the fake server (gql and new_user use it)."""
    with serve(keyed_runtime, llm_for(llm_server)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def fresh_model(llm_server: FakeOpenAI) -> None:
    llm_server.reset(REPLY)


@contextmanager
def connection(client: TestClient, key: str) -> Iterator[Any]:
    """An acknowledged graphql-transport-ws connection authenticated by `key` in connection_init."""
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        assert ws.accepted_subprotocol == PROTOCOL
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        assert ws.receive_json() == {"type": "connection_ack"}
        yield ws


def subscribe(ws: Any, op_id: str, query: str, **variables: Any) -> None:
    ws.send_json({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})


def until_done(ws: Any, op_id: str) -> list[Message]:
    """The operation's messages up to and including its `complete` or `error`."""
    messages: list[Message] = []
    while True:
        message = ws.receive_json()
        assert message.get("id") == op_id, message
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


def events(messages: list[Message]) -> list[Message]:
    """The chatStream events of the `next` messages that carry data."""
    return [m["payload"]["data"]["chatStream"] for m in messages if m["type"] == "next" and m["payload"].get("data")]


def errors(messages: list[Message]) -> list[Message]:
    """The GraphQL errors of an operation's messages (in `next` payloads or an `error` message)."""
    found: list[Message] = []
    for message in messages:
        if message["type"] == "next":
            found += message["payload"].get("errors") or []
        elif message["type"] == "error":
            found += message["payload"]
    return found


def stream_chat(client: TestClient, key: str, query: str, session: str | None = None) -> list[Message]:
    with connection(client, key) as ws:
        subscribe(ws, "1", STREAM, q=query, s=session)
        return until_done(ws, "1")


def turns(runtime: Runtime, user: str) -> list[tuple[str, str]]:
    """The user's stored ChatTurns (role, content) in order."""
    rows = runtime.store.run_statement(
        "MATCH (:User {id: $user})-[:HAS_TURN]->(t:ChatTurn) RETURN t.role AS role, t.content AS content "
        "ORDER BY t.created_at, t.seq",
        user=user,
    )
    return [(row["role"], row["content"]) for row in rows]


def remember(gql: Gql, key: str, *content: str) -> None:
    body = gql('mutation { createCube(input: {name: "notes"}) { id } }', key)
    cube = body["data"]["createCube"]["id"]
    body = gql(
        "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { ids } }",
        key,
        input={"cubeId": cube, "content": list(content)},
    )
    assert body.get("errors") is None, body


def test_tokens_arrive_in_order_and_the_exchange_is_stored_once_complete(
    client: TestClient, gql: Gql, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    alice, key = new_user("alice")
    remember(gql, key, "Alice plays the cello")
    messages = stream_chat(client, key, "What instrument do I play?")

    assert [m["type"] for m in messages] == ["next"] * (len(stream_pieces(REPLY)) + 1) + ["complete"]
    assert errors(messages) == []
    *pieces, last = events(messages)
    assert [p["delta"] for p in pieces] == stream_pieces(REPLY) and len(pieces) > 2
    assert all(p["answer"] is None for p in pieces)
    assert "".join(p["delta"] for p in pieces) == REPLY == last["answer"] and last["delta"] == ""
    assert turns(keyed_runtime, alice) == [("user", "What instrument do I play?"), ("assistant", REPLY)]

    (request,) = llm_server.requests
    assert request["stream"] is True
    assert '"Alice plays the cello"' in request["messages"][0]["content"]  # the same retrieval and prompt as chat

    # The stored exchange is the next prompt's history, as with chat.
    llm_server.reset("Yes, on Sundays.")
    follow_up = stream_chat(client, key, "Do I still play it?")
    assert events(follow_up)[-1]["answer"] == "Yes, on Sundays."
    assert [(m["role"], m["content"]) for m in llm_server.requests[-1]["messages"][1:]] == [
        ("user", "What instrument do I play?"),
        ("assistant", REPLY),
        ("user", "Do I still play it?"),
    ]
    assert len(turns(keyed_runtime, alice)) == 4


@pytest.mark.parametrize("fail_with", ["error", "drop"])
def test_a_failure_mid_stream_is_an_error_and_stores_nothing(
    client: TestClient,
    new_user: NewUser,
    llm_server: FakeOpenAI,
    keyed_runtime: Runtime,
    fail_with: Literal["error", "drop"],
) -> None:
    """The model fails after two pieces, by an OpenAI error event or by dropping the connection mid-body."""
    user, key = new_user("unlucky")
    # The failure comes 0.1 s after the second piece, which has reached the client by then.
    llm_server.reset(REPLY, fail_after=2, fail_with=fail_with, chunk_delay_s=0.1)
    with connection(client, key) as ws:
        subscribe(ws, "1", STREAM, q="What do I play?")
        messages = until_done(ws, "1")
        assert [e["delta"] for e in events(messages)] == stream_pieces(REPLY)[:2]
        (error,) = errors(messages)
        assert error["extensions"]["code"] == "UNAVAILABLE" and "chat model failed" in error["message"]
        assert messages[-1]["type"] == "complete"
        assert turns(keyed_runtime, user) == []
        assert llm_server.wait_for_streams(1, 5) == ["failed"]

        # The connection is still usable, and a healthy stream stores its exchange (the check above can fail).
        llm_server.reset(REPLY)
        subscribe(ws, "2", STREAM, q="What do I play?")
        assert events(until_done(ws, "2"))[-1]["answer"] == REPLY
    assert turns(keyed_runtime, user) == [("user", "What do I play?"), ("assistant", REPLY)]
    assert [m["role"] for m in llm_server.requests[-1]["messages"]] == ["system", "user"]  # no half exchange


def test_a_client_that_leaves_mid_stream_closes_the_model_stream_and_stores_nothing(
    client: TestClient, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    user, key = new_user("leaver")
    slow = " ".join(f"word{index}" for index in range(30))
    llm_server.reset(slow, chunk_delay_s=0.3)  # 30 pieces: about 9 s if nobody hung up
    with connection(client, key) as ws:
        subscribe(ws, "1", STREAM, q="Tell me a long story")
        first, second = ws.receive_json(), ws.receive_json()
        assert [first["type"], second["type"]] == ["next", "next"]
        assert [first["payload"]["data"]["chatStream"]["delta"], second["payload"]["data"]["chatStream"]["delta"]] == [
            "word0 ",
            "word1 ",
        ]
        left = time.monotonic()
    # The server closed litellm's stream (the fake model saw the hang-up), long before the answer would end.
    assert llm_server.wait_for_streams(1, 6) == ["client-closed"]
    assert time.monotonic() - left < 6
    time.sleep(1.0)  # anything the cancelled subscription would still write lands by now
    assert turns(keyed_runtime, user) == []
    assert count_nodes(keyed_runtime, "ChatTurn", user_id=user) == 0

    llm_server.reset(REPLY)
    assert events(stream_chat(client, key, "Still there?"))[-1]["answer"] == REPLY
    assert [m["role"] for m in llm_server.requests[-1]["messages"]] == ["system", "user"]
    assert len(turns(keyed_runtime, user)) == 2


def test_a_stalled_model_fails_after_the_idle_timeout(
    client: TestClient, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    user, key = new_user("stalled")
    llm_server.reset("one two three", chunk_delay_s=IDLE_S + 1.5)
    began = time.monotonic()
    messages = stream_chat(client, key, "Hello?")
    took = time.monotonic() - began
    (error,) = errors(messages)
    assert error["extensions"]["code"] == "UNAVAILABLE" and "llm.stream_idle_timeout_s" in error["message"]
    assert events(messages) == [] and messages[-1]["type"] == "complete"
    assert IDLE_S <= took < IDLE_S + 1.5, took
    assert turns(keyed_runtime, user) == []
    assert llm_server.wait_for_streams(1, 10) == ["client-closed"]


def test_the_stream_outlives_the_call_deadline_but_not_the_llm_timeout(
    keyed_runtime: Runtime, gql: Gql, new_user: NewUser, llm_server: FakeOpenAI
) -> None:
    """A 1.5 s call deadline bounds retrieval and the write, not the stream: a 3 s answer completes; with
    llm.timeout_s 2 s the same answer is cut off and nothing is stored."""
    user, key = new_user("patient")
    slow = "one two three four five six"  # six pieces, 0.5 s apart
    with serve(keyed_runtime, llm_for(llm_server), call_deadline_s=1.5) as patient:
        llm_server.reset(slow, chunk_delay_s=0.5)
        messages = stream_chat(patient, key, "Count to six")
        assert errors(messages) == [] and events(messages)[-1]["answer"] == slow
    assert turns(keyed_runtime, user) == [("user", "Count to six"), ("assistant", slow)]

    with serve(keyed_runtime, llm_for(llm_server, timeout_s=2.0, stream_idle_timeout_s=1.0)) as hasty:
        llm_server.reset(slow, chunk_delay_s=0.5)
        began = time.monotonic()
        messages = stream_chat(hasty, key, "Count to six again")
        assert time.monotonic() - began < 5.0  # the answer alone would take 3 s; the error says which bound
    (error,) = errors(messages)
    assert error["extensions"]["code"] == "UNAVAILABLE" and "llm.timeout_s" in error["message"]
    assert 0 < len(events(messages)) < 6
    assert len(turns(keyed_runtime, user)) == 2


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer mgk_not-a-key-anybody-has"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
    ids=["no-key", "wrong-key", "not-bearer", "empty-bearer"],
)
def test_a_connection_without_a_valid_key_is_refused(
    client: TestClient, llm_server: FakeOpenAI, payload: dict[str, str]
) -> None:
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": payload})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403
    assert llm_server.requests == []


def test_subscribing_before_connection_init_and_the_legacy_protocol_are_refused(
    client: TestClient, new_user: NewUser, llm_server: FakeOpenAI
) -> None:
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        subscribe(ws, "1", STREAM, q="Who am I?")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401
    with (
        client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as legacy,
        pytest.raises(WebSocketDisconnect) as refused,
    ):
        legacy.receive_json()
    assert refused.value.code == 4406
    assert llm_server.requests == []


def test_a_key_revoked_while_connected_refuses_the_next_subscription(
    client: TestClient, gql: Gql, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    user, key = new_user("rotator")
    with connection(client, key) as ws:
        subscribe(ws, "1", STREAM, q="First question")
        assert events(until_done(ws, "1"))[-1]["answer"] == REPLY
        body = gql("mutation { rotateApiKey }", key)
        assert body.get("errors") is None, body
        subscribe(ws, "2", STREAM, q="Second question")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403
    assert len(llm_server.requests) == 1 and len(turns(keyed_runtime, user)) == 2


def test_streams_run_as_the_connection_caller_and_leave_other_histories_alone(
    client: TestClient, gql: Gql, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    alice, alice_key = new_user("alice")
    bob, bob_key = new_user("bob")
    remember(gql, bob_key, "Bob's locker code is 4711")
    llm_server.reset("Your code is 4711.")
    assert events(stream_chat(client, bob_key, "What is my locker code?", "lockers"))[-1]["answer"]
    bobs = turns(keyed_runtime, bob)
    assert bobs == [("user", "What is my locker code?"), ("assistant", "Your code is 4711.")]

    # Alice streams in a session of the same name, completes one exchange and fails another.
    llm_server.reset(REPLY)
    assert events(stream_chat(client, alice_key, "What is Bob's locker code?", "lockers"))[-1]["answer"] == REPLY
    prompt = llm_server.requests[-1]["messages"]
    assert all("4711" not in m["content"] for m in prompt)  # neither Bob's memory nor his history
    assert [m["role"] for m in prompt] == ["system", "user"]
    llm_server.reset(REPLY, fail_after=1)
    assert errors(stream_chat(client, alice_key, "And now?", "lockers"))
    assert turns(keyed_runtime, alice) == [("user", "What is Bob's locker code?"), ("assistant", REPLY)]
    assert turns(keyed_runtime, bob) == bobs

    # A mutation over the socket is refused (queries and mutations go over HTTP): Bob's history stays.
    with connection(client, bob_key) as ws:
        subscribe(ws, "1", "mutation { clearMessages }")
        (refused,) = errors(until_done(ws, "1"))
        assert refused["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert turns(keyed_runtime, bob) == bobs


def test_bad_input_is_refused_before_the_model_is_called(
    client: TestClient, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    user, key = new_user("blank")
    (error,) = errors(stream_chat(client, key, "   "))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert llm_server.requests == [] and turns(keyed_runtime, user) == []


def test_uvicorn_serves_the_subscription_to_same_origin_clients_only(
    keyed_runtime: Runtime, new_user: NewUser, llm_server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    """The production path: uvicorn with its WebSocket library on a real port. A page on an origin CORS does
    not allow (none by default) cannot even open the socket."""
    user, key = new_user("socket")
    config = keyed_runtime.config.model_copy(update={"llm": llm_for(llm_server)})
    app = create_app(runtime=replace(keyed_runtime, config=config))

    async def converse(url: str) -> list[Message]:
        async with connect(url, subprotocols=[Subprotocol(PROTOCOL)]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
            assert json.loads(await ws.recv()) == {"type": "connection_ack"}
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STREAM, "variables": {"q": "Hi?"}}})
            )
            received: list[Message] = []
            while not received or received[-1]["type"] != "complete":
                received.append(json.loads(await ws.recv()))
            return received

    async def from_elsewhere(url: str) -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, subprotocols=[Subprotocol(PROTOCOL)], origin=Origin("http://elsewhere.example")):
                pass
        return refused.value.response.status_code

    with caplog.at_level(logging.INFO), serve_app(app) as origin:
        url = "ws://" + origin.removeprefix("http://") + "/graphql"
        messages = asyncio.run(converse(url))
        assert "".join(e["delta"] for e in events(messages)) == REPLY == events(messages)[-1]["answer"]
        assert asyncio.run(from_elsewhere(url)) == 403
    assert turns(keyed_runtime, user) == [("user", "Hi?"), ("assistant", REPLY)]
    refusals = [r.getMessage() for r in caplog.records if r.name == "strawberry.ws"]
    assert refusals and all("MEMOS_CORS_ORIGINS" in m and "allowed_origins" not in m for m in refusals), refusals
    assert "elsewhere.example" in refusals[0]
    # litellm's own INFO lines about each call stay out of the log
    assert not [r for r in caplog.records if r.name.startswith("LiteLLM") and r.levelno < logging.WARNING]


def test_a_subscription_sent_over_http_is_told_where_to_go(
    client: TestClient, new_user: NewUser, llm_server: FakeOpenAI, keyed_runtime: Runtime
) -> None:
    """GraphiQL POSTs an anonymous subscription; other clients may too. Neither is an internal error."""
    user, key = new_user("poster")
    llm_server.reset(REPLY)
    headers = {"Authorization": f"Bearer {key}"}
    anonymous = 'subscription { chatStream(query: "Hi?") { delta } }'
    for body in ({"query": STREAM, "variables": {"q": "Hi?"}}, {"query": anonymous}):
        answer = client.post("/graphql", json=body, headers=headers)
        assert answer.status_code == 405, answer.text
        (error,) = answer.json()["errors"]
        assert error["extensions"]["code"] == "METHOD_NOT_ALLOWED"
        assert "WebSocket" in error["message"] and "graphql-transport-ws" in error["message"]
    by_get = client.get("/graphql", params={"query": anonymous}, headers=headers)
    assert by_get.status_code == 405 and "WebSocket" in by_get.json()["errors"][0]["message"]
    # a query that merely mentions the word still runs
    fine = client.post(
        "/graphql", json={"query": '{ search(query: "subscription") { textMem { cubeId } } }'}, headers=headers
    )
    assert fine.status_code == 200 and "errors" not in fine.json(), fine.text
    assert llm_server.requests == [] and turns(keyed_runtime, user) == []


def test_the_chat_model_client_warms_up_at_start_without_asking_the_model(
    keyed_runtime: Runtime, llm_server: FakeOpenAI
) -> None:
    """Start-up warms litellm up on a thread (its imports, then a mock_response call litellm answers itself), so
    the first chatStream does not wait for it; the model hears nothing. No model configured: no warm-up."""
    config = keyed_runtime.config.model_copy(update={"llm": llm_for(llm_server)})
    app = create_app(runtime=replace(keyed_runtime, config=config))
    with TestClient(app):
        warm_up = starlette_of(app).state.chat_warm_up
        assert isinstance(warm_up, WarmUp)
        assert warm_up.done.wait(600), "the warm-up never ended"
        assert warm_up.error is None
        assert warm_up.steps == ["litellm", *FIRST_CALL_MODULES, "mock completion"]
        assert all(module in sys.modules for module in FIRST_CALL_MODULES)
    assert llm_server.requests == []
    without_model = create_app(runtime=keyed_runtime)
    with TestClient(without_model):
        assert keyed_runtime.config.llm is None and starlette_of(without_model).state.chat_warm_up is None


def starlette_of(app: object) -> Starlette:
    """The Starlette app inside create_app's request-id middleware (traces are off in the tests)."""
    assert isinstance(app, RequestIds) and isinstance(app.app, Starlette)
    return app.app

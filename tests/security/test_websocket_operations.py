"""The WebSocket runs exactly one subscription per subscribe (security probe 2026-12, L6), over a real
graphql-transport-ws connection to the real app on the real Neo4j.

The guard asked which operation a subscribe names; for a document of several operations and no
operationName it found none and let Strawberry run the first, so a mutation (createCube) ran over the
socket. An operationName that was not a string gave INTERNAL_SERVER_ERROR. Now such subscribes are refused
with an `error` message, nothing runs, and the connection stays open for a proper subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from testkit.security import Caller, SecurityEnv
from tests.graphql.test_chat_stream import until_done

pytestmark = pytest.mark.neo4j

PROTOCOL = "graphql-transport-ws"
Message = dict[str, Any]


@pytest.fixture(scope="module")
def client(security_env: SecurityEnv) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=security_env.runtime)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def carol(security_env: SecurityEnv) -> Caller:
    return security_env.caller("ws")


def mixed(cube_id: str) -> str:
    return (
        f'mutation B {{ createCube(input: {{name: "viaws", id: "{cube_id}"}}) {{ cubeId }} }} '
        'subscription A { chatStream(query: "x") { delta } } '
        "query Q { me { user { userId } } }"
    )


@pytest.mark.parametrize(
    ("operation_name", "code"),
    [
        (None, "BAD_USER_INPUT"),  # the probe's: several operations, none named
        ("B", "METHOD_NOT_ALLOWED"),
        ("Q", "METHOD_NOT_ALLOWED"),
        (["B"], "BAD_USER_INPUT"),  # was INTERNAL_SERVER_ERROR
        (42, "BAD_USER_INPUT"),
        ("Nope", "BAD_USER_INPUT"),
    ],
)
def test_only_one_named_subscription_runs(
    client: TestClient, security_env: SecurityEnv, carol: Caller, operation_name: object, code: str
) -> None:
    cube_id = f"{carol.user_id}-{uuid.uuid4().hex[:6]}"
    with client.websocket_connect("/graphql", subprotocols=[PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {carol.key}"}})
        assert ws.receive_json() == {"type": "connection_ack"}
        payload: dict[str, Any] = {"query": mixed(cube_id)}
        if operation_name is not None:
            payload["operationName"] = operation_name
        ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
        [refusal] = until_done(ws, "1")
        assert refusal["type"] == "error", refusal
        assert [error["extensions"]["code"] for error in refusal["payload"]] == [code], refusal
        # The connection stays open, and the document's subscription runs when named.
        security_env.llm.reset("fine")
        ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": mixed(cube_id), "operationName": "A"}})
        messages = until_done(ws, "2")
        assert messages[-1]["type"] == "complete", messages
        assert any(m["type"] == "next" and m["payload"].get("data") for m in messages), messages
    assert security_env.count("MATCH (c:MemCube {id: $id}) RETURN count(c) AS n", id=cube_id) == 0

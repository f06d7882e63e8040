"""addMemories with messages and documents, chat and clearMessages, over HTTP."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.config import DocumentSettings, LLMSettings
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import codes

pytestmark = pytest.mark.neo4j

ADD = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { cubeId ids } }"
GET = """query($c: ID!, $id: ID!) { memory(cubeId: $c, id: $id) {
  memory metadata { source sources { type role messageId chatTime docPath } } } }"""


def post(client: TestClient, key: str, query: str, **variables: object) -> Any:
    """The JSON body of a GraphQL POST (asserting HTTP 200)."""
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_messages_documents_and_chat_over_http(keyed_runtime: Runtime, llm_server: FakeOpenAI, tmp_path: Path) -> None:
    traveller = f"traveller-{uuid.uuid4().hex[:8]}"
    (tmp_path / traveller).mkdir()  # the user's own area of the document root
    (tmp_path / traveller / "notes.md").write_text("# Trip\n\nThe train to Kyoto leaves at 9:05 from platform 4.\n")
    config = keyed_runtime.config.model_copy(
        update={
            "llm": LLMSettings(model="openai/chat", api_base=llm_server.url, api_key="sk-test", num_retries=0),
            "documents": DocumentSettings(roots=(str(tmp_path),)),
        }
    )
    llm_server.reset("Your train leaves at 9:05.")
    with TestClient(create_app(runtime=replace(keyed_runtime, config=config))) as client:
        created = post(
            client,
            ROOT_KEY,
            "mutation($id: ID!) { createUser(input: {id: $id}) { apiKey } }",
            id=traveller,
        )
        key = created["data"]["createUser"]["apiKey"]
        cube = post(client, key, 'mutation { createCube(input: {name: "trip"}) { cubeId } }')["data"]["createCube"][
            "cubeId"
        ]  # noqa: E501
        messages = [
            {
                "role": "user",
                "content": "I booked the Kyoto train.",
                "chatTime": "2 May 2024",
                "messageId": "m-1",
                "name": "Ana",
            }
        ]
        added = post(client, key, ADD, input={"cubeId": cube, "messages": messages})
        (memory_id,) = added["data"]["addMemories"]["ids"]
        item = post(client, key, GET, c=cube, id=memory_id)["data"]["memory"]
        assert item["memory"] == "[2 May 2024] Ana: I booked the Kyoto train."
        assert item["metadata"]["sources"] == [
            {"type": "chat", "role": "user", "messageId": "m-1", "chatTime": "2 May 2024", "docPath": None}
        ]
        doc = post(client, key, ADD, input={"cubeId": cube, "docPath": "notes.md"})
        (chunk_id,) = doc["data"]["addMemories"]["ids"]
        chunk = post(client, key, GET, c=cube, id=chunk_id)["data"]["memory"]
        assert chunk["metadata"]["sources"][0]["docPath"] == "notes.md"  # as given: no server path
        outside = post(client, key, ADD, input={"cubeId": cube, "docPath": "../../etc/passwd"})
        assert codes(outside) == ["FORBIDDEN"]
        answer = post(client, key, 'mutation { chat(query: "When does my train leave?") }')
        assert answer["data"] == {"chat": "Your train leaves at 9:05."}
        prompt = llm_server.requests[-1]["messages"][0]["content"]
        assert "9:05" in prompt and "Kyoto" in prompt
        assert post(client, key, "mutation { clearMessages }")["data"] == {"clearMessages": True}

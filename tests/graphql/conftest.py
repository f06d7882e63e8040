"""The real ASGI app over the session's runtime, driven through Starlette's TestClient (httpx)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.services.runtime import Runtime

ROOT_KEY = "mgk_test-root-key-for-the-graphql-suite"


@pytest.fixture(scope="session")
def keyed_runtime(runtime: Runtime) -> Runtime:
    """The session's runtime (Neo4j driver, embedder) with a configured root API key."""
    return replace(runtime, config=runtime.config.model_copy(update={"root_api_key": SecretStr(ROOT_KEY)}))


@pytest.fixture(scope="module")
def client(keyed_runtime: Runtime) -> Iterator[TestClient]:
    """The real ASGI app, its lifespan run by the TestClient."""
    with TestClient(create_app(runtime=keyed_runtime)) as test_client:
        yield test_client


Gql = Callable[..., dict[str, Any]]


@pytest.fixture
def gql(client: TestClient) -> Gql:
    """POST a GraphQL operation with a key; returns the JSON body (asserting HTTP 200)."""

    def call(query: str, key: str = ROOT_KEY, **variables: Any) -> dict[str, Any]:
        response = client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return call


def codes(body: dict[str, Any]) -> list[str]:
    """The extensions.code of every error in a response."""
    return [error.get("extensions", {}).get("code") for error in body.get("errors") or []]


@pytest.fixture
def new_user(gql: Gql, uid: Callable[[str], str]) -> Callable[..., tuple[str, str]]:
    """Create a user through the API (as root); returns (id, api key)."""

    def make(name: str, role: str = "USER") -> tuple[str, str]:
        body = gql(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id role } apiKey } }",
            input={"id": uid(name), "name": name.title(), "role": role},
        )
        assert body.get("errors") is None, body
        payload = body["data"]["createUser"]
        assert payload["user"]["role"] == role
        return payload["user"]["id"], payload["apiKey"]

    return make

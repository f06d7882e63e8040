"""The real ASGI app over the session's runtime, driven through Starlette's TestClient (httpx)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.services.runtime import Runtime
from testkit.keys import ROOT_KEY
from testkit.servers import serve_app
from tests.browser import Browser, launch_chromium

__all__ = ["ROOT_KEY"]  # tests import it from here too


@pytest.fixture(scope="module")
def client(keyed_runtime: Runtime) -> Iterator[TestClient]:
    """The real ASGI app, its lifespan run by the TestClient."""
    with TestClient(create_app(runtime=keyed_runtime)) as test_client:
        yield test_client


Gql = Callable[..., dict[str, Any]]


@pytest.fixture
def gql(client: TestClient) -> Gql:
    """POST a GraphQL operation with a key; returns the JSON body (asserting HTTP 200)."""
    return caller_of(client)


def caller_of(client: TestClient) -> Gql:
    """A function POSTing GraphQL operations to this client's app (root key by default); asserts HTTP 200."""

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
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { userId role } apiKey } }",
            input={"id": uid(name), "name": name.title(), "role": role},
        )
        assert body.get("errors") is None, body
        payload = body["data"]["createUser"]
        assert payload["user"]["role"] == role
        return payload["user"]["userId"], payload["apiKey"]

    return make


def ok(body: dict[str, Any]) -> dict[str, Any]:
    """The data of a response that must have no errors."""
    assert body.get("errors") is None, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.fixture(scope="module")
def server(keyed_runtime: Runtime) -> Iterator[str]:
    """The app served by uvicorn on a loopback port (the browser tests)."""
    with serve_app(create_app(runtime=keyed_runtime)) as origin:
        yield origin


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Headless Chromium with a fresh profile (tests/browser.py)."""
    with launch_chromium(tmp_path / "profile") as running:
        yield running

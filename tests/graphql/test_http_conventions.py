"""Browsers on other origins (CORS, configured origins only) and GET semantics (GraphQL over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.config import HTTPSettings, MOSConfig
from memos_graph.services.runtime import Runtime
from tests.conftest import ROOT_KEY

pytestmark = pytest.mark.neo4j

ALLOWED = "https://notes.example.com"
OTHER = "https://evil.example.net"
WHOAMI = "{ me { user { userId role } } }"


def preflight(client: TestClient, origin: str) -> object:
    return client.options("/graphql", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })


@pytest.fixture
def cors_client(keyed_runtime: Runtime) -> Iterator[TestClient]:
    config = keyed_runtime.config.model_copy(update={"http": HTTPSettings(cors_origins=(ALLOWED,))})
    runtime = replace(keyed_runtime, config=config)
    with TestClient(create_app(runtime=runtime)) as client:
        yield client


def test_by_default_no_other_origin_may_call(client: TestClient) -> None:
    answer = preflight(client, ALLOWED)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "access-control-allow-origin" not in answer.headers  # type: ignore[attr-defined]
    posted = client.post("/graphql", json={"query": WHOAMI}, headers={"Origin": ALLOWED,
                                                                       "Authorization": f"Bearer {ROOT_KEY}"})
    assert posted.status_code == 200 and posted.json()["data"]["me"]["user"]["role"] == "ROOT"
    assert "access-control-allow-origin" not in posted.headers  # the page cannot read it


def test_a_configured_origin_gets_its_preflight_and_reads_answers(cors_client: TestClient) -> None:
    answer = preflight(cors_client, ALLOWED)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in headers["access-control-allow-methods"]
    assert "authorization" in headers["access-control-allow-headers"].lower()
    assert headers["access-control-max-age"] == "600"
    posted = cors_client.post("/graphql", json={"query": WHOAMI},
                              headers={"Origin": ALLOWED, "Authorization": f"Bearer {ROOT_KEY}"})
    assert posted.json()["data"]["me"]["user"]["role"] == "ROOT"
    assert posted.headers["access-control-allow-origin"] == ALLOWED
    refused = cors_client.post("/graphql", json={"query": WHOAMI}, headers={"Origin": ALLOWED})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == ALLOWED
    # Any other origin: preflight refused, answers without the allow header.
    assert preflight(cors_client, OTHER).status_code == 400  # type: ignore[attr-defined]
    other = cors_client.post("/graphql", json={"query": WHOAMI},
                             headers={"Origin": OTHER, "Authorization": f"Bearer {ROOT_KEY}"})
    assert "access-control-allow-origin" not in other.headers


def test_get_runs_queries_and_refuses_mutations(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {ROOT_KEY}"}
    got = client.get("/graphql", params={"query": WHOAMI}, headers=auth)
    assert got.status_code == 200 and got.json()["data"]["me"]["user"]["role"] == "ROOT"
    mutation = 'mutation { createCube(input: {name: "via get"}) { cubeId } }'
    refused = client.get("/graphql", params={"query": mutation}, headers=auth)
    assert refused.status_code == 405
    cubes = client.post("/graphql", json={"query": "{ cubes { name } }"}, headers=auth).json()["data"]["cubes"]
    assert "via get" not in [cube["name"] for cube in cubes]


@pytest.mark.parametrize("origin", ["*", "https://notes.example.com/app", "notes.example.com", "ftp://x.example"])
def test_bad_cors_origins_are_refused_at_start(origin: str) -> None:
    with pytest.raises(ValidationError):
        HTTPSettings(cors_origins=(origin,))


def test_cors_origins_from_the_environment() -> None:
    config = MOSConfig.load(environ={"MEMOS_CORS_ORIGINS": f"{ALLOWED}, http://localhost:5173"})
    assert config.http.cors_origins == (ALLOWED, "http://localhost:5173")

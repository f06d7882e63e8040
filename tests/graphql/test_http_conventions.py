"""Browsers on other origins (CORS, configured origins only), GET semantics and the response media type
(GraphQL over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx2
import pytest
from pydantic import ValidationError
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from graphql_schema.media import response_media_type
from memos_graph.config import HTTPSettings, MOSConfig
from memos_graph.services.runtime import Runtime
from testkit.keys import ROOT_KEY

pytestmark = pytest.mark.neo4j

ALLOWED = "https://notes.example.com"
OTHER = "https://evil.example.net"
WHOAMI = "{ me { user { userId role } } }"


def preflight(client: TestClient, origin: str) -> object:
    return client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


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
    posted = client.post(
        "/graphql", json={"query": WHOAMI}, headers={"Origin": ALLOWED, "Authorization": f"Bearer {ROOT_KEY}"}
    )
    assert posted.status_code == 200 and posted.json()["data"]["me"]["user"]["role"] == "ROOT"
    assert "access-control-allow-origin" not in posted.headers  # the page cannot read it


def test_a_configured_origin_gets_its_preflight_and_reads_answers(cors_client: TestClient) -> None:
    answer = preflight(cors_client, ALLOWED)
    assert answer.status_code == 200  # type: ignore[attr-defined]
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in headers["access-control-allow-methods"]
    assert "authorization" in headers["access-control-allow-headers"].lower()
    assert "x-request-id" in headers["access-control-allow-headers"].lower()
    assert headers["access-control-max-age"] == "600"
    posted = cors_client.post(
        "/graphql", json={"query": WHOAMI}, headers={"Origin": ALLOWED, "Authorization": f"Bearer {ROOT_KEY}"}
    )
    assert posted.json()["data"]["me"]["user"]["role"] == "ROOT"
    assert posted.headers["access-control-allow-origin"] == ALLOWED
    # the page may read the answer's request id (a header a browser hides unless exposed)
    assert "x-request-id" in posted.headers["access-control-expose-headers"].lower()
    assert posted.headers["x-request-id"]
    refused = cors_client.post("/graphql", json={"query": WHOAMI}, headers={"Origin": ALLOWED})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == ALLOWED
    # Any other origin: preflight refused, answers without the allow header.
    assert preflight(cors_client, OTHER).status_code == 400  # type: ignore[attr-defined]
    other = cors_client.post(
        "/graphql", json={"query": WHOAMI}, headers={"Origin": OTHER, "Authorization": f"Bearer {ROOT_KEY}"}
    )
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


GRAPHQL_JSON = "application/graphql-response+json"
PREFERS_GRAPHQL_JSON = f"{GRAPHQL_JSON}, application/json;q=0.9"  # what the spec tells clients to send


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),  # fetch's default: today's answers
        ("application/json", "application/json"),
        (GRAPHQL_JSON, GRAPHQL_JSON),
        (PREFERS_GRAPHQL_JSON, GRAPHQL_JSON),
        (f"{GRAPHQL_JSON}, application/json", GRAPHQL_JSON),  # equal q: the first listed
        (f"application/json, {GRAPHQL_JSON}", "application/json"),
        (f"application/json;q=0.5, {GRAPHQL_JSON}", GRAPHQL_JSON),  # q-values before order
        (f"{GRAPHQL_JSON};q=0.5, application/json", "application/json"),
        (f"{GRAPHQL_JSON};q=0.5, */*", "application/json"),
        (f"{GRAPHQL_JSON};q=0.5, application/json;q=0.1, */*", GRAPHQL_JSON),  # the most specific range counts
        (f"{GRAPHQL_JSON};q=0", "application/json"),  # q=0: not acceptable
        (f"{GRAPHQL_JSON};q=oops, application/json", "application/json"),
        (f"text/html, {GRAPHQL_JSON.upper()}", GRAPHQL_JSON),  # media types are case-insensitive
    ],
)
def test_the_accept_header_picks_the_media_type(accept: str | None, expected: str) -> None:
    assert response_media_type(accept) == expected


def post(client: TestClient, query: str, accept: str | None, key: str | None = ROOT_KEY) -> httpx2.Response:
    headers = {} if accept is None else {"Accept": accept}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return client.post("/graphql", json={"query": query}, headers=headers)


def test_graphql_response_json_answers_a_query_with_200(client: TestClient) -> None:
    answer = post(client, WHOAMI, PREFERS_GRAPHQL_JSON)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{GRAPHQL_JSON}; charset=utf-8"
    assert answer.json() == {"data": {"me": {"user": {"userId": "root", "role": "ROOT"}}}}


@pytest.mark.parametrize(
    "query",
    [
        "{ me { user { id }",  # does not parse
        "{ me { nope } }",  # does not validate
        "query($id: ID!) { cube(id: $id) { name } }",  # a required variable is missing
    ],
)
def test_graphql_response_json_answers_a_request_error_with_400_and_no_data(client: TestClient, query: str) -> None:
    answer = post(client, query, GRAPHQL_JSON)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == f"{GRAPHQL_JSON}; charset=utf-8"
    body = answer.json()
    assert "data" not in body and body["errors"], body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    # The same request as application/json (or with no Accept): 200 with data null, as before.
    for accept in ("application/json", None):
        legacy = post(client, query, accept)
        assert legacy.status_code == 200
        assert legacy.headers["content-type"] == "application/json"
        assert legacy.json()["data"] is None and legacy.json()["errors"]


def test_graphql_response_json_keeps_200_for_field_errors(client: TestClient) -> None:
    # The cube does not exist (FORBIDDEN, as for a cube one may not read): a field error, and since cube is
    # non-null, data itself becomes null. The operation executed, so the response has data (null): 200.
    answer = post(client, '{ me { user { id } } cube(id: "no-such-cube") { name } }', GRAPHQL_JSON)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == f"{GRAPHQL_JSON}; charset=utf-8"
    body = answer.json()
    assert "data" in body and body["data"] is None
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [(["cube"], "FORBIDDEN")]


def test_graphql_response_json_for_refusals_before_graphql(client: TestClient) -> None:
    refused = post(client, WHOAMI, GRAPHQL_JSON, key=None)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == f"{GRAPHQL_JSON}; charset=utf-8"
    body = refused.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    got = client.get(
        "/graphql",
        params={"query": 'mutation { createCube(input: {name: "x"}) { id } }'},
        headers={"Accept": GRAPHQL_JSON, "Authorization": f"Bearer {ROOT_KEY}"},
    )
    assert got.status_code == 405 and got.headers["content-type"].startswith(GRAPHQL_JSON)
    legacy = post(client, WHOAMI, "application/json", key=None)
    assert legacy.status_code == 401 and legacy.headers["content-type"] == "application/json"
    assert legacy.json()["data"] is None


def test_graphql_response_json_over_get(client: TestClient) -> None:
    headers = {"Accept": GRAPHQL_JSON, "Authorization": f"Bearer {ROOT_KEY}"}
    got = client.get("/graphql", params={"query": WHOAMI}, headers=headers)
    assert got.status_code == 200 and got.headers["content-type"] == f"{GRAPHQL_JSON}; charset=utf-8"
    assert got.json()["data"]["me"]["user"]["role"] == "ROOT"
    bad = client.get("/graphql", params={"query": "{ me { nope } }"}, headers=headers)
    assert bad.status_code == 400 and "data" not in bad.json()

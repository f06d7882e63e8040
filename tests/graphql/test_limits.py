"""Issue 11's limits over HTTP through the real ASGI app on the real Neo4j: request cost, cubes per search and
per user, pre-auth JSON that used to crash the app, framing headers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from graphql_schema.request_checks import MAX_JSON_DEPTH
from memos_graph.config import LimitSettings
from memos_graph.services.runtime import Runtime
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import Gql, caller_of, codes

pytestmark = pytest.mark.neo4j

NewUser = Callable[..., tuple[str, str]]
CREATE_CUBE = "mutation($input: CreateCubeInput!) { createCube(input: $input) { cubeId } }"
ADD = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { ids } }"
SEARCH_FIELDS = "textMem { cubeId memories { memoryId } }"


def aliased(count: int, arguments: str) -> str:
    return " ".join(f'a{n}: search(query: "q{n}", {arguments}) {{ {SEARCH_FIELDS} }}' for n in range(count))


# -- point 10: JSON that crashed the app before authentication, and framing ------------------------------------


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_400_before_authentication(client: TestClient, depth: int) -> None:
    body = '{"query": "{ me { user { userId } } }", "variables": {"x": ' + nested(depth) + "}}"
    for headers in ({}, {"Authorization": f"Bearer {ROOT_KEY}"}):
        response = client.post("/graphql", content=body, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 400, response.text[:300]
        assert codes(response.json()) == ["BAD_REQUEST"]
        assert "nests deeper" in response.json()["errors"][0]["message"]
    # The whole body may be the nesting, and GET carries variables in the query string.
    response = client.post("/graphql", content=nested(depth), headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]
    response = client.get(
        "/graphql", params={"query": "{ me { user { userId } } }", "variables": nested(min(depth, 5_000))}
    )
    assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]


def test_nesting_within_the_bound_still_works(gql: Gql) -> None:
    body = gql("{ me { user { userId } } }", x=json.loads(nested(MAX_JSON_DEPTH - 2)))
    assert body.get("errors") is None, body


def test_integer_too_long_for_python_is_400(client: TestClient) -> None:
    body = '{"query": "{ me { user { userId } } }", "variables": {"x": ' + "9" * 5_000 + "}}"
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and codes(response.json()) == ["BAD_REQUEST"]


def test_no_page_may_be_framed(client: TestClient) -> None:
    me = {"query": "{ me { user { userId } } }"}
    responses = [
        client.get("/graphql", headers={"Accept": "text/html"}),  # GraphiQL
        client.post("/graphql", json=me, headers={"Authorization": f"Bearer {ROOT_KEY}"}),
        client.post("/graphql", json=me),  # 401
        client.get("/healthz"),
    ]
    assert "graphiql" in responses[0].text.lower()
    for response in responses:
        assert response.headers["x-frame-options"] == "DENY", response.headers
        policy = response.headers["content-security-policy"]  # GraphiQL's has more (test_graphiql_browser.py)
        assert "frame-ancestors 'none'" in policy.split("; "), response.headers


# -- point 3: what one request and one user may cost ----------------------------------------------------------


def test_request_cost_is_refused_before_any_work(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("costly")
    ghost = [f"ghost-{n}" for n in range(20)]  # if any field ran, each would answer FORBIDDEN
    # 20 aliases x 20 cubes x topK 10 = 4,000 > 2,000: refused as a whole, one coded error, no data.
    body = gql(f"query($c: [ID!]) {{ {aliased(20, 'cubeIds: $c, topK: 10')} }}", key, c=ghost)
    assert body["data"] is None, body
    assert codes(body) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]
    assert error["extensions"]["reason"] == "COST_LIMIT" and error["extensions"]["cost"] == 4_000
    assert error["extensions"]["limit"] == LimitSettings().max_request_cost
    assert "limit is 2000" in error["message"]
    # Literal lists and topK count the same, through fragments too; without cubeIds a search counts 20 cubes.
    literal = "cubeIds: [" + ", ".join(f'"{c}"' for c in ghost) + "], topK: 10"
    body = gql(f"query {{ ...F }} fragment F on Query {{ {aliased(20, literal)} }}", key)
    assert body["data"] is None and body["errors"][0]["extensions"]["cost"] == 4_000, body
    body = gql(f"query {{ {aliased(3, 'topK: 50')} }}", key)
    assert body["data"] is None and body["errors"][0]["extensions"]["cost"] == 3 * 20 * 50, body
    # Within the budget the fields run (and here answer FORBIDDEN, the cubes being nobody's).
    body = gql(f"query($c: [ID!]) {{ {aliased(2, 'cubeIds: $c, topK: 5')} }}", key, c=ghost[:3])
    assert codes(body) and set(codes(body)) == {"FORBIDDEN"}, body


def test_cubes_per_search_are_capped(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("wide")
    cube = gql(CREATE_CUBE, key, input={"name": "mine"})["data"]["createCube"]["cubeId"]
    assert gql(ADD, key, input={"cubeId": cube, "content": ["a fact"]}).get("errors") is None
    limit = LimitSettings().max_cubes_per_search
    body = gql(f"query($c: [ID!]) {{ {aliased(1, 'cubeIds: $c, topK: 1')} }}", key, c=[cube] * 3)
    assert body.get("errors") is None, body  # repeated ids count once
    body = gql(
        f"query($c: [ID!]) {{ {aliased(1, 'cubeIds: $c, topK: 1')} }}",
        key,
        c=[cube] + [f"other-{n}" for n in range(limit)],
    )
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert f"{limit + 1} cubes in one search; the limit is {limit}" in body["errors"][0]["message"]


@pytest.fixture(scope="module")
def capped_client(keyed_runtime: Runtime) -> Iterator[TestClient]:
    """The app with a user allowed three cubes."""
    limits = LimitSettings(max_cubes_per_user=3)
    capped = replace(keyed_runtime, config=keyed_runtime.config.model_copy(update={"limits": limits}))
    with TestClient(create_app(runtime=capped)) as test_client:
        yield test_client


def test_cubes_per_user_are_capped(capped_client: TestClient, uid: Callable[[str], str]) -> None:
    call = caller_of(capped_client)

    created = call(
        "mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey } }", ROOT_KEY, i={"id": uid("hoarder")}
    )
    key = created["data"]["createUser"]["apiKey"]
    for n in range(3):
        assert call(CREATE_CUBE, key, input={"name": f"c{n}"}).get("errors") is None
    body = call(CREATE_CUBE, key, input={"name": "one too many"})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "owns 3 cubes" in body["errors"][0]["message"]
    # ROOT creating one for the user is capped too (the cap is on the owner); ROOT's own cubes are not.
    body = call(CREATE_CUBE, ROOT_KEY, input={"name": "for the hoarder", "ownerId": uid("hoarder")})
    assert codes(body) == ["BAD_USER_INPUT"], body
    for n in range(4):
        assert call(CREATE_CUBE, ROOT_KEY, input={"name": f"root {n}"}).get("errors") is None


def test_a_traversal_that_fans_out_is_refused_before_any_work(gql: Gql, new_user: NewUser) -> None:
    """Every cube's page of memories, each memory's cube with its page again: about a million nodes by the
    count (well within the depth limit), refused whole; the same walk with small pages runs."""
    _, key = new_user("fanout")
    walk = "{{ cubes {{ memories(first: {n}) {{ edges {{ node {{ cube {{ memories(first: {n}) {{ edges {{ node {{ memory }} }} }} }} }} }} }} }} }}"  # noqa: E501
    body = gql(walk.format(n=100), key)
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"], body
    error = body["errors"][0]["extensions"]
    assert error["reason"] == "NODE_LIMIT" and error["cost"] > error["limit"] == LimitSettings().max_request_nodes
    assert gql(walk.format(n=5), key).get("errors") is None

"""Every MOS operation over HTTP through the real ASGI app and the real Neo4j."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.schema import MAX_ALIASES, MAX_TOKENS, sdl
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import Gql, codes

pytestmark = pytest.mark.neo4j

NewUser = Callable[..., tuple[str, str]]

CREATE_CUBE = "mutation($input: CreateCubeInput!) { createCube(input: $input) { cubeId name isLoaded canWrite owner { userId } } }"  # noqa: E501
ADD = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { cubeId ids } }"
SEARCH = """query($q: String!, $cubes: [ID!], $k: Int) {
  search(query: $q, cubeIds: $cubes, topK: $k) {
    textMem { cubeId memories { memoryId memory metadata { relativity userId } cube { cubeId name } } } actMem paraMem
  }
}"""


def make_cube(gql: Gql, key: str, name: str = "notes") -> str:
    body = gql(CREATE_CUBE, key, input={"name": name})
    assert body.get("errors") is None, body
    cube: str = body["data"]["createCube"]["cubeId"]
    return cube


def add(gql: Gql, key: str, cube: str, *content: str) -> list[str]:
    body = gql(ADD, key, input={"cubeId": cube, "content": list(content)})
    assert body.get("errors") is None, body
    ids: list[str] = body["data"]["addMemories"]["ids"]
    return ids


def test_missing_or_wrong_key_is_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer mgk_wrong"}, {"Authorization": "Basic abc"}):
        response = client.post("/graphql", json={"query": "{ me { user { userId } } }"}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert codes(response.json()) == ["UNAUTHENTICATED"]
        assert response.json()["data"] is None


def test_graphiql_page_and_health(client: TestClient) -> None:
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "neo4j": "up"}


def test_user_lifecycle_and_memory_crud(gql: Gql, new_user: NewUser) -> None:
    alice, key = new_user("alice")
    me = gql("{ me { user { userId name role } accessibleCubes { cubeId } } }", key)
    assert me["data"]["me"]["user"] == {"userId": alice, "name": "Alice", "role": "USER"}
    cube_body = gql(CREATE_CUBE, key, input={"name": "notes", "path": "/x"})
    cube = cube_body["data"]["createCube"]
    assert cube["isLoaded"] and cube["canWrite"] and cube["owner"] == {"userId": alice}
    ids = add(gql, key, cube["cubeId"], "Alice plays the cello", "Alice lives in Lyon", "Alice plays the cello")
    assert len(ids) == 2

    found = gql(SEARCH, key, q="What instrument does Alice play?", cubes=[cube["cubeId"]], k=1)["data"]["search"]
    assert found["actMem"] == [] and found["paraMem"] == []
    (group,) = found["textMem"]
    (hit,) = group["memories"]
    assert hit["memory"] == "Alice plays the cello"
    assert hit["metadata"]["userId"] == alice and hit["metadata"]["relativity"] > 0
    assert hit["cube"] == {"cubeId": cube["cubeId"], "name": "notes"}

    one = gql(
        "query($c: ID!, $id: ID!) { memory(cubeId: $c, id: $id) { memory metadata { version } } }",
        key,
        c=cube["cubeId"],
        id=ids[1],
    )
    assert one["data"]["memory"] == {"memory": "Alice lives in Lyon", "metadata": {"version": 1}}

    updated = gql(
        "mutation($input: UpdateMemoryInput!) { updateMemory(input: $input) "
        "{ memory metadata { version tags extra } } }",
        key,
        input={
            "cubeId": cube["cubeId"],
            "id": ids[1],
            "memory": "Alice lives in Paris",
            "tags": ["home"],
            "extra": {"reason": "moved"},
        },
    )
    assert updated["data"]["updateMemory"] == {
        "memory": "Alice lives in Paris",
        "metadata": {"version": 2, "tags": ["home"], "extra": {"reason": "moved"}},
    }
    history = gql(
        "query($c: ID!, $id: ID!) { memoryHistory(cubeId: $c, id: $id) { edges { node { memory } } } }",
        key,
        c=cube["cubeId"],
        id=ids[1],
    )
    assert history["data"]["memoryHistory"]["edges"] == [{"node": {"memory": "Alice lives in Lyon"}}]

    deleted = gql("mutation($c: ID!, $id: ID!) { deleteMemory(cubeId: $c, id: $id) }", key, c=cube["cubeId"], id=ids[1])
    assert deleted["data"]["deleteMemory"] is True
    gone = gql(
        "query($c: ID!, $id: ID!) { memory(cubeId: $c, id: $id) { memoryId } }", key, c=cube["cubeId"], id=ids[1]
    )  # noqa: E501
    assert codes(gone) == ["NOT_FOUND"]
    cleared = gql("mutation($c: ID) { deleteAllMemories(cubeId: $c) }", key, c=cube["cubeId"])
    assert cleared["data"]["deleteAllMemories"] == 1


def test_memories_pagination(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("pager")
    cube = make_cube(gql, key)
    ids = add(gql, key, cube, *[f"memory number {i}" for i in range(5)])
    page_query = """query($c: ID!, $after: String) { memories(cubeId: $c, first: 2, after: $after) {
        edges { cursor node { memoryId } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    for _ in range(3):
        page = gql(page_query, key, c=cube, after=after)["data"]["memories"]
        seen += [edge["node"]["memoryId"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert seen == ids
    too_big = gql("query($c: ID!) { memories(cubeId: $c, first: 1000) { edges { cursor } } }", key, c=cube)
    assert codes(too_big) == ["BAD_USER_INPUT"]
    bad_cursor = gql('query($c: ID!) { memories(cubeId: $c, after: "zzz") { edges { cursor } } }', key, c=cube)
    assert codes(bad_cursor) == ["BAD_USER_INPUT"]


def test_cross_tenant_access_is_forbidden_and_leaks_nothing(gql: Gql, new_user: NewUser) -> None:
    _, alice_key = new_user("alice")
    _, bob_key = new_user("bob")
    cube = make_cube(gql, alice_key, "alice private")
    (memory_id,) = add(gql, alice_key, cube, "Alice's bank PIN is 4711")
    probes: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
        ("query($c: ID!) { cube(id: $c) { cubeId name } }", lambda c: {"c": c}),
        ("query($c: ID!, $id: ID!) { memory(cubeId: $c, id: $id) { memory } }", lambda c: {"c": c, "id": memory_id}),
        ("query($c: ID!) { memories(cubeId: $c) { edges { node { memory } } } }", lambda c: {"c": c}),
        (
            "query($c: ID!, $id: ID!) { memoryHistory(cubeId: $c, id: $id) { edges { node { memory } } } }",
            lambda c: {"c": c, "id": memory_id},
        ),
        (SEARCH, lambda c: {"q": "PIN", "cubes": [c], "k": 5}),
        (ADD, lambda c: {"input": {"cubeId": c, "content": ["bob was here"]}}),
        ("mutation($c: ID!, $id: ID!) { deleteMemory(cubeId: $c, id: $id) }", lambda c: {"c": c, "id": memory_id}),
        ("mutation($c: ID) { deleteAllMemories(cubeId: $c) }", lambda c: {"c": c}),
        ("mutation($c: ID!) { registerCube(cubeId: $c) { cubeId } }", lambda c: {"c": c}),
        ("mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u) }", lambda c: {"c": c, "u": "root"}),
        (
            "mutation($input: UpdateMemoryInput!) { updateMemory(input: $input) { memoryId } }",
            lambda c: {"input": {"cubeId": c, "id": memory_id, "memory": "overwritten"}},
        ),
    ]
    for query, variables in probes:
        real = gql(query, bob_key, **variables(cube))
        fake = gql(query, bob_key, **variables("no-such-cube"))
        assert codes(real) == ["FORBIDDEN"], (query, real)
        assert real["data"] is None
        assert "4711" not in str(real) and "alice" not in str(real).lower()
        assert real["errors"][0]["message"].replace(cube, "X") == fake["errors"][0]["message"].replace(
            "no-such-cube", "X"
        )
    still = gql("query($c: ID!, $id: ID!) { memory(cubeId: $c, id: $id) { memory } }", alice_key, c=cube, id=memory_id)
    assert still["data"]["memory"]["memory"] == "Alice's bank PIN is 4711"


def test_role_rules_over_http(gql: Gql, new_user: NewUser) -> None:
    alice, alice_key = new_user("alice")
    guest, guest_key = new_user("guest", "GUEST")
    _, admin_key = new_user("admin", "ADMIN")
    refused = gql('mutation { createUser(input: {id: "x-by-user"}) { apiKey } }', alice_key)
    assert codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["message"] == "role USER may not create users of role USER"
    assert codes(gql("{ users { userId } }", alice_key)) == ["FORBIDDEN"]
    assert any(u["userId"] == alice for u in gql("{ users { userId } }", admin_key)["data"]["users"])
    assert codes(gql(CREATE_CUBE, guest_key, input={"name": "guest cube"})) == ["FORBIDDEN"]
    cube = make_cube(gql, alice_key)
    add(gql, alice_key, cube, "a shared fact")
    shared = gql(
        "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: READ) }", alice_key, c=cube, u=guest
    )
    assert shared["data"]["shareCube"] is True
    found = gql(SEARCH, guest_key, q="fact", cubes=[cube], k=3)
    assert [m["memory"] for m in found["data"]["search"]["textMem"][0]["memories"]] == ["a shared fact"]
    assert codes(gql(ADD, guest_key, input={"cubeId": cube, "content": ["guest note"]})) == ["FORBIDDEN"]
    registered = gql("mutation($c: ID!) { registerCube(cubeId: $c) { cubeId isLoaded canWrite } }", guest_key, c=cube)
    assert registered["data"]["registerCube"] == {"cubeId": cube, "isLoaded": True, "canWrite": False}
    assert gql("mutation($c: ID!) { unregisterCube(cubeId: $c) }", guest_key, c=cube)["data"]["unregisterCube"]
    assert codes(gql("mutation($c: ID!) { unregisterCube(cubeId: $c) }", guest_key, c=cube)) == ["NOT_FOUND"]


def test_rotated_key_replaces_the_old_one(client: TestClient, gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("rotator")
    new_key = gql("mutation { rotateApiKey }", key)["data"]["rotateApiKey"]
    assert new_key != key
    old = client.post(
        "/graphql", json={"query": "{ me { user { userId } } }"}, headers={"Authorization": f"Bearer {key}"}
    )  # noqa: E501
    assert old.status_code == 401
    assert gql("{ me { user { name } } }", new_key)["data"]["me"]["user"]["name"] == "Rotator"


def test_bad_input_and_limits(client: TestClient, gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("limits")
    cube = make_cube(gql, key)
    assert codes(gql("{ me { user { userId } ", key)) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(gql("{ me { nosuchfield } }", key)) == ["GRAPHQL_VALIDATION_FAILED"]
    assert codes(gql(SEARCH, key, q="x", cubes=[cube], k=1000)) == ["BAD_USER_INPUT"]
    assert codes(gql(ADD, key, input={"cubeId": cube, "content": ["  "]})) == ["BAD_USER_INPUT"]
    assert codes(gql(ADD, key, input={"cubeId": cube, "content": ["a"], "docPath": "/etc/passwd"})) == [
        "BAD_USER_INPUT"
    ]
    nested = 'query { search(query: "x") { textMem { memories { cube { owner { userId } } } } } }'
    assert gql(nested, key).get("errors") is None  # the deepest path the schema has is allowed
    tokens = "{ " + " ".join("me { user { userId } }" for _ in range(MAX_TOKENS // 4)) + " }"
    assert codes(gql(tokens, key))[0] == "GRAPHQL_VALIDATION_FAILED"
    aliases = "{ " + " ".join(f"a{i}: me {{ user {{ id }} }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert codes(gql(aliases, key))[0] == "GRAPHQL_VALIDATION_FAILED"
    huge = client.post(
        "/graphql",
        content=b"x" * 1_100_000,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    big_text = "y" * 40_000
    assert codes(gql(ADD, key, input={"cubeId": cube, "content": [big_text]})) == ["BAD_USER_INPUT"]
    assert gql("query($c: ID!) { memories(cubeId: $c) { edges { cursor } } }", key, c=cube)["data"] == {
        "memories": {"edges": []}
    }


def test_features_not_configured_say_so(gql: Gql) -> None:
    unconfigured = gql('mutation { chat(query: "hi") }', ROOT_KEY)
    assert codes(unconfigured) == ["NOT_AVAILABLE"]
    assert "MEMOS_LLM_MODEL" in unconfigured["errors"][0]["message"]
    assert gql("mutation { clearMessages }", ROOT_KEY)["data"] == {"clearMessages": True}


def test_committed_sdl_matches_the_code() -> None:
    committed = (Path(__file__).resolve().parents[2] / "graphql_schema" / "schema.graphql").read_text()
    assert committed == sdl(), "run: python -m graphql_schema.export_sdl"


def test_search_threshold_over_graphql(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("thresholds")
    cube = make_cube(gql, key)
    add(gql, key, cube, "Alice plays the cello", "The ferry leaves at noon", "Compost the fallen leaves")
    query = """query($q: String!, $t: Float) {
      search(query: $q, topK: 3, threshold: $t) { textMem { memories { memory metadata { relativity } } } }
    }"""
    everything = gql(query, key, q="Which instrument does Alice play?", t=None)["data"]["search"]["textMem"][0]
    scores = [m["metadata"]["relativity"] for m in everything["memories"]]
    assert len(scores) == 3 and all(0.0 <= s <= 1.0 for s in scores)
    kept = gql(query, key, q="Which instrument does Alice play?", t=scores[0])["data"]["search"]["textMem"][0]
    assert [m["memory"] for m in kept["memories"]] == ["Alice plays the cello"]
    bad = gql(query, key, q="cello", t=2.0)
    assert codes(bad) == ["BAD_USER_INPUT"]


def test_date_time_names_its_specification_for_code_generators(gql: Gql, new_user: NewUser) -> None:
    _, key = new_user("codegen")
    found = gql('{ __type(name: "DateTime") { name specifiedByURL description } }', key)["data"]["__type"]
    assert found["specifiedByURL"] == "https://scalars.graphql.org/andimarek/date-time"
    assert "ISO 8601" in found["description"]
    # values still read as before: text that is not a time is refused with a code, before any work
    bad = gql(
        'query($t: DateTime) { search(query: "x", referenceTime: $t) { textMem { cubeId } } }', key, t="not a time"
    )
    assert codes(bad) == ["GRAPHQL_VALIDATION_FAILED"], bad

"""Taking access back over GraphQL: revokeShare, deleteCube, resetApiKey, deactivate/reactivate, deleteUser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from tests.graphql.conftest import Gql, codes

pytestmark = pytest.mark.neo4j

NewUser = Callable[..., tuple[str, str]]
ME = "{ me { user { userId } } }"
CREATE_CUBE = "mutation($n: String!) { createCube(input: {name: $n}) { cubeId } }"
SHARE = "mutation($c: ID!, $u: ID!, $p: SharePermission!) { shareCube(cubeId: $c, userId: $u, permission: $p) }"
ADD = "mutation($c: ID!, $t: [String!]!) { addMemories(input: {cubeId: $c, content: $t}) { ids } }"
MEMORIES = "query($c: ID!) { memories(cubeId: $c, first: 10) { edges { node { memory metadata { updatedBy } } } } }"


def test_revoke_share_and_delete_cube(gql: Gql, new_user: NewUser) -> None:
    _, alice_key = new_user("alice")
    bob, bob_key = new_user("bob")
    cube = gql(CREATE_CUBE, alice_key, n="notes")["data"]["createCube"]["cubeId"]
    gql(ADD, alice_key, c=cube, t=["Alice feeds the cat at seven"])
    assert gql(SHARE, alice_key, c=cube, u=bob, p="WRITE")["data"] == {"shareCube": True}
    assert codes(gql(SHARE, bob_key, c=cube, u=bob, p="READ")) == ["FORBIDDEN"]  # not the owner
    assert gql(MEMORIES, bob_key, c=cube)["data"]["memories"]["edges"]

    revoke = "mutation($c: ID!, $u: ID!) { revokeShare(cubeId: $c, userId: $u) }"
    assert gql(revoke, alice_key, c=cube, u=bob)["data"] == {"revokeShare": "WRITE"}
    assert codes(gql(MEMORIES, bob_key, c=cube)) == ["FORBIDDEN"]
    assert codes(gql(revoke, alice_key, c=cube, u=bob)) == ["NOT_FOUND"]

    delete = "mutation($c: ID!) { deleteCube(cubeId: $c) }"
    assert codes(gql(delete, bob_key, c=cube)) == ["FORBIDDEN"]
    assert gql(delete, alice_key, c=cube)["data"] == {"deleteCube": True}
    assert codes(gql(MEMORIES, alice_key, c=cube)) == ["FORBIDDEN"]  # gone: as if it never existed


def test_admin_shares_read_only_and_edits_are_signed(gql: Gql, new_user: NewUser) -> None:
    admin, admin_key = new_user("admin", "ADMIN")
    _, alice_key = new_user("alice")
    bob, bob_key = new_user("bob")
    cube = gql(CREATE_CUBE, alice_key, n="shared")["data"]["createCube"]["cubeId"]
    (memory_id,) = gql(ADD, alice_key, c=cube, t=["The kettle is broken"])["data"]["addMemories"]["ids"]
    assert codes(gql(SHARE, admin_key, c=cube, u=admin, p="WRITE")) == ["FORBIDDEN"]
    assert codes(gql(SHARE, admin_key, c=cube, u=bob, p="WRITE")) == ["FORBIDDEN"]
    assert codes(gql(SHARE, admin_key, c=cube, u=admin, p="READ")) == ["BAD_USER_INPUT"]  # itself
    assert gql(SHARE, admin_key, c=cube, u=bob, p="READ")["data"] == {"shareCube": True}
    assert gql(SHARE, alice_key, c=cube, u=bob, p="WRITE")["data"] == {"shareCube": True}
    update = (
        'mutation($c: ID!, $i: ID!) { updateMemory(input: {cubeId: $c, id: $i, memory: "The kettle works"}) { id } }'
    )
    assert gql(update, bob_key, c=cube, i=memory_id).get("errors") is None
    node = gql(MEMORIES, alice_key, c=cube)["data"]["memories"]["edges"][0]["node"]
    assert node == {"memory": "The kettle works", "metadata": {"updatedBy": bob}}
    history = (
        "query($c: ID!, $i: ID!) { memoryHistory(cubeId: $c, id: $i) "
        "{ edges { node { memory metadata { updatedBy } } } } }"
    )
    assert gql(history, alice_key, c=cube, i=memory_id)["data"]["memoryHistory"]["edges"] == [
        {"node": {"memory": "The kettle is broken", "metadata": {"updatedBy": None}}}
    ]


def test_users_are_deactivated_reset_and_deleted(gql: Gql, new_user: NewUser, client: TestClient) -> None:
    admin, admin_key = new_user("admin", "ADMIN")
    carol, carol_key = new_user("carol")
    cube = gql(CREATE_CUBE, carol_key, n="carol's")["data"]["createCube"]["cubeId"]
    gql(ADD, carol_key, c=cube, t=["Carol's bank is in Leeds"])

    def status(key: str) -> int:
        return client.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {key}"}).status_code

    deactivate = "mutation($u: ID!) { deactivateUser(userId: $u) { userId isActive } }"
    reactivate = "mutation($u: ID!) { reactivateUser(userId: $u) { userId isActive } }"
    assert codes(gql(deactivate, carol_key, u=admin)) == ["FORBIDDEN"]
    assert gql(deactivate, admin_key, u=carol)["data"]["deactivateUser"] == {"userId": carol, "isActive": False}
    assert status(carol_key) == 401
    assert gql(reactivate, admin_key, u=carol)["data"]["reactivateUser"] == {"userId": carol, "isActive": True}
    assert status(carol_key) == 200

    reset = "mutation($u: ID!) { resetApiKey(userId: $u) }"
    assert gql(reset, admin_key, u=carol)["data"]["resetApiKey"] is None  # an ADMIN only revokes
    assert status(carol_key) == 401
    new_key = gql(reset, u=carol)["data"]["resetApiKey"]  # ROOT hands out the new key
    assert status(new_key) == 200
    assert codes(gql(reset, new_key, u=admin)) == ["FORBIDDEN"]

    delete = "mutation($u: ID!) { deleteUser(userId: $u) }"
    assert codes(gql(delete, admin_key, u=carol)) == ["FORBIDDEN"]  # ROOT's alone
    assert gql(delete, u=carol)["data"] == {"deleteUser": [cube]}
    assert status(new_key) == 401
    assert codes(gql(delete, u=carol)) == ["NOT_FOUND"]
    assert codes(gql("query($c: ID!) { cube(id: $c) { cubeId } }", c=cube)) == ["FORBIDDEN"]

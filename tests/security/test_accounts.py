"""Issue 22, accounts and sharing, through the real app over the real Neo4j.

M5: an ADMIN's resetApiKey of a USER only revokes the key (the ADMIN is handed nothing), so an ADMIN cannot
become that user, write its cubes or grant itself WRITE; ROOT's reset and one's own still hand back a key;
every reset is audited (a memos_graph.audit log line and a record on the User node).
L3: a cube's owner and its shares' users show a USER or GUEST their id alone (no name, role, createdAt,
isActive); shareCube tells whether a user id exists, by design.
L2: claiming another tenant's cube id answers CONFLICT, which says that the id is taken and nothing else.
"""

from __future__ import annotations

import json
import logging
import re
import uuid

import pytest

from memos_graph.domain import UserRole
from memos_graph.services.identity import KEY_PREFIX
from testkit.keys import ROOT_KEY
from testkit.security import Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

AUDIT_LOGGER = "memos_graph.audit"  # the logger operators route to their audit store

ME = "{ me { user { userId name role } } }"
RESET = "mutation($u: ID!) { resetApiKey(userId: $u) }"
ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }"
SHARE = "mutation($c: ID!, $u: ID!, $p: SharePermission!) { shareCube(cubeId: $c, userId: $u, permission: $p) }"
MEMORIES = "query($c: ID!) { memories(cubeId: $c, first: 100) { edges { node { memory } } } }"
PROFILE = "userId name role isActive createdAt"
SHARED_WITH = f"query($c: ID!) {{ cube(id: $c) {{ owner {{ {PROFILE} }} sharedWith {{ node {{ {PROFILE} }} }} }} }}"
CREATE_CUBE = "mutation($i: CreateCubeInput!) { createCube(input: $i) { cubeId } }"


def texts(env: SecurityEnv, key: str, cube_id: str) -> list[str]:
    return sorted(edge["node"]["memory"] for edge in env.api.ok(key, MEMORIES, c=cube_id)["memories"]["edges"])


def audit_lines(caplog: pytest.LogCaptureFixture, action: str, target: str) -> list[dict[str, object]]:
    """The audit fields of the memos_graph.audit records of this action on this target."""
    found = []
    for record in caplog.records:
        fields = getattr(record, "audit", None)
        if record.name == AUDIT_LOGGER and fields and fields["action"] == action and fields["target"] == target:
            found.append(dict(fields))
    return found


# -- M5 --------------------------------------------------------------------------------------------------


def test_an_admin_reset_only_revokes_and_gives_the_admin_nothing(
    security_env: SecurityEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = security_env
    admin, dave = env.caller("admin", UserRole.ADMIN), env.caller("dave")
    cube = env.cube(dave, "dave's")
    env.add(dave, cube, "Dave keeps the spare key in the shed")
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)

    response = env.api.post(admin.key, RESET, {"u": dave.user_id})
    assert response.status_code == 200
    body = response.json()
    assert body == {"data": {"resetApiKey": None}}, body  # before the fix: dave's new mgk_ key, to the ADMIN
    assert KEY_PREFIX not in response.text

    # Dave's old key is dead, and nothing the ADMIN holds acts as dave.
    assert env.api.post(dave.key, ME).status_code == 401
    keyed = "MATCH (u:User {id: $u}) WHERE u.api_key_hash IS NOT NULL RETURN count(u) AS n"
    assert env.count(keyed, u=dave.user_id) == 0
    refused = env.api.call(admin.key, ADD, i={"cubeId": cube, "content": ["admin was here"]})
    assert codes(refused) == ["FORBIDDEN"]
    granted = env.api.call(admin.key, SHARE, c=cube, u=admin.user_id, p="WRITE")
    assert codes(granted) == ["FORBIDDEN"]
    assert texts(env, ROOT_KEY, cube) == ["Dave keeps the spare key in the shed"]

    # Audited: a durable record on dave's node and one structured log line.
    change = env.runtime.users.key_change(dave.user_id)
    assert change is not None and change.by == admin.user_id and change.action == "revoke", change
    (line,) = audit_lines(caplog, "api_key_revoke", dave.user_id)
    assert line["actor"] == admin.user_id and line["at"] == change.at
    assert not re.search(r"mgk_|[0-9a-f]{64}", json.dumps([r.getMessage() for r in caplog.records]))

    # ROOT gives dave a key again: it is returned to ROOT, works for dave, and is audited as a reset.
    new_key = env.api.ok(ROOT_KEY, RESET, u=dave.user_id)["resetApiKey"]
    assert isinstance(new_key, str) and new_key.startswith(KEY_PREFIX)
    assert env.api.ok(new_key, ME)["me"]["user"]["userId"] == dave.user_id
    change = env.runtime.users.key_change(dave.user_id)
    assert change is not None and change.by == env.runtime.config.user_id and change.action == "reset"
    assert audit_lines(caplog, "api_key_reset", dave.user_id)
    env.add(Caller(dave.user_id, new_key), cube, "Dave is back")


def test_own_resets_and_rotations_still_hand_back_a_key(
    security_env: SecurityEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = security_env
    admin, erin = env.caller("admin", UserRole.ADMIN), env.caller("erin", UserRole.GUEST)
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    own = env.api.ok(admin.key, RESET, u=admin.user_id)["resetApiKey"]
    assert own.startswith(KEY_PREFIX) and env.api.ok(own, ME)["me"]["user"]["userId"] == admin.user_id
    rotated = env.api.ok(erin.key, "mutation { rotateApiKey }")["rotateApiKey"]
    assert env.api.ok(rotated, ME)["me"]["user"]["userId"] == erin.user_id
    assert env.api.post(erin.key, ME).status_code == 401
    for who in (admin.user_id, erin.user_id):
        change = env.runtime.users.key_change(who)
        assert change is not None and (change.by, change.action) == (who, "rotate")
        assert audit_lines(caplog, "api_key_rotate", who)


def test_the_mos_door_agrees(security_env: SecurityEnv) -> None:
    env = security_env
    admin, frank = env.caller("admin", UserRole.ADMIN), env.caller("frank")
    as_admin = env.services.cubes.actor(admin.user_id)
    assert env.services.users.reset_api_key(as_admin, frank.user_id) is None
    assert env.api.post(frank.key, ME).status_code == 401


@pytest.mark.parametrize(
    "document",
    [
        'mutation { a: rotateApiKey b: deleteCube(cubeId: "ghost-cube") }',
        "mutation { rotateApiKey again: rotateApiKey }",
        'mutation { ...Both } fragment Both on Mutation { rotateApiKey deleteCube(cubeId: "ghost-cube") }',
    ],
    ids=["beside-a-failing-field", "twice", "through-a-fragment"],
)
def test_a_new_key_is_never_issued_beside_another_field(security_env: SecurityEnv, document: str) -> None:
    """Found while fixing issue 22: `rotateApiKey` beside a field that fails (every mutation field is non-null)
    rotated the key and answered `data: null`, so the caller never saw its new key and was locked out. An
    operation with a key-issuing field and any other root field is refused before anything runs."""
    env = security_env
    grace = env.caller("grace")
    body = env.api.call(grace.key, document)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["reason"] == "KEY_FIELD_NOT_ALONE", body
    assert env.api.ok(grace.key, ME)["me"]["user"]["userId"] == grace.user_id  # the old key still works
    assert env.runtime.users.key_change(grace.user_id) is None  # nothing was rotated
    alone = env.api.ok(grace.key, "mutation { rotateApiKey __typename }")["rotateApiKey"]
    assert env.api.ok(alone, ME)["me"]["user"]["userId"] == grace.user_id


# -- L3 --------------------------------------------------------------------------------------------------


def test_owners_and_share_users_show_a_user_their_id_alone(security_env: SecurityEnv) -> None:
    env = security_env
    bob = env.caller("bob", name="Bob Builder")
    admin = env.caller("admin", UserRole.ADMIN, name="Ada Admin")
    alice = env.caller("alice", name="Alice Liddell")
    bobs = env.cube(bob, "bob's")
    alices = env.cube(alice, "alice's")
    env.api.ok(alice.key, SHARE, c=alices, u=bob.user_id, p="READ")

    # Sharing needs the user id and says whether it exists: a share must not succeed silently.
    ghost = f"sec-nobody-{uuid.uuid4().hex[:8]}"
    assert codes(env.api.call(bob.key, SHARE, c=bobs, u=ghost, p="READ")) == ["NOT_FOUND"]
    assert env.api.ok(bob.key, SHARE, c=bobs, u=admin.user_id, p="READ") == {"shareCube": True}

    hidden = {"name": None, "role": None, "isActive": None, "createdAt": None}
    cube = env.api.ok(bob.key, SHARED_WITH, c=bobs)["cube"]
    # before the fix: {"name": "Ada Admin", "role": "ADMIN", "isActive": true, "createdAt": "..."}
    assert cube["sharedWith"] == [{"node": {"userId": admin.user_id, **hidden}}]
    assert cube["owner"]["name"] == "Bob Builder" and cube["owner"]["role"] == "USER"  # itself: all of it
    assert env.api.ok(bob.key, SHARED_WITH, c=alices)["cube"]["owner"] == {"userId": alice.user_id, **hidden}

    # The user itself, ROOT and ADMIN (who list users anyway) see the whole profile.
    seen_by_admin = env.api.ok(admin.key, SHARED_WITH, c=alices)["cube"]
    assert seen_by_admin["owner"]["name"] == "Alice Liddell" and seen_by_admin["owner"]["role"] == "USER"
    assert seen_by_admin["sharedWith"][0]["node"]["name"] == "Bob Builder"
    assert env.api.ok(alice.key, ME)["me"]["user"] == {"userId": alice.user_id, "name": "Alice Liddell", "role": "USER"}


# -- L2 --------------------------------------------------------------------------------------------------


def test_claiming_a_taken_cube_id_says_taken_and_nothing_more(security_env: SecurityEnv) -> None:
    env = security_env
    alice, bob = env.caller("alice", name="Alice Secret-Name"), env.caller("bob")
    cube = env.cube(alice, "alice's hidden cube name", cube_id=f"sec-taken-{uuid.uuid4().hex[:8]}")
    env.add(alice, cube, "Alice's PIN is 4921")
    body = env.api.call(bob.key, CREATE_CUBE, i={"name": "mine", "id": cube})
    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["message"] == f"cube id '{cube}' is taken"
    text = json.dumps(body)
    assert all(secret not in text for secret in (alice.user_id, "Secret-Name", "hidden cube name", "4921"))
    assert codes(env.api.call(bob.key, MEMORIES, c=cube)) == ["FORBIDDEN"]
    assert texts(env, alice.key, cube) == ["Alice's PIN is 4921"]

"""Issue 11: who may grant and take back access, on the real MOS and the real app over the real Neo4j.

The root key survives restarts; only owners and ROOT grant WRITE; every edit names its editor; deleteAll
without a cube id keeps to the caller's own cubes; shares can be revoked, users deactivated, reset and
deleted (leaving nothing of theirs in the graph), cubes deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph import MOS, AccessDenied, InvalidInput, NotFound, TextualMemoryItem, Unauthenticated, UserRole
from memos_graph.errors import CubeNotAccessible
from memos_graph.services.identity import new_api_key
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fixtures import ForeignDatabase, apply_root_key, claim_test_database
from testkit.keys import ROOT_KEY

pytestmark = pytest.mark.neo4j

ME = "{ me { user { userId } } }"


def post(client: TestClient, key: str, query: str, **variables: Any) -> tuple[int, dict[str, Any]]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
    )
    body: dict[str, Any] = response.json()
    return response.status_code, body


def whose_key(runtime: Runtime, key: str) -> str | None:
    """The user a key authenticates, or None."""
    try:
        return Services.over(runtime).identity.authenticate(key).user_id
    except Unauthenticated:
        return None


@pytest.fixture
def keyed(keyed_runtime: Runtime) -> Iterator[Runtime]:
    """The runtime whose ROOT holds ROOT_KEY; the key is put back after the test, whatever it did."""
    try:
        yield keyed_runtime
    finally:
        apply_root_key(keyed_runtime)


# -- point 1: the root key --------------------------------------------------------------------------


def test_a_start_never_replaces_the_root_key(keyed: Runtime) -> None:
    other = new_api_key()
    MOS(keyed.config.model_copy(update={"root_api_key": SecretStr(other)}), runtime=keyed)
    assert whose_key(keyed, ROOT_KEY) == keyed.config.user_id
    assert whose_key(keyed, other) is None


def test_a_rotated_root_key_survives_a_restart(keyed: Runtime) -> None:
    with TestClient(create_app(runtime=keyed)) as client:
        status, body = post(client, ROOT_KEY, "mutation { rotateApiKey }")
        assert status == 200 and body.get("errors") is None, body
        rotated = body["data"]["rotateApiKey"]
    with TestClient(create_app(runtime=keyed)) as restarted:  # configured with ROOT_KEY again
        assert post(restarted, rotated, ME)[1]["data"]["me"]["user"]["userId"] == keyed.config.user_id
        assert post(restarted, ROOT_KEY, ME)[0] == 401


def test_the_operator_replaces_the_root_key_explicitly(keyed: Runtime) -> None:
    users = Services.over(keyed).users
    replacement = new_api_key()
    users.apply_root_key(keyed.config.user_id, SecretStr(replacement))
    assert whose_key(keyed, replacement) == keyed.config.user_id
    assert whose_key(keyed, ROOT_KEY) is None


def test_the_suite_refuses_a_database_it_did_not_mark(runtime: Runtime) -> None:
    """The marker check on the suite's own database: without the marker (removed inside a transaction that
    is rolled back) the data present makes it somebody else's database."""
    with runtime.store.driver.session(database=runtime.store.database) as session:
        tx = session.begin_transaction()
        try:
            claim_test_database(lambda text: [r.data() for r in tx.run(text)], "bolt://suite")  # marked: fine
            tx.run("MATCH (m:MemosGraphTestSuite) DELETE m").consume()
            with pytest.raises(ForeignDatabase, match="not a database the tests created"):
                claim_test_database(lambda text: [r.data() for r in tx.run(text)], "bolt://suite")
        finally:
            tx.rollback()
    marker = runtime.store.run_statement("MATCH (m:MemosGraphTestSuite) RETURN count(m) AS n")
    assert marker[0]["n"] == 1


# -- point 2: sharing rules and editors --------------------------------------------------------------


@pytest.fixture
def people(root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]) -> dict[str, str]:
    ids = {
        "admin": root.create_user(uid("admin"), UserRole.ADMIN),
        "alice": root.create_user(uid("alice"), UserRole.USER),
        "bob": root.create_user(uid("bob"), UserRole.USER),
        "guest": root.create_user(uid("guest"), UserRole.GUEST),
    }
    ids["root_cube"] = root.create_cube_for_user("root's own", owner_id=root.user_id, cube_id=uid("rootcube"))
    ids["alice_cube"] = root.create_cube_for_user("alice's", owner_id=ids["alice"], cube_id=uid("alicecube"))
    return ids


def test_admin_may_not_grant_write(root: MOS, as_user: Callable[[str], MOS], people: dict[str, str]) -> None:
    admin = as_user(people["admin"])
    with pytest.raises(AccessDenied):
        admin.share_cube_with_user(people["root_cube"], people["admin"], "write")
    with pytest.raises(AccessDenied):
        admin.share_cube_with_user(people["alice_cube"], people["bob"], "write")
    assert admin.share_cube_with_user(people["alice_cube"], people["bob"], "read")
    with pytest.raises(AccessDenied):  # still only READ for bob: no write
        as_user(people["bob"]).add(memory_content=["bob was here"], mem_cube_id=people["alice_cube"])
    assert root.get_all(people["root_cube"])["text_mem"][0]["memories"] == []


def test_nobody_shares_with_themselves(root: MOS, as_user: Callable[[str], MOS], people: dict[str, str]) -> None:
    alice = as_user(people["alice"])
    with pytest.raises(InvalidInput, match="yourself"):
        alice.share_cube_with_user(people["alice_cube"], people["alice"], "write")
    admin = as_user(people["admin"])
    with pytest.raises(InvalidInput, match="yourself"):
        admin.share_cube_with_user(people["alice_cube"], people["admin"], "read")


def test_every_edit_names_its_editor(root: MOS, as_user: Callable[[str], MOS], people: dict[str, str]) -> None:
    alice, bob = as_user(people["alice"]), as_user(people["bob"])
    cube = people["alice_cube"]
    alice.share_cube_with_user(cube, people["bob"], "write")
    (memory_id,) = alice.add(memory_content=["The boat is blue"], mem_cube_id=cube)
    forged = TextualMemoryItem(memory="The boat is green", metadata={"user_id": people["alice"], "updated_by": "x"})
    bob.update(cube, memory_id, forged)
    alice.update(cube, memory_id, TextualMemoryItem(memory="The boat is red"))
    now = alice.get(cube, memory_id)
    assert (now.metadata.user_id, now.metadata.updated_by) == (people["alice"], people["alice"])
    history = alice.get_history(cube, memory_id)
    assert [(v.memory, v.metadata.updated_by) for v in history] == [
        ("The boat is green", people["bob"]),
        ("The boat is blue", None),
    ]


# -- point 7: deleteAll keeps to the caller's own cubes ----------------------------------------------


def test_delete_all_without_a_cube_empties_only_own_cubes(
    root: MOS, as_user: Callable[[str], MOS], people: dict[str, str], uid: Callable[[str], str]
) -> None:
    alice, bob = as_user(people["alice"]), as_user(people["bob"])
    alice.share_cube_with_user(people["alice_cube"], people["bob"], "write")
    alice.add(memory_content=["Alice's plan for May"], mem_cube_id=people["alice_cube"])
    bob_cube = root.create_cube_for_user("bob's", owner_id=people["bob"], cube_id=uid("bobcube"))
    bob.add(memory_content=["Bob's own note"], mem_cube_id=bob_cube)
    root.add(memory_content=["Root's own note"], mem_cube_id=people["root_cube"])
    bob.delete_all()
    root.delete_all()
    assert [m.memory for m in alice.get_all(people["alice_cube"])["text_mem"][0]["memories"]] == [
        "Alice's plan for May"
    ]
    assert bob.get_all(bob_cube)["text_mem"][0]["memories"] == []
    assert root.get_all(people["root_cube"])["text_mem"][0]["memories"] == []
    bob.delete_all(people["alice_cube"])  # named, a writer may
    assert alice.get_all(people["alice_cube"])["text_mem"][0]["memories"] == []


# -- point 8: taking access back ---------------------------------------------------------------------


def test_revoking_a_share_takes_the_cube_away_at_once(
    root: MOS, as_user: Callable[[str], MOS], people: dict[str, str], runtime: Runtime
) -> None:
    alice, bob = as_user(people["alice"]), as_user(people["bob"])
    cube = people["alice_cube"]
    alice.add(memory_content=["Alice keeps bees"], mem_cube_id=cube)
    alice.share_cube_with_user(cube, people["bob"], "write")
    bob.register_mem_cube(cube)
    assert bob.search("bees", install_cube_ids=[cube])["text_mem"][0]["memories"]
    with pytest.raises(AccessDenied):  # a writer who is not the owner may not take others' shares back
        bob.revoke_share(cube, people["guest"])
    assert alice.revoke_share(cube, people["bob"]) == "write"
    with pytest.raises(CubeNotAccessible):
        bob.search("bees", install_cube_ids=[cube])
    with pytest.raises(CubeNotAccessible):
        bob.add(memory_content=["bob was here"], mem_cube_id=cube)
    assert cube not in {c["cube_id"] for c in bob.get_user_info()["accessible_cubes"]}
    loaded = runtime.store.run_statement(
        "MATCH (:User {id: $u})-[l:LOADED]->(:MemCube {id: $c}) RETURN count(l) AS n", u=people["bob"], c=cube
    )
    assert loaded[0]["n"] == 0
    with pytest.raises(NotFound):
        alice.revoke_share(cube, people["bob"])
    # ADMIN takes back READ shares but not WRITE ones; a user may leave a cube shared with it.
    admin = as_user(people["admin"])
    alice.share_cube_with_user(cube, people["guest"], "read")
    alice.share_cube_with_user(cube, people["bob"], "write")
    with pytest.raises(AccessDenied):
        admin.revoke_share(cube, people["bob"])
    assert admin.revoke_share(cube, people["guest"]) == "read"
    assert bob.revoke_share(cube, people["bob"]) == "write"


def test_deactivated_users_are_refused_until_reactivated(
    root: MOS, as_user: Callable[[str], MOS], people: dict[str, str], keyed: Runtime
) -> None:
    bob_key = root.reset_api_key(people["bob"])
    assert bob_key is not None
    admin = as_user(people["admin"])
    with pytest.raises(AccessDenied):
        admin.deactivate_user(root.user_id)
    with pytest.raises(AccessDenied):
        as_user(people["alice"]).deactivate_user(people["bob"])
    admin.deactivate_user(people["bob"])
    with TestClient(create_app(runtime=keyed)) as client:
        assert post(client, bob_key, ME)[0] == 401
        with pytest.raises(Unauthenticated):
            as_user(people["bob"]).get_user_info()
        admin.reactivate_user(people["bob"])
        assert post(client, bob_key, ME)[1]["data"]["me"]["user"]["userId"] == people["bob"]


def test_reset_api_key_rules(root: MOS, as_user: Callable[[str], MOS], people: dict[str, str], keyed: Runtime) -> None:
    old = root.reset_api_key(people["bob"])
    assert old is not None and whose_key(keyed, old) == people["bob"]
    assert as_user(people["admin"]).reset_api_key(people["bob"]) is None  # an ADMIN only revokes
    assert whose_key(keyed, old) is None
    new = root.reset_api_key(people["bob"])
    assert new is not None and whose_key(keyed, new) == people["bob"]
    with pytest.raises(AccessDenied):
        as_user(people["admin"]).reset_api_key(root.user_id)
    with pytest.raises(AccessDenied):
        as_user(people["alice"]).reset_api_key(people["bob"])
    own = as_user(people["alice"]).reset_api_key(people["alice"])
    assert own is not None and whose_key(keyed, own) == people["alice"]


def _cube_residue(runtime: Runtime, cube_id: str) -> dict[str, int]:
    counts = {}
    for label in ("Memory", "MemoryVersion", "Message", "Document", "Term"):
        rows = runtime.store.run_statement(f"MATCH (n:{label}) WHERE n.cube_id = $c RETURN count(n) AS n", c=cube_id)
        counts[label] = int(rows[0]["n"])
    rows = runtime.store.run_statement("MATCH (c:MemCube {id: $c}) RETURN count(c) AS n", c=cube_id)
    counts["MemCube"] = int(rows[0]["n"])
    return counts


def _fill(mos: MOS, cube: str) -> None:
    (memory_id,) = mos.add(memory_content=["Carol sails on Sundays"], mem_cube_id=cube)
    mos.update(cube, memory_id, TextualMemoryItem(memory="Carol sails on Saturdays"))
    mos.add(messages=[{"role": "user", "content": "I moved to Porto", "message_id": "m1"}], mem_cube_id=cube)


def test_delete_cube(root: MOS, as_user: Callable[[str], MOS], people: dict[str, str], runtime: Runtime) -> None:
    alice, bob = as_user(people["alice"]), as_user(people["bob"])
    cube = people["alice_cube"]
    _fill(alice, cube)
    alice.share_cube_with_user(cube, people["bob"], "write")
    with pytest.raises(AccessDenied):  # a writer is not the owner
        bob.delete_cube(cube)
    with pytest.raises(AccessDenied):  # an ADMIN reads it but does not own it
        as_user(people["admin"]).delete_cube(cube)
    assert _cube_residue(runtime, cube)["Memory"] == 2
    alice.delete_cube(cube)
    assert _cube_residue(runtime, cube) == dict.fromkeys(_cube_residue(runtime, cube), 0)
    with pytest.raises(CubeNotAccessible):
        bob.get_all(cube)
    with pytest.raises(CubeNotAccessible):
        alice.delete_cube(cube)


def test_a_deleted_user_leaves_nothing_behind(
    root: MOS, as_user: Callable[[str], MOS], people: dict[str, str], runtime: Runtime, uid: Callable[[str], str]
) -> None:
    alice, bob = as_user(people["alice"]), as_user(people["bob"])
    carol = root.create_user(uid("carol"), UserRole.USER)
    as_carol = as_user(carol)
    cubes = [root.create_cube_for_user(f"carol {n}", owner_id=carol, cube_id=uid(f"carol{n}")) for n in (1, 2)]
    for cube in cubes:
        _fill(as_carol, cube)
    as_carol.share_cube_with_user(cubes[0], people["bob"], "read")
    bob.register_mem_cube(cubes[0])
    alice.share_cube_with_user(people["alice_cube"], carol, "write")
    (written,) = as_carol.add(memory_content=["Carol's note in Alice's cube"], mem_cube_id=people["alice_cube"])
    root.reset_api_key(carol)
    runtime.store.run_statement(
        "MATCH (u:User {id: $u}) CREATE (u)-[:HAS_TURN]->(:ChatTurn {id: $t, user_id: $u, content: 'hi'})",
        u=carol,
        t=uid("turn"),
    )
    with pytest.raises(AccessDenied):
        as_user(people["admin"]).delete_user(carol)
    assert sorted(root.delete_user(carol)) == sorted(cubes)
    for cube in cubes:
        assert set(_cube_residue(runtime, cube).values()) == {0}, cube
    leftovers = runtime.store.run_statement(
        "OPTIONAL MATCH (u:User {id: $u}) WITH count(u) AS users "
        "OPTIONAL MATCH (t:ChatTurn {user_id: $u}) WITH users, count(t) AS turns "
        "OPTIONAL MATCH (n) WHERE n.cube_id IN $cubes RETURN users, turns, count(n) AS nodes",
        u=carol,
        cubes=cubes,
    )
    assert leftovers[0].data() == {"users": 0, "turns": 0, "nodes": 0}
    assert cubes[0] not in {c["cube_id"] for c in bob.get_user_info()["accessible_cubes"]}
    # What Carol wrote into Alice's cube is Alice's cube's, and stays.
    assert alice.get(people["alice_cube"], written).metadata.user_id == carol
    with pytest.raises(Unauthenticated):
        as_carol.get_user_info()
    with pytest.raises(NotFound):
        root.delete_user(carol)

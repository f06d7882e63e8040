"""Users, roles and the role rules of mos-api.md section 2, against the real Neo4j."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memos_graph import MOS, AccessDenied, Conflict, InvalidInput, Unauthenticated, UserRole
from memos_graph.graph.schema import backfill_user_uids
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j


def test_root_is_bootstrapped_once(root: MOS, runtime: Runtime) -> None:
    assert count_nodes(runtime, "User", role="root") == 1
    assert root.get_user_info()["role"] == "root"


def test_create_and_list_users(root: MOS, uid: Callable[[str], str]) -> None:
    alice = uid("alice")
    assert root.create_user(alice, UserRole.USER, "Alice") == alice
    listed = {user["user_id"]: user for user in root.list_users()}
    assert listed[alice]["user_name"] == "Alice"
    assert listed[alice]["role"] == "user"
    assert listed[alice]["is_active"] is True
    assert listed[alice]["created_at"]


def test_user_name_defaults_to_id(root: MOS, uid: Callable[[str], str]) -> None:
    bob = uid("bob")
    root.create_user(bob)
    assert root.get_user_info(bob)["user_name"] == bob


def test_duplicate_user_is_a_conflict(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    alice = uid("alice")
    root.create_user(alice)
    with pytest.raises(Conflict):
        root.create_user(alice, UserRole.ADMIN)
    assert count_nodes(runtime, "User", id=alice) == 1
    assert root.get_user_info(alice)["role"] == "user"


def test_nobody_creates_a_second_root(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    with pytest.raises(AccessDenied):
        root.create_user(uid("root2"), UserRole.ROOT)
    assert count_nodes(runtime, "User", role="root") == 1


def test_admin_creates_users_but_not_admins(
    root: MOS, as_user: Callable[[str], MOS], runtime: Runtime, uid: Callable[[str], str]
) -> None:
    admin = root.create_user(uid("admin"), UserRole.ADMIN)
    as_admin = as_user(admin)
    assert as_admin.create_user(uid("u"), UserRole.USER)
    assert as_admin.create_user(uid("g"), UserRole.GUEST)
    refused = uid("admin2")
    with pytest.raises(AccessDenied):
        as_admin.create_user(refused, UserRole.ADMIN)
    assert count_nodes(runtime, "User", id=refused) == 0
    assert any(user["user_id"] == admin for user in as_admin.list_users())


@pytest.mark.parametrize("role", [UserRole.USER, UserRole.GUEST])
def test_users_and_guests_cannot_manage_users(
    role: UserRole, root: MOS, as_user: Callable[[str], MOS], runtime: Runtime, uid: Callable[[str], str]
) -> None:
    actor = as_user(root.create_user(uid("actor"), role))
    target = uid("target")
    with pytest.raises(AccessDenied):
        actor.create_user(target)
    with pytest.raises(AccessDenied):
        actor.list_users()
    assert count_nodes(runtime, "User", id=target) == 0


@pytest.mark.parametrize("bad_id", ["", " ", "a b", "../etc", "x" * 200, "a/b", "ü"])
def test_bad_user_ids_are_refused(root: MOS, runtime: Runtime, bad_id: str) -> None:
    with pytest.raises(InvalidInput):
        root.create_user(bad_id)
    assert count_nodes(runtime, "User", id=bad_id) == 0


def test_unknown_user_cannot_act(root: MOS, uid: Callable[[str], str]) -> None:
    with pytest.raises(Unauthenticated):
        root.get_user_info(uid("ghost"))
    with pytest.raises(Unauthenticated):
        root.search("anything", user_id=uid("ghost"))


def test_a_mos_for_an_unknown_user_is_refused(
    root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]
) -> None:
    with pytest.raises(Unauthenticated):
        as_user(uid("nobody"))


def test_creation_times_are_the_moment_of_creation_in_utc(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    before = runtime.store.run_statement("RETURN datetime() AS now")[0]["now"].to_native()
    carol = uid("carol")
    root.create_user(carol)
    cube = root.create_cube_for_user("times", carol, cube_id=uid("times"))
    rows = runtime.store.run_statement(
        "MATCH (u:User {id: $user})-[l:LOADED]->(c:MemCube {id: $cube}) "
        "RETURN u.created_at AS user, c.created_at AS cube, l.since AS loaded",
        user=carol,
        cube=cube,
    )
    for name in ("user", "cube", "loaded"):
        stamp = rows[0][name].to_native()
        assert stamp.tzinfo is not None, name  # comparable with the datetime() the Cypher statements write
        assert (stamp - before).total_seconds() >= -1, name  # not the time the process started


def test_every_user_has_an_immutable_uid_that_a_reused_id_does_not_inherit(
    root: MOS, runtime: Runtime, uid: Callable[[str], str]
) -> None:
    eve = uid("eve")
    root.create_user(eve)
    first = root.services.cubes.actor(eve).uid
    assert len(first) == 36  # a random UUID, given at creation
    root.services.users.delete_user(root.services.cubes.actor("root"), eve)
    root.create_user(eve)
    assert root.services.cubes.actor(eve).uid not in ("", first)
    # A user from before uids existed gets one at start-up (schema.backfill_user_uids), once.
    runtime.store.run_statement("MATCH (u:User {id: $u}) REMOVE u.uid", u=eve)
    backfill_user_uids(runtime.store)
    given = root.services.cubes.actor(eve).uid
    assert len(given) == 36
    backfill_user_uids(runtime.store)
    assert root.services.cubes.actor(eve).uid == given

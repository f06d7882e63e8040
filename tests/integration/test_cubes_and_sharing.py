"""Cubes: creation rules, sharing rules, register/unregister, and errors that leak nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from memos_graph import (
    MOS,
    AccessDenied,
    Conflict,
    CubeNotAccessible,
    InvalidInput,
    NotFound,
    UserRole,
)
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j


def make_user(root: MOS, uid: Callable[[str], str], name: str, role: UserRole = UserRole.USER) -> str:
    return root.create_user(uid(name), role)


def test_user_creates_own_cube_which_is_loaded(
    root: MOS, as_user: Callable[[str], MOS], runtime: Runtime, uid: Callable[[str], str]
) -> None:
    alice = make_user(root, uid, "alice")
    cube = as_user(alice).create_cube_for_user("notes", owner_id=alice, cube_path="/cubes/notes")
    info = root.get_user_info(alice)
    (entry,) = info["accessible_cubes"]
    assert entry == {
        "cube_id": cube,
        "cube_name": "notes",
        "cube_path": "/cubes/notes",
        "owner_id": alice,
        "is_loaded": True,
        "can_write": True,
    }
    owns = runtime.store.run_statement(
        "MATCH (:User {id: $u})-[:OWNS]->(c:MemCube {id: $c}) RETURN c.embedding_dim AS dim", u=alice, c=cube
    )
    assert owns[0]["dim"] == 896


def test_cube_id_conflict(root: MOS, runtime: Runtime, uid: Callable[[str], str]) -> None:
    alice = make_user(root, uid, "alice")
    cube_id = uid("cube")
    root.create_cube_for_user("a", owner_id=alice, cube_id=cube_id)
    with pytest.raises(Conflict):
        root.create_cube_for_user("b", owner_id=alice, cube_id=cube_id)
    assert count_nodes(runtime, "MemCube", id=cube_id) == 1


def test_user_cannot_create_cube_for_someone_else(
    root: MOS, as_user: Callable[[str], MOS], runtime: Runtime, uid: Callable[[str], str]
) -> None:
    alice, bob = make_user(root, uid, "alice"), make_user(root, uid, "bob")
    cube_id = uid("cube")
    with pytest.raises(AccessDenied):
        as_user(alice).create_cube_for_user("x", owner_id=bob, cube_id=cube_id)
    assert count_nodes(runtime, "MemCube", id=cube_id) == 0


def test_guest_cannot_own_or_create_cubes(
    root: MOS, as_user: Callable[[str], MOS], runtime: Runtime, uid: Callable[[str], str]
) -> None:
    guest = make_user(root, uid, "guest", UserRole.GUEST)
    cube_id = uid("cube")
    with pytest.raises(AccessDenied):
        as_user(guest).create_cube_for_user("x", owner_id=guest, cube_id=cube_id)
    with pytest.raises(AccessDenied):
        root.create_cube_for_user("x", owner_id=guest, cube_id=cube_id)
    assert count_nodes(runtime, "MemCube", id=cube_id) == 0


def test_admin_creates_cubes_for_others_and_reads_every_cube(
    root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]
) -> None:
    admin, alice = make_user(root, uid, "admin", UserRole.ADMIN), make_user(root, uid, "alice")
    cube = as_user(admin).create_cube_for_user("for alice", owner_id=alice)
    root.add(memory_content="alice secret", mem_cube_id=cube, user_id=alice)
    other = root.create_cube_for_user("alice private", owner_id=alice)
    visible = {c["cube_id"]: c for c in as_user(admin).get_user_info()["accessible_cubes"]}
    assert visible[other]["owner_id"] == alice
    assert [m.memory for m in as_user(admin).get_all(cube)["text_mem"][0]["memories"]] == ["alice secret"]
    # ADMIN reads every cube but writes only its own or those shared with it for writing.
    with pytest.raises(AccessDenied):
        as_user(admin).add(memory_content="admin note", mem_cube_id=cube)


def test_user_cannot_read_an_unshared_cube_and_learns_nothing(
    root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]
) -> None:
    alice, bob = make_user(root, uid, "alice"), make_user(root, uid, "bob")
    cube = root.create_cube_for_user("alice", owner_id=alice, cube_id=uid("alicecube"))
    memory_id = root.add(memory_content="alice's secret plan", mem_cube_id=cube, user_id=alice)[0]
    missing = uid("nosuchcube")
    calls: list[Callable[[str], object]] = [
        lambda c: root.get(c, memory_id, user_id=bob),
        lambda c: root.get_all(c, user_id=bob),
        lambda c: root.search("plan", user_id=bob, install_cube_ids=[c]),
        lambda c: root.add(memory_content="bob was here", mem_cube_id=c, user_id=bob),
        lambda c: root.delete(c, memory_id, user_id=bob),
        lambda c: root.delete_all(c, user_id=bob),
        lambda c: root.register_mem_cube(c, user_id=bob),
        lambda c: as_user(bob).share_cube_with_user(c, bob),
    ]
    for call in calls:
        with pytest.raises(CubeNotAccessible) as real:
            call(cube)
        with pytest.raises(CubeNotAccessible) as fake:
            call(missing)
        # Same type and the same words for "exists but not yours" and "does not exist".
        assert str(real.value).replace(cube, "X") == str(fake.value).replace(missing, "X")
    assert [m.memory for m in root.get_all(cube, user_id=alice)["text_mem"][0]["memories"]] == ["alice's secret plan"]


def test_read_share_allows_reading_not_writing(
    root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]
) -> None:
    alice, bob = make_user(root, uid, "alice"), make_user(root, uid, "bob")
    cube = root.create_cube_for_user("alice", owner_id=alice)
    memory_id = root.add(memory_content="shared fact", mem_cube_id=cube, user_id=alice)[0]
    assert as_user(alice).share_cube_with_user(cube, bob) is True
    assert root.get(cube, memory_id, user_id=bob).memory == "shared fact"
    with pytest.raises(AccessDenied) as refused:
        root.add(memory_content="bob's addition", mem_cube_id=cube, user_id=bob)
    assert not isinstance(refused.value, CubeNotAccessible)
    with pytest.raises(AccessDenied):
        root.delete(cube, memory_id, user_id=bob)
    assert len(root.get_all(cube, user_id=alice)["text_mem"][0]["memories"]) == 1
    entry = next(c for c in root.get_user_info(bob)["accessible_cubes"] if c["cube_id"] == cube)
    assert entry["can_write"] is False and entry["is_loaded"] is False


def test_write_share_allows_writing(root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]) -> None:
    alice, bob = make_user(root, uid, "alice"), make_user(root, uid, "bob")
    cube = root.create_cube_for_user("alice", owner_id=alice)
    as_user(alice).share_cube_with_user(cube, bob, permission="write")
    new_id = root.add(memory_content="bob's addition", mem_cube_id=cube, user_id=bob)[0]
    assert root.get(cube, new_id, user_id=alice).metadata.user_id == bob


def test_guest_reads_shared_cube_but_never_writes(
    root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]
) -> None:
    alice, guest = make_user(root, uid, "alice"), make_user(root, uid, "guest", UserRole.GUEST)
    cube = root.create_cube_for_user("alice", owner_id=alice)
    root.add(memory_content="public fact", mem_cube_id=cube, user_id=alice)
    with pytest.raises(InvalidInput):
        as_user(alice).share_cube_with_user(cube, guest, permission="write")
    as_user(alice).share_cube_with_user(cube, guest)
    found = root.search("fact", user_id=guest, install_cube_ids=[cube])
    assert [m.memory for m in found["text_mem"][0]["memories"]] == ["public fact"]
    with pytest.raises(AccessDenied):
        root.add(memory_content="guest note", mem_cube_id=cube, user_id=guest)
    with pytest.raises(AccessDenied):
        root.delete_all(cube, user_id=guest)


def test_only_owner_root_or_admin_share(root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]) -> None:
    alice, bob, carol = (make_user(root, uid, name) for name in ("alice", "bob", "carol"))
    admin = make_user(root, uid, "admin", UserRole.ADMIN)
    cube = root.create_cube_for_user("alice", owner_id=alice)
    as_user(alice).share_cube_with_user(cube, bob, permission="write")
    # bob may read and even write, but sharing stays with the owner, ROOT and ADMIN.
    with pytest.raises(AccessDenied):
        as_user(bob).share_cube_with_user(cube, carol)
    assert all(c["cube_id"] != cube for c in root.get_user_info(carol)["accessible_cubes"])
    assert as_user(admin).share_cube_with_user(cube, carol)
    assert root.share_cube_with_user(cube, carol, permission="write")
    entry = next(c for c in root.get_user_info(carol)["accessible_cubes"] if c["cube_id"] == cube)
    assert entry["can_write"] is True


def test_share_with_unknown_user_or_bad_permission(root: MOS, uid: Callable[[str], str]) -> None:
    alice = make_user(root, uid, "alice")
    cube = root.create_cube_for_user("alice", owner_id=alice)
    with pytest.raises(NotFound):
        root.share_cube_with_user(cube, uid("nobody"))
    with pytest.raises(InvalidInput):
        root.share_cube_with_user(cube, alice)
    with pytest.raises(InvalidInput):
        root.share_cube_with_user(cube, root.create_user(uid("bob")), permission="admin")


def test_register_and_unregister(root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]) -> None:
    alice, bob = make_user(root, uid, "alice"), make_user(root, uid, "bob")
    cube = root.create_cube_for_user("alice", owner_id=alice)
    root.add(memory_content="football on saturdays", mem_cube_id=cube, user_id=alice)
    as_user(alice).share_cube_with_user(cube, bob)
    # Shared but not loaded: a search without install_cube_ids covers loaded cubes only.
    assert root.search("football", user_id=bob)["text_mem"] == []
    assert root.register_mem_cube(cube, user_id=bob) == cube
    assert [g["cube_id"] for g in root.search("football", user_id=bob)["text_mem"]] == [cube]
    root.unregister_mem_cube(cube, user_id=bob)
    assert root.search("football", user_id=bob)["text_mem"] == []
    with pytest.raises(NotFound):
        root.unregister_mem_cube(cube, user_id=bob)
    # Unregistering keeps the data.
    assert len(root.get_all(cube, user_id=alice)["text_mem"][0]["memories"]) == 1


@pytest.mark.parametrize("bad_name", ["", "   "])
def test_bad_cube_names_are_refused(root: MOS, runtime: Runtime, uid: Callable[[str], str], bad_name: str) -> None:
    alice = make_user(root, uid, "alice")
    with pytest.raises(InvalidInput):
        root.create_cube_for_user(bad_name, owner_id=alice)
    assert root.get_user_info(alice)["accessible_cubes"] == []

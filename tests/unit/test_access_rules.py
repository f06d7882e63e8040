"""The role table of mos-api.md section 2, as pure logic."""

from __future__ import annotations

import pytest

from memos_graph.domain import MemCube, Permission, User, UserRole
from memos_graph.services import access

CUBE = MemCube("c1", "cube", "owner", None, "", "m", 384)


def user(role: UserRole, user_id: str = "someone") -> User:
    return User(user_id, user_id, role, "")


@pytest.mark.parametrize(
    ("role", "is_owner", "shared", "can_read", "can_write"),
    [
        (UserRole.ROOT, False, None, True, True),
        (UserRole.ADMIN, False, None, True, False),
        (UserRole.ADMIN, True, None, True, True),
        (UserRole.ADMIN, False, Permission.WRITE, True, True),
        (UserRole.USER, True, None, True, True),
        (UserRole.USER, False, None, False, False),
        (UserRole.USER, False, Permission.READ, True, False),
        (UserRole.USER, False, Permission.WRITE, True, True),
        (UserRole.GUEST, False, None, False, False),
        (UserRole.GUEST, False, Permission.READ, True, False),
        (UserRole.GUEST, False, Permission.WRITE, True, False),
        (UserRole.GUEST, True, None, False, False),
    ],
)
def test_cube_access(
    role: UserRole, is_owner: bool, shared: Permission | None, can_read: bool, can_write: bool
) -> None:
    actor = user(role, "owner" if is_owner else "other")
    granted = access.cube_access(actor, CUBE, shared, is_loaded=False)
    assert (granted.can_read, granted.can_write, granted.is_owner) == (can_read, can_write, is_owner)


@pytest.mark.parametrize(
    ("role", "is_owner", "permission", "expected"),
    [
        (UserRole.ROOT, False, Permission.WRITE, True),
        (UserRole.ROOT, False, Permission.READ, True),
        (UserRole.ADMIN, False, Permission.READ, True),
        (UserRole.ADMIN, False, Permission.WRITE, False),  # the probe's hole: ADMIN handing out WRITE
        (UserRole.ADMIN, True, Permission.WRITE, True),
        (UserRole.USER, True, Permission.WRITE, True),
        (UserRole.USER, False, Permission.READ, False),
        (UserRole.GUEST, False, Permission.READ, False),
    ],
)
def test_may_share(role: UserRole, is_owner: bool, permission: Permission, expected: bool) -> None:
    assert access.may_share(user(role, "owner" if is_owner else "other"), CUBE, permission) is expected


def test_revoke_rules() -> None:
    assert access.may_revoke(user(UserRole.USER, "owner"), CUBE, "bob", Permission.WRITE)
    assert access.may_revoke(user(UserRole.USER, "bob"), CUBE, "bob", Permission.WRITE)  # leaving
    assert not access.may_revoke(user(UserRole.USER, "carol"), CUBE, "bob", Permission.READ)
    assert access.may_revoke(user(UserRole.ADMIN), CUBE, "bob", Permission.READ)
    assert not access.may_revoke(user(UserRole.ADMIN), CUBE, "bob", Permission.WRITE)


def test_user_management_rules() -> None:
    root, admin = user(UserRole.ROOT, "root"), user(UserRole.ADMIN, "admin")
    assert access.may_manage_user(root, user(UserRole.ADMIN, "a2"))
    assert not access.may_manage_user(root, root)
    assert access.may_manage_user(admin, user(UserRole.GUEST, "g"))
    assert not access.may_manage_user(admin, user(UserRole.ADMIN, "a2"))
    assert not access.may_manage_user(admin, root)
    assert not access.may_manage_user(user(UserRole.USER, "u"), user(UserRole.GUEST, "g"))
    assert access.may_reset_key(user(UserRole.GUEST, "g"), user(UserRole.GUEST, "g"))
    assert not access.may_reset_key(user(UserRole.USER, "u"), user(UserRole.GUEST, "g"))
    assert access.may_delete_cube(user(UserRole.USER, "owner"), CUBE)
    assert not access.may_delete_cube(admin, CUBE)
    assert access.may_delete_cube(root, CUBE)


def test_user_creation_rules() -> None:
    assert access.may_create_user(user(UserRole.ROOT), UserRole.ADMIN)
    assert not access.may_create_user(user(UserRole.ROOT), UserRole.ROOT)
    assert access.may_create_user(user(UserRole.ADMIN), UserRole.GUEST)
    assert not access.may_create_user(user(UserRole.ADMIN), UserRole.ADMIN)
    assert not access.may_create_user(user(UserRole.USER), UserRole.USER)
    assert not access.may_create_user(user(UserRole.GUEST), UserRole.GUEST)


def test_cube_creation_rules() -> None:
    alice, guest = user(UserRole.USER, "alice"), user(UserRole.GUEST, "guest")
    assert access.may_create_cube(alice, alice)
    assert not access.may_create_cube(alice, user(UserRole.USER, "bob"))
    assert access.may_create_cube(user(UserRole.ADMIN), alice)
    assert not access.may_create_cube(user(UserRole.ROOT), guest)
    assert not access.may_create_cube(guest, guest)


@pytest.mark.parametrize("role", list(UserRole))
def test_one_rule_says_which_roles_act_beyond_their_own_cubes(role: UserRole) -> None:
    privileged = role in (UserRole.ROOT, UserRole.ADMIN)
    actor = user(role)
    assert access.is_privileged(actor) is privileged
    assert access.sees_every_cube(actor) is privileged
    assert access.may_list_users(actor) is privileged
    assert access.may_create_cube(actor, user(UserRole.USER, "another")) is privileged


def test_who_is_handed_a_reset_key_and_who_sees_a_profile() -> None:
    root, admin = user(UserRole.ROOT, "root"), user(UserRole.ADMIN, "admin")
    dave, guest = user(UserRole.USER, "dave"), user(UserRole.GUEST, "g")
    assert access.receives_reset_key(root, dave) and access.receives_reset_key(root, admin)
    assert access.receives_reset_key(dave, dave) and access.receives_reset_key(admin, admin)
    assert not access.receives_reset_key(admin, dave) and not access.receives_reset_key(admin, guest)
    assert access.sees_profile(dave, "dave") and access.sees_profile(admin, "dave") and access.sees_profile(root, "g")
    assert not access.sees_profile(dave, "admin") and not access.sees_profile(guest, "dave")

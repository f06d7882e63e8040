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
    ("role", "is_owner", "expected"),
    [
        (UserRole.ROOT, False, True),
        (UserRole.ADMIN, False, True),
        (UserRole.USER, True, True),
        (UserRole.USER, False, False),
        (UserRole.GUEST, False, False),
    ],
)
def test_may_share(role: UserRole, is_owner: bool, expected: bool) -> None:
    assert access.may_share(user(role, "owner" if is_owner else "other"), CUBE) is expected


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

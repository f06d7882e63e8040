"""The role rules of mos-api.md section 2, as pure functions."""

from __future__ import annotations

from memos_graph.domain import CubeAccess, MemCube, Permission, User, UserRole

# The roles above USER: they read every cube, list users, manage other users and create cubes for them.
PRIVILEGED_ROLES = frozenset({UserRole.ROOT, UserRole.ADMIN})


def is_privileged(user: User) -> bool:
    """ROOT or ADMIN: the one place that says which roles act beyond their own cubes."""
    return user.role in PRIVILEGED_ROLES


def sees_every_cube(user: User) -> bool:
    """ROOT and ADMIN may read every cube."""
    return is_privileged(user)


def cube_access(user: User, cube: MemCube, shared: Permission | None, is_loaded: bool) -> CubeAccess:
    """What the user may do with the cube, given ownership, any share and the user's role."""
    is_owner = cube.owner_id == user.user_id
    if user.role is UserRole.GUEST:
        can_read, can_write = shared is not None, False
    elif user.role is UserRole.ROOT:
        can_read, can_write = True, True
    else:
        can_read = is_owner or shared is not None or user.role is UserRole.ADMIN
        can_write = is_owner or shared is Permission.WRITE
    return CubeAccess(cube, can_read, can_write, is_owner, is_loaded)


def may_share(user: User, cube: MemCube, permission: Permission) -> bool:
    """The owner and ROOT grant any permission; an ADMIN grants READ on any cube, never WRITE on another's."""
    if cube.owner_id == user.user_id or user.role is UserRole.ROOT:
        return True
    return user.role is UserRole.ADMIN and permission is Permission.READ


def may_revoke(user: User, cube: MemCube, target_id: str, current: Permission) -> bool:
    """Who may take a share back: whoever may grant it, and the user holding it (leaving the cube)."""
    return target_id == user.user_id or may_share(user, cube, current)


def may_manage_user(actor: User, target: User) -> bool:
    """Deactivate, reactivate, delete or reset the key of another user: ROOT any but ROOT, ADMIN USER and GUEST."""
    if target.role is UserRole.ROOT or actor.user_id == target.user_id:
        return False
    if actor.role is UserRole.ROOT:
        return True
    return actor.role is UserRole.ADMIN and target.role in (UserRole.USER, UserRole.GUEST)


def may_reset_key(actor: User, target: User) -> bool:
    """Reset a key: one's own (any role), or another user's as may_manage_user allows."""
    return actor.user_id == target.user_id or may_manage_user(actor, target)


def receives_reset_key(actor: User, target: User) -> bool:
    """Whether a key reset hands the new key to the actor: for one's own key, and for ROOT (who may do anything
    any user may). An ADMIN's reset of another user only revokes: were the key handed over, an ADMIN could act
    as every USER and GUEST, writing their cubes and granting itself WRITE."""
    return actor.user_id == target.user_id or actor.role is UserRole.ROOT


def sees_profile(viewer: User, user_id: str) -> bool:
    """Whether the viewer sees a user's name, role, creation time and status: its own, and (ROOT, ADMIN, who
    list users anyway) anyone's. Others appear by id alone (a cube's owner, a share's user)."""
    return viewer.user_id == user_id or may_list_users(viewer)


def may_delete_cube(user: User, cube: MemCube) -> bool:
    """The owner and ROOT delete a cube."""
    return cube.owner_id == user.user_id or user.role is UserRole.ROOT


def may_create_user(actor: User, role: UserRole) -> bool:
    """ROOT creates any non-root user; ADMIN creates USER and GUEST; nobody creates a second ROOT."""
    if role is UserRole.ROOT:
        return False
    if actor.role is UserRole.ROOT:
        return True
    return actor.role is UserRole.ADMIN and role in (UserRole.USER, UserRole.GUEST)


def may_list_users(actor: User) -> bool:
    """ROOT and ADMIN list users."""
    return is_privileged(actor)


def may_create_cube(actor: User, owner: User) -> bool:
    """ROOT and ADMIN create cubes for anyone but a guest; a USER only for itself; a GUEST never."""
    if owner.role is UserRole.GUEST:
        return False
    if is_privileged(actor):
        return True
    return actor.role is UserRole.USER and actor.user_id == owner.user_id

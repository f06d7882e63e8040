"""Users, roles, cubes and what a user may do with a cube."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UserRole(StrEnum):
    """The four roles of the MOS API; see mos-api.md section 2 for what each may do."""

    ROOT = "root"
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"


class Permission(StrEnum):
    """What a SHARED_WITH edge grants."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class User:
    """A user node."""

    user_id: str
    user_name: str
    role: UserRole
    created_at: str
    is_active: bool = True
    # Immutable and never reused (a random UUID given at creation): what a dump's manifest names, so a later
    # user created with the same id owns none of an earlier one's dumps.
    uid: str = ""


@dataclass(frozen=True)
class MemCube:
    """A memory cube node and its owner."""

    cube_id: str
    cube_name: str
    owner_id: str
    cube_path: str | None
    created_at: str
    embedding_model: str
    embedding_dim: int
    is_active: bool = True


@dataclass(frozen=True)
class CubeAccess:
    """What one user may do with one cube, derived from ownership, sharing and role."""

    cube: MemCube
    can_read: bool
    can_write: bool
    is_owner: bool
    is_loaded: bool


@dataclass(frozen=True)
class KeyChange:
    """The stored record of a user's latest API-key change: when, by whom, and how (rotate: one's own new key;
    reset: ROOT's, the key handed to ROOT; revoke: an ADMIN's, no key for anyone; root_key_apply: the operator's)."""

    at: str
    by: str
    action: str

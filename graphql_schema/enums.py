"""GraphQL enums: roles, share permissions, a memory's status, source kind and derivation kind."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What a user may do; see the role table in docs/access.md.")
class Role(Enum):
    ROOT = "root"
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"


@strawberry.enum(description="What a share grants.")
class SharePermission(Enum):
    READ = "read"
    WRITE = "write"


@strawberry.enum(name="MemoryStatus", description="A memory's lifecycle state.")
class MemoryStatusEnum(Enum):
    ACTIVATED = "activated"
    ARCHIVED = "archived"
    DELETED = "deleted"


@strawberry.enum(description="Where a memory came from, as MemOS names it (metadata.source); OTHER for any other text.")
class MemorySourceKind(Enum):
    CONVERSATION = "conversation"
    RETRIEVED = "retrieved"
    WEB = "web"
    FILE = "file"
    SYSTEM = "system"
    OTHER = "other"


def source_kind(source: str | None) -> MemorySourceKind | None:
    if source is None:
        return None
    try:
        return MemorySourceKind(source)
    except ValueError:
        return MemorySourceKind.OTHER


@strawberry.enum(description="What a DERIVED_FROM edge records.")
class DerivationKind(Enum):
    MESSAGE = "message"
    DOCUMENT = "document"
    UPDATE = "update"

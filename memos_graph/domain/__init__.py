"""Frozen domain models: users, cubes, memories. No I/O and no project imports."""

from memos_graph.domain.memory import (
    MemoryStatus,
    MemoryType,
    SourceReference,
    TextualMemoryItem,
    TextualMemoryMetadata,
)
from memos_graph.domain.users import CubeAccess, MemCube, Permission, User, UserRole

__all__ = [
    "CubeAccess",
    "MemCube",
    "MemoryStatus",
    "MemoryType",
    "Permission",
    "SourceReference",
    "TextualMemoryItem",
    "TextualMemoryMetadata",
    "User",
    "UserRole",
]

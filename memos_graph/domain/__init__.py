"""Frozen domain models: users, cubes, memories. No I/O and no project imports."""

from memos_graph.domain.filters import NO_FILTER, Direction, MemoryFilter, MemoryOrder, OrderField
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
    "Direction",
    "MemoryFilter",
    "MemoryOrder",
    "NO_FILTER",
    "OrderField",
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

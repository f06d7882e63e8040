"""Typed results of the read operations; the MOS facade turns them into MemOS's dict shapes at its edge."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from memos_graph.domain.memory import TextualMemoryItem
from memos_graph.domain.users import CubeAccess, User


@dataclass(frozen=True)
class CubeMemories:
    """One cube's memories in a result, in the result's order (best first for a search)."""

    cube_id: str
    memories: tuple[TextualMemoryItem, ...]


@dataclass(frozen=True)
class MemoryResults:
    """Textual memories grouped by cube, cubes in the order they were searched (MemOS's text_mem; this server
    has no activation or parametric memories)."""

    cubes: tuple[CubeMemories, ...]

    def items(self) -> Iterator[TextualMemoryItem]:
        """Every memory of every cube, cube by cube."""
        for group in self.cubes:
            yield from group.memories


@dataclass(frozen=True)
class UserInfo:
    """A user and every cube it may read."""

    user: User
    accessible_cubes: tuple[CubeAccess, ...]


@dataclass(frozen=True)
class VersionPage:
    """A page of a memory's history, newest first, and whether any version lies before the first."""

    items: list[TextualMemoryItem]
    has_previous: bool

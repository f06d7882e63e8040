"""An import's version history, checked to be what updates make: one linear chain per memory.

An update copies the memory's state into a MemoryVersion that the memory points to with DERIVED_FROM
{kind: 'update'}; the version before hangs off that one. So in the graph every memory starts at most one
chain, every version has exactly one predecessor, and no chain branches, joins or loops. History reads
follow these edges: a file that joins chains (a "diamond" of versions) would make them enumerate paths
exponentially. VersionChains holds an import to that shape before anything is written; it keeps one entry
per version (its successor and predecessor), never the edges themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from memos_graph.cube_format.entries import TEXTUAL_MEMORY_FILE
from memos_graph.errors import InvalidInput


class VersionChains:
    """The DERIVED_FROM update edges of a file (memory -> newest version -> ... -> oldest), checked as they
    come (link) and once all are read (check)."""

    def __init__(self) -> None:
        self._earlier: dict[str, str] = {}  # a memory or version -> the state before it
        self._later: dict[str, str] = {}  # a version -> the memory or version after it

    def link(self, index: int, source: str, target: str) -> None:
        """One edge `source` -[:DERIVED_FROM]-> `target` (file ids); a repeat of an edge is ignored."""
        where = f"{TEXTUAL_MEMORY_FILE}: edges[{index}]"
        if self._earlier.get(source) == target:
            return
        if source in self._earlier:
            raise InvalidInput(
                f"{where}: {source} already derives from another version; a memory's history must be one chain "
                "(each state derives from at most one earlier version)"
            )
        if target in self._later:
            raise InvalidInput(
                f"{where}: version {target} already follows another state; a memory's history must be one chain "
                "(each version is the earlier state of exactly one memory or version)"
            )
        self._earlier[source] = target
        self._later[target] = source

    def check(self, memories: Iterable[str], versions: Mapping[str, str], max_versions: int) -> set[str]:
        """Every version (file id -> the id of the memory it names) lies on the chain of its own memory, and no
        chain is longer than `max_versions` (limits.max_versions, what updates keep); the memories that have
        earlier versions. InvalidInput otherwise (a loop, a stray or foreign version, a history too long)."""
        reached: set[str] = set()
        heads: set[str] = set()
        for memory in memories:
            state = self._earlier.get(memory)
            if state is not None:
                heads.add(memory)
            # Memories have no predecessor and every version at most one (link), so this walk cannot loop.
            length = 0
            while state is not None:
                length += 1
                if length > max_versions:
                    raise InvalidInput(
                        f"{TEXTUAL_MEMORY_FILE}: memory {memory} has more than {max_versions} earlier versions; "
                        "a memory keeps at most limits.max_versions"
                    )
                if versions.get(state) != memory:
                    raise InvalidInput(
                        f"{TEXTUAL_MEMORY_FILE}: {state} is in the history of memory {memory} but is not a version "
                        "of it (its metadata.memory_id names another memory)"
                    )
                reached.add(state)
                state = self._earlier.get(state)
        if len(reached) != len(versions):
            stray = next(version for version in versions if version not in reached)
            raise InvalidInput(
                f"{TEXTUAL_MEMORY_FILE}: version {stray} is not on its memory's history: every version must be "
                "reached from its memory by DERIVED_FROM edges (memory -> newest version -> ... -> oldest)"
            )
        return heads

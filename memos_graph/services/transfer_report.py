"""What a dump wrote or an import stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TransferReport:
    """What a dump wrote or an import stored."""

    cube_id: str
    path: str
    memories: int
    versions: int
    messages: int
    documents: int
    edges: int
    reembedded: bool = False
    merged_duplicates: int = 0
    new_ids: bool = False
    # Entries of the cube's working set (MemOS's WorkingMemory copies of memories).
    working: int = 0
    # Sources that were text, not source entries (nor JSON of one): kept verbatim as text sources.
    undecoded_sources: int = 0

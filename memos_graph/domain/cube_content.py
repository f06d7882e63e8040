"""A whole cube as values, in both directions: what an export reads out of the graph, what an import writes.

The graph layer turns these into node properties and back; dump and import services and the cube-directory
format (memos_graph/cube_format/) see only these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from memos_graph.domain.memory import TextualMemoryItem, TextualMemoryMetadata


class EdgeKind(StrEnum):
    """The edges memos-graph stores, by the kinds of node they join."""

    MEMORY_MESSAGE = "memory_message"  # (:Memory)-[:DERIVED_FROM {kind:'message'}]->(:Message)
    MEMORY_DOCUMENT = "memory_document"  # (:Memory)-[:DERIVED_FROM {kind:'document'}]->(:Document)
    MEMORY_VERSION = "memory_version"  # (:Memory)-[:DERIVED_FROM {kind:'update'}]->(:MemoryVersion)
    VERSION_VERSION = "version_version"  # (:MemoryVersion)-[:DERIVED_FROM {kind:'update'}]->(:MemoryVersion)
    MESSAGE_NEXT = "message_next"  # (:Message)-[:NEXT]->(:Message)
    RELATED = "related"  # (:Memory)-[:RELATED_TO {type}]->(:Memory): MemOS's own edge types (PARENT, ...)


# -- read out of the graph (dump) ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportedVersion:
    """An earlier version of a memory: its text and metadata (under its own id), whose memory it is, when
    it was replaced (ISO text)."""

    item: TextualMemoryItem
    memory_id: str
    archived_at: str | None


@dataclass(frozen=True)
class ProvenanceNode:
    """A message or document a memory derives from: its kind ("message" or "document"), its key in the cube,
    and its properties as stored (scalars, timestamps as ISO text)."""

    kind: str
    key: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class ExportedEdge:
    """An edge of the cube: ends named by kind and id (memories, versions) or key (messages, documents)."""

    source_kind: str
    source: str
    target_kind: str
    target: str
    type: str
    related_type: str | None
    at: str | None


class CubeSnapshot(Protocol):
    """A cube read in one consistent pass: each part streamed once, in this order."""

    def memories(self) -> Iterator[TextualMemoryItem]:
        """The cube's memories, oldest first, each with its vector (metadata.embedding)."""
        ...

    def versions(self) -> Iterator[ExportedVersion]:
        """Every earlier version of the cube's memories."""
        ...

    def working(self) -> Iterator[TextualMemoryItem]:
        """The cube's working set (MemOS's WorkingMemory nodes), in its order: each entry under its own id,
        with the text and metadata of the memory it holds and memory_type WorkingMemory."""
        ...

    def provenance(self) -> Iterator[ProvenanceNode]:
        """The cube's messages and documents."""
        ...

    def edges(self) -> Iterator[ExportedEdge]:
        """Every edge starting at a node of the cube."""
        ...


# -- written into the graph (import) ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedMemory:
    """A memory (or, with `memory_id` and `archived_at`, an earlier version of one) as an import stores it."""

    id: str
    memory: str
    metadata: TextualMemoryMetadata  # the metadata except the server-kept fields below
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    content_hash: str
    embedding: list[float] | None = None
    memory_id: str | None = None  # versions: the memory they are a version of
    archived_at: dt.datetime | None = None  # versions: when they were replaced


@dataclass(frozen=True)
class ImportedEdge:
    """An edge between two nodes of the import: graph ids (memories, versions) or keys (messages, documents)."""

    kind: EdgeKind
    source: str
    target: str
    at: dt.datetime | None = None  # update edges: when the version was replaced
    type: str | None = None  # related edges: MemOS's edge type


@dataclass(frozen=True)
class ImportedWorking:
    """An entry of the cube's working set (a MemOS WorkingMemory node): its own id, the memory holding its text,
    its place in the set, and its own times."""

    id: str
    memory_id: str
    position: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass
class ImportBatch:
    """What one import transaction writes."""

    memories: list[ImportedMemory] = field(default_factory=list)
    versions: list[ImportedMemory] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)  # properties: key, content, role, ...
    documents: list[dict[str, Any]] = field(default_factory=list)  # properties: key, path, ...
    edges: list[ImportedEdge] = field(default_factory=list)
    working: list[ImportedWorking] = field(default_factory=list)

    def size(self) -> int:
        """Nodes, edges and working entries in the batch (for progress)."""
        nodes = len(self.memories) + len(self.versions) + len(self.messages) + len(self.documents)
        return nodes + len(self.edges) + len(self.working)


@dataclass(frozen=True)
class ImportedCube:
    """The cube an import creates or claims: its name, the directory it came from, the embedder of its vectors."""

    name: str
    path: str
    embedding_model: str
    embedding_dim: int

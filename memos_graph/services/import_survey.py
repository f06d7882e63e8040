"""Pass 1 of a cube import (see services/cube_import.py): every entry of textual_memory.json parsed and checked
under the limits an add or update puts on what it stores, then every edge against the node ids, keeping only
what the plan needs per node; and the checks pass 2 repeats on the same entries (times, plain properties)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from memos_graph.config import LimitSettings
from memos_graph.cube_format.entries import (
    KIND_KEY,
    TEXTUAL_MEMORY_FILE,
    CubeEdge,
    CubeNode,
    CubeSource,
    NodeKind,
    SourceTally,
    check_total,
    parse_edge,
    parse_entry,
    repeated_id,
)
from memos_graph.cube_format.reader import TREE_TEXT, FileShape, TextualMemoryFile
from memos_graph.domain.cube_content import EdgeKind
from memos_graph.domain.memory import MemoryType, TextualMemoryMetadata, canonical_uuid
from memos_graph.errors import InvalidInput
from memos_graph.services.metadata_checks import check_imported_metadata, check_provenance_node
from memos_graph.services.validation import content_hash, is_usable_vector
from memos_graph.services.version_chains import VersionChains

# A metadata key of the file that the graph keeps for itself (the import sets them).
SERVER_KEYS = frozenset(
    {"created_at", "updated_at", "version", "relativity", "embedding", KIND_KEY, "memory_id", "archived_at"}
)


@dataclass(slots=True)
class SurveyedNode:
    """What pass 1 keeps of one node entry."""

    kind: NodeKind
    id: str  # the id in the file
    digest: str | None = None  # memories: the content hash (duplicates are merged by it)
    key: str | None = None  # messages and documents: their key in the graph
    vector: bool = False  # memories: a stored vector of the configured dimension that search can use
    memory_id: str | None = None  # versions: the file id of the memory they are a version of
    # memories: a MemOS WorkingMemory node (an entry of the working set), with its own times
    working: bool = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass
class ImportSurvey:
    """Pass 1's result: every entry checked, and what the plan needs of it."""

    source: CubeSource
    file: TextualMemoryFile
    digest: bytes
    nodes: list[SurveyedNode] = field(default_factory=list)
    kinds: dict[str, NodeKind] = field(default_factory=dict)  # file id -> kind, for the edges
    edge_count: int = 0  # the file's edges (each checked, none kept)
    chained: set[str] = field(default_factory=set)  # file ids of memories that have earlier versions
    undecoded_sources: int = 0

    @classmethod
    def take(
        cls, source: CubeSource, file: TextualMemoryFile, shape: FileShape, limits: LimitSettings, dimension: int
    ) -> ImportSurvey:
        """Check every node entry (pass 1), then every edge, read one by one; the first bad one is refused."""
        survey = cls(source, file, shape.digest, edge_count=shape.edge_count)
        tally = SourceTally()
        for index, entry in file.entries(source.backend):
            node = parse_entry(source.backend, index, entry, limits.max_memory_chars, tally)
            if node.id in survey.kinds:
                raise repeated_id(index, node.id)
            survey.kinds[node.id] = node.kind
            survey.nodes.append(_survey_node(_place(source.backend, index, node), node, dimension, limits))
        if file.last_digest != shape.digest:
            raise changed_file()
        if source.backend == TREE_TEXT:
            check_total(shape.total_nodes, "total_nodes", len(survey.nodes))
            check_total(shape.total_edges, "total_edges", shape.edge_count)
        survey.chained = survey._check_edges(limits.max_versions)
        survey.undecoded_sources = tally.undecoded
        return survey

    def edges(self) -> Iterator[CubeEdge]:
        """The file's edges, read again one by one and parsed against the surveyed nodes."""
        read = 0
        if self.edge_count:
            for index, raw in self.file.edges():
                read += 1
                yield parse_edge(index, raw, self.kinds)
            if self.file.last_digest != self.digest:
                raise changed_file()
        if read != self.edge_count:
            raise changed_file()

    def _check_edges(self, max_versions: int) -> set[str]:
        """Every edge's ends among the nodes, and the version edges one chain per memory of at most
        `max_versions` versions (see VersionChains); the memories with earlier versions."""
        chains = VersionChains()
        for index, edge in enumerate(self.edges()):
            if edge.kind in (EdgeKind.MEMORY_VERSION, EdgeKind.VERSION_VERSION):
                timestamp(edge.at, f"edges[{index}]: at")
                chains.link(index, edge.source, edge.target)
        memories = [node.id for node in self.nodes if node.kind is NodeKind.MEMORY]
        versions = {node.id: str(node.memory_id) for node in self.nodes if node.kind is NodeKind.VERSION}
        return chains.check(memories, versions, max_versions)

    def memory_ids(self) -> list[str]:
        """The file's ids of memories and versions (the ones that become graph ids)."""
        return [node.id for node in self.nodes if node.kind in (NodeKind.MEMORY, NodeKind.VERSION)]

    def all_vectors_stored(self) -> bool:
        return all(node.vector for node in self.nodes if node.kind is NodeKind.MEMORY)


def _check_times(node: CubeNode, where: str) -> None:
    for key in ("created_at", "updated_at"):
        timestamp(node.metadata.get(key), f"{where}: metadata.{key}")


def _place(backend: str, index: int, node: CubeNode) -> str:
    """An entry as errors name it: its position, its kind, and its id when that is a UUID (other ids are the
    file's own text, which errors never quote)."""
    position = f"entry [{index}]" if backend != TREE_TEXT else f"nodes[{index}]"
    shown = f" {node.id}" if canonical_uuid(node.id) == node.id else ""
    return f"{position} ({node.kind}{shown})"


def _survey_node(where: str, node: CubeNode, dimension: int, limits: LimitSettings) -> SurveyedNode:
    """Everything pass 2 will turn into rows, checked now (rows are built again then, and thrown away here),
    under the limits add and update put on what they store."""
    try:
        if node.kind in (NodeKind.MEMORY, NodeKind.VERSION):
            _check_times(node, where)  # the metadata itself was validated by parse_entry
            check_imported_metadata(_metadata(node), limits)
        if node.kind is NodeKind.MEMORY:
            usable = node.vector is not None and len(node.vector) == dimension and is_usable_vector(node.vector)
            surveyed = SurveyedNode(node.kind, node.id, digest=content_hash(node.memory), vector=usable)
            if node.metadata.get("memory_type") == MemoryType.WORKING.value:
                surveyed.working = True
                surveyed.created_at = timestamp(node.metadata.get("created_at"), f"{where}: metadata.created_at")
                surveyed.updated_at = timestamp(node.metadata.get("updated_at"), f"{where}: metadata.updated_at")
            return surveyed
        if node.kind is NodeKind.VERSION:
            timestamp(node.metadata.get("archived_at"), f"{where}: metadata.archived_at")
            memory_id = str(node.metadata["memory_id"])
            return SurveyedNode(node.kind, node.id, memory_id=canonical_uuid(memory_id) or memory_id)
        properties = plain_properties(node.metadata, where)
        times = ("created_at", "updated_at")  # parsed by _plain_properties, bounded as times
        plain = {key: value for key, value in properties.items() if key not in times}
        check_provenance_node(node.kind.value, node.memory, plain, limits)
        return SurveyedNode(node.kind, node.id, key=str(properties["key"]))
    except InvalidInput as exc:
        if exc.message.startswith(TEXTUAL_MEMORY_FILE):
            raise
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where}: {exc.message}") from None


def changed_file() -> InvalidInput:
    """The error of a file that changed between the passes."""
    return InvalidInput(f"{TEXTUAL_MEMORY_FILE} changed while it was being imported: nothing was kept; import it again")


def timestamp(value: object, where: str) -> dt.datetime | None:
    """A time of the file (ISO 8601, UTC when it names no zone); InvalidInput naming `where` otherwise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where} must be an ISO 8601 time string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where} is not an ISO 8601 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def plain_properties(metadata: dict[str, Any], where: str) -> dict[str, Any]:
    """Message and document metadata as node properties: scalars or lists of scalars only."""
    properties: dict[str, Any] = {}
    for key, value in metadata.items():
        if key in ("cube_id", "import_id", "status"):
            continue
        scalar = (str, int, float, bool)
        if (
            value is None
            or isinstance(value, scalar)
            or (isinstance(value, list) and all(isinstance(item, scalar) for item in value))
        ):
            properties[key] = value
        else:
            raise InvalidInput(
                f"{TEXTUAL_MEMORY_FILE}: {where}: a metadata value must be a scalar or a list of scalars"
            )
    for key in ("created_at", "updated_at"):
        if key in properties:
            properties[key] = timestamp(properties[key], f"{where}: metadata.{key}")
    return {key: value for key, value in properties.items() if value is not None}


def _metadata(node: CubeNode) -> TextualMemoryMetadata:
    """A memory's (or version's) metadata as the file gives it, without what the server sets itself."""
    return TextualMemoryMetadata.model_validate(
        {key: value for key, value in node.metadata.items() if key not in SERVER_KEYS}
    )

"""A cube import in two passes over textual_memory.json, so its memory stays flat however big the file is.

Pass 1 (`survey`) parses and checks every entry and every edge, keeping only what the plan needs per node
(kind, id, content hash, key, whether a usable vector is stored): any bad entry is refused here, before
anything is written. `ImportPlan.build` then settles ids (renamed when the graph holds them), merges texts
the file repeats, and turns edges into rows between the new ids. Pass 2 (`ImportPlan.batches`) reads the
file again and yields ready batches: node rows in file order (memories embedded batch by batch when their
vectors cannot be reused), then the edges. If the file changed in between (other bytes, other ids), pass 2
refuses, and the caller discards what it wrote.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from queue import Full, Queue
from typing import Any, TypeVar

from pydantic import ValidationError

from memos_graph.domain.cube_directory import (
    KIND_KEY,
    TEXTUAL_MEMORY_FILE,
    CubeEdge,
    CubeFormatError,
    CubeNode,
    CubeSource,
    EdgeKind,
    NodeKind,
    SourceTally,
    check_total,
    parse_edge,
    parse_entry,
    repeated_id,
)
from memos_graph.domain.memory import TextualMemoryMetadata
from memos_graph.errors import InvalidInput
from memos_graph.graph.memories import SERVER_FIELDS, cube_key, metadata_properties
from memos_graph.graph.transfer import ImportBatch
from memos_graph.services.cube_reader import TREE_TEXT, FileShape, TextualMemoryFile
from memos_graph.services.validation import content_hash

# Ids of message and document nodes in a dump (they are keyed by (cube, key) in the graph).
PROVENANCE_NAMESPACE = uuid.UUID("6f1d7c52-4b8e-4f7a-9d38-2c1f0e6a9b41")
# Batches read (and embedded) ahead of the one being written.
PREFETCH_DEPTH = 2
T = TypeVar("T")
# Message and document rows are small: this many times the batch size of them go in one transaction.
SMALL_ROWS_FACTOR = 5


@dataclass(slots=True)
class SurveyedNode:
    """What pass 1 keeps of one node entry."""

    kind: NodeKind
    id: str  # the id in the file
    digest: str | None = None  # memories: the content hash (duplicates are merged by it)
    key: str | None = None  # messages and documents: their key in the graph
    vector: bool = False  # memories: a stored vector of the configured dimension


@dataclass
class ImportSurvey:
    """Pass 1's result: every entry checked, and what the plan needs of it."""

    source: CubeSource
    file: TextualMemoryFile
    digest: bytes
    nodes: list[SurveyedNode] = field(default_factory=list)
    edges: list[CubeEdge] = field(default_factory=list)
    undecoded_sources: int = 0

    @classmethod
    def take(
        cls, source: CubeSource, file: TextualMemoryFile, shape: FileShape, max_memory_chars: int, dimension: int
    ) -> ImportSurvey:
        """Check every node entry (pass 1) and the edges the shape pass read; the first bad one is refused."""
        survey = cls(source, file, shape.digest)
        tally = SourceTally()
        kinds: dict[str, NodeKind] = {}
        for index, entry in file.entries(source.backend):
            node = parse_entry(source.backend, index, entry, max_memory_chars, tally)
            if node.id in kinds:
                raise repeated_id(index, node.id)
            kinds[node.id] = node.kind
            survey.nodes.append(_survey_node(node, dimension))
        if file.last_digest != shape.digest:
            raise changed_file()
        if source.backend == TREE_TEXT:
            check_total(shape.total_nodes, "total_nodes", len(survey.nodes))
            check_total(shape.total_edges, "total_edges", len(shape.edges))
        for index, raw in enumerate(shape.edges):
            edge = parse_edge(index, raw, kinds)
            if edge.kind in (EdgeKind.MEMORY_VERSION, EdgeKind.VERSION_VERSION):
                _timestamp(edge.at, f"edge {edge.source} -> {edge.target}: at")
            survey.edges.append(edge)
        survey.undecoded_sources = tally.undecoded
        return survey

    def memory_ids(self) -> list[str]:
        """The file's ids of memories and versions (the ones that become graph ids)."""
        return [node.id for node in self.nodes if node.kind in (NodeKind.MEMORY, NodeKind.VERSION)]

    def all_vectors_stored(self) -> bool:
        return all(node.vector for node in self.nodes if node.kind is NodeKind.MEMORY)


def _check_times(node: CubeNode, where: str) -> None:
    for key in ("created_at", "updated_at"):
        _timestamp(node.metadata.get(key), f"{where}: metadata.{key}")


def _survey_node(node: CubeNode, dimension: int) -> SurveyedNode:
    """Everything pass 2 will turn into rows, checked now (rows are built again then, and thrown away here)."""
    where = f"{node.kind} {node.id}"
    if node.kind is NodeKind.MEMORY:
        _check_times(node, where)  # the metadata itself was validated by parse_entry
        usable = node.vector is not None and len(node.vector) == dimension
        return SurveyedNode(node.kind, node.id, digest=content_hash(node.memory), vector=usable)
    if node.kind is NodeKind.VERSION:
        _check_times(node, where)
        _timestamp(node.metadata.get("archived_at"), f"{where}: metadata.archived_at")
        return SurveyedNode(node.kind, node.id)
    properties = _plain_properties(node.metadata, where)
    return SurveyedNode(node.kind, node.id, key=str(properties["key"]))


def changed_file() -> InvalidInput:
    return InvalidInput(
        f"{TEXTUAL_MEMORY_FILE} changed while it was being imported: nothing was kept; import it again"
    )


@dataclass
class ImportPlan:
    """Ids settled, duplicates merged, edge rows ready; `batches` streams the rows (pass 2)."""

    survey: ImportSurvey
    cube_id: str
    rename: Callable[[str], str]
    reembedded: bool
    new_ids: bool
    alias: dict[str, str]  # file id -> graph id (memories, versions) or key (messages, documents)
    kept: list[bool]  # per node: False for a memory whose text an earlier memory of the file has
    edges: list[tuple[str, dict[str, Any]]]
    counts: dict[NodeKind, int]

    @classmethod
    def build(cls, survey: ImportSurvey, cube_id: str, taken: bool, reuse_vectors: bool) -> ImportPlan:
        """The plan for `survey` into `cube_id`; `taken`: the graph holds some of its ids (all are renamed)."""
        rename = _renamer(cube_id) if taken else _same
        alias: dict[str, str] = {}
        by_hash: dict[str, str] = {}
        kept: list[bool] = []
        counts = dict.fromkeys(NodeKind, 0)
        for node in survey.nodes:
            keep = True
            if node.kind is NodeKind.MEMORY:
                assert node.digest is not None
                if node.digest in by_hash:
                    alias[node.id], keep = by_hash[node.digest], False
                else:
                    alias[node.id] = by_hash[node.digest] = rename(node.id)
            elif node.kind is NodeKind.VERSION:
                alias[node.id] = rename(node.id)
            else:
                assert node.key is not None
                alias[node.id] = node.key
            kept.append(keep)
            counts[node.kind] += keep
        edges: list[tuple[str, dict[str, Any]]] = []
        seen: set[tuple[str, str, str, str]] = set()
        for edge in survey.edges:
            row = _edge_row(edge, alias)
            identity = (edge.kind.value, row["source"], row["target"], str(row.get("type")))
            if row["source"] == row["target"] or identity in seen:
                continue  # duplicates merged into one memory leave self-loops and repeats behind
            seen.add(identity)
            edges.append((edge.kind.value, row))
        return cls(survey, cube_id, rename, not reuse_vectors, taken, alias, kept, edges, counts)

    @property
    def merged(self) -> int:
        """Memories of the file merged into an earlier one with the same text."""
        return sum(1 for node in self.survey.nodes if node.kind is NodeKind.MEMORY) - self.counts[NodeKind.MEMORY]

    def items(self) -> int:
        """Nodes and edges the import writes (for progress)."""
        return sum(self.counts.values()) + len(self.edges)

    def batches(
        self, size: int, max_memory_chars: int, embed: Callable[[list[str]], list[list[float]]]
    ) -> Iterator[ImportBatch]:
        """Pass 2: node rows in file order, `size` nodes a batch (memories embedded per batch when their
        vectors are not reused), then the edges, `size` * SMALL_ROWS_FACTOR a batch."""
        now = dt.datetime.now(dt.UTC)
        file, nodes = self.survey.file, self.survey.nodes
        batch, pending = ImportBatch(), 0.0
        memory_index = read = 0
        for index, entry in file.entries(self.survey.source.backend):
            read += 1
            try:  # pass 1 validated these bytes: a failure now means they changed (the metadata is checked below)
                node = parse_entry(self.survey.source.backend, index, entry, max_memory_chars, SourceTally(), False)
            except CubeFormatError:
                raise changed_file() from None
            if index >= len(nodes) or nodes[index].id != node.id:
                raise changed_file()
            if node.kind is NodeKind.MEMORY:
                memory_index += 1
                if not self.kept[index]:
                    continue
                default_time = now + dt.timedelta(microseconds=memory_index - 1)
                batch.memories.append(self._memory_row(node, default_time))
                pending += 1
            elif node.kind is NodeKind.VERSION:
                batch.versions.append(self._version_row(node, now))
                pending += 1
            else:
                properties = _plain_properties(node.metadata, f"{node.kind} {node.id}")
                (batch.messages if node.kind is NodeKind.MESSAGE else batch.documents).append(properties)
                pending += 1 / SMALL_ROWS_FACTOR
            if pending >= size:
                yield self._embedded(batch, embed)
                batch, pending = ImportBatch(), 0.0
        if file.last_digest != self.survey.digest or read != len(nodes):
            raise changed_file()
        if pending:
            yield self._embedded(batch, embed)
        step = size * SMALL_ROWS_FACTOR
        for start in range(0, len(self.edges), step):
            edges = ImportBatch()
            for kind, row in self.edges[start : start + step]:
                edges.edges.setdefault(kind, []).append(row)
            yield edges

    def _embedded(self, batch: ImportBatch, embed: Callable[[list[str]], list[list[float]]]) -> ImportBatch:
        if self.reembedded and batch.memories:
            vectors = embed([str(row["properties"]["memory"]) for row in batch.memories])
            for row, vector in zip(batch.memories, vectors, strict=True):
                row["embedding"] = vector
        return batch

    def _memory_row(self, node: CubeNode, default_time: dt.datetime) -> dict[str, Any]:
        properties = _checked_properties(node, f"memory {node.id}", default_time)
        properties.update(
            id=self.alias[node.id],
            content_hash=content_hash(node.memory),
            cube_id=self.cube_id,
            cube_key=cube_key(self.cube_id),
        )
        return {"properties": properties, "embedding": None if self.reembedded else node.vector}

    def _version_row(self, node: CubeNode, now: dt.datetime) -> dict[str, Any]:
        where = f"version {node.id}"
        properties = _checked_properties(node, where, now)
        memory_id = str(node.metadata["memory_id"])
        properties.update(
            id=self.alias[node.id],
            memory_id=self.alias.get(memory_id, self.rename(memory_id)),
            content_hash=content_hash(node.memory),
            cube_id=self.cube_id,
            cube_key=cube_key(self.cube_id),
            status="archived",
            archived_at=_timestamp(node.metadata.get("archived_at"), f"{where}: metadata.archived_at") or now,
        )
        return properties


def prefetched(items: Iterator[T], depth: int = PREFETCH_DEPTH) -> Iterator[T]:
    """`items` produced on a thread of their own, at most `depth` ahead: the next batch is read (and
    embedded) while the caller writes the current one. The producer's error is raised to the caller; a caller
    that stops early (an error of its own) stops the producer before returning."""
    queue: Queue[tuple[bool, T | BaseException | None]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, T | BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the caller, whatever it is
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    context = contextvars.copy_context()  # the caller's deadline and logging context
    thread = threading.Thread(target=context.run, args=(produce,), name="memos-import-read", daemon=True)
    thread.start()
    try:
        while True:
            more, value = queue.get()
            if not more:
                if isinstance(value, BaseException):
                    raise value
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


def batch_size(batch: ImportBatch) -> int:
    """Items (nodes and edges) in a batch, for progress."""
    nodes = len(batch.memories) + len(batch.versions) + len(batch.messages) + len(batch.documents)
    return nodes + sum(len(edges) for edges in batch.edges.values())


def _same(node_id: str) -> str:
    return node_id


def _renamer(cube_id: str) -> Callable[[str], str]:
    """New ids for an import whose ids the graph already holds: stable per (target cube, old id)."""
    namespace = uuid.uuid5(PROVENANCE_NAMESPACE, cube_id)
    return lambda node_id: str(uuid.uuid5(namespace, node_id))


def _timestamp(value: object, where: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where} must be an ISO 8601 time string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where} is not an ISO 8601 time: {value[:40]!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _plain_properties(metadata: dict[str, Any], where: str) -> dict[str, Any]:
    """Message and document metadata as node properties: scalars or lists of scalars only."""
    properties: dict[str, Any] = {}
    for key, value in metadata.items():
        if key in ("cube_id", "import_id", "status"):
            continue
        scalar = (str, int, float, bool)
        if value is None or isinstance(value, scalar) or (
            isinstance(value, list) and all(isinstance(item, scalar) for item in value)
        ):
            properties[key] = value
        else:
            raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where}: metadata.{key} must be a scalar or a list of scalars")
    for key in ("created_at", "updated_at"):
        if key in properties:
            properties[key] = _timestamp(properties[key], f"{where}: metadata.{key}")
    return {key: value for key, value in properties.items() if value is not None}


def _checked_properties(node: CubeNode, where: str, default_time: dt.datetime) -> dict[str, Any]:
    """Pass 2's node properties; metadata that no longer validates means the file changed since pass 1."""
    try:
        return _memory_properties(node, where, default_time)
    except (ValidationError, InvalidInput):
        raise changed_file() from None


def _memory_properties(node: CubeNode, where: str, default_time: dt.datetime) -> dict[str, Any]:
    fields = {key: value for key, value in node.metadata.items() if key not in SERVER_FIELDS | {KIND_KEY}}
    fields.pop("memory_id", None)
    fields.pop("archived_at", None)
    metadata = TextualMemoryMetadata.model_validate(fields)
    properties = metadata_properties(metadata)
    created = _timestamp(node.metadata.get("created_at"), f"{where}: metadata.created_at") or default_time
    updated = _timestamp(node.metadata.get("updated_at"), f"{where}: metadata.updated_at") or created
    version = node.metadata.get("version")
    properties.update(
        memory=node.memory,
        created_at=created,
        updated_at=updated,
        version=version if isinstance(version, int) and not isinstance(version, bool) and version > 0 else 1,
    )
    return properties


def _edge_row(edge: CubeEdge, alias: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {"source": alias[edge.source], "target": alias[edge.target]}
    if edge.kind in (EdgeKind.MEMORY_VERSION, EdgeKind.VERSION_VERSION):
        row["at"] = _timestamp(edge.at, f"edge {edge.source} -> {edge.target}: at")
    if edge.kind is EdgeKind.RELATED:
        row["type"] = edge.type
    return row


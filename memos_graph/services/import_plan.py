"""The plan of a cube import and its pass 2 (see services/cube_import.py): ids settled, texts the file repeats
merged, WorkingMemory copies made entries of the working set; then the file read again into ready batches of
rows, each memory and version signed by the importer and given an event time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from memos_graph.cube_format.entries import (
    PROVENANCE_NAMESPACE,
    TEXTUAL_MEMORY_FILE,
    CubeEdge,
    CubeFormatError,
    CubeNode,
    NodeKind,
    SourceTally,
    parse_entry,
)
from memos_graph.domain.cube_content import EdgeKind, ImportBatch, ImportedEdge, ImportedMemory, ImportedWorking
from memos_graph.domain.memory import TextualMemoryMetadata, canonical_uuid
from memos_graph.domain.time_spans import iso_utc
from memos_graph.errors import InvalidInput
from memos_graph.services.import_survey import SERVER_KEYS, ImportSurvey, changed_file, plain_properties, timestamp
from memos_graph.services.memory_parts import CHAT_TIME_PREFIX, with_event_time
from memos_graph.services.validation import content_hash

# Message and document rows are small: this many times the batch size of them go in one transaction.
SMALL_ROWS_FACTOR = 5
# Where an import keeps the author its file named (the import itself is signed by its caller).
IMPORTED_AUTHOR_KEY = "imported_user_id"


@dataclass(frozen=True)
class WorkingEntry:
    """A WorkingMemory node of the file that becomes an entry of the cube's working set: its graph id, the graph
    id of the memory holding its text, the file's times (None: the import's)."""

    id: str
    memory_id: str
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


@dataclass
class ImportPlan:
    """Ids settled, duplicates merged, WorkingMemory copies made working-set entries; `batches` streams the
    rows (pass 2), then the working set, the edges last."""

    survey: ImportSurvey
    cube_id: str
    rename: Callable[[str], str]
    reembedded: bool
    new_ids: bool
    alias: dict[str, str]  # file id -> graph id (memories, versions) or key (messages, documents)
    kept: list[bool]  # per node: False for a memory whose text another memory of the file holds (see build)
    counts: dict[NodeKind, int]
    importer: str  # the caller: every memory and version is signed by it
    working: list[WorkingEntry] = field(default_factory=list)  # in file order, the working set's order

    @classmethod
    def build(cls, survey: ImportSurvey, cube_id: str, taken: bool, reuse_vectors: bool, importer: str) -> ImportPlan:
        """The plan for `survey` into `cube_id` by `importer`; `taken`: the graph holds some of its ids (all are
        renamed).

        Each text is stored once, by the first memory of the file holding it that is not a WorkingMemory node
        (or, when only WorkingMemory nodes hold it, by the first of them); a WorkingMemory node holding a text
        stored by another node becomes an entry of the cube's working set pointing at that memory (MemOS keeps
        its working set as copies of long-term and user memories), and any other repeat is merged into it.
        """
        rename = _renamer(cube_id) if taken else _same
        alias: dict[str, str] = {}
        holder: dict[str, str] = {}  # content hash -> file id of the memory that stores the text
        for node in sorted(survey.nodes, key=lambda node: node.working):  # stable: file order within each group
            if node.kind is NodeKind.MEMORY:
                assert node.digest is not None
                holder.setdefault(node.digest, node.id)
        chained: set[str] = set()  # graph ids of memories given a history
        kept: list[bool] = []
        working: list[WorkingEntry] = []
        counts = dict.fromkeys(NodeKind, 0)
        for node in survey.nodes:
            keep = True
            if node.kind is NodeKind.MEMORY:
                assert node.digest is not None
                alias[node.id] = rename(holder[node.digest])
                if holder[node.digest] != node.id:
                    keep = False
                    if node.working:
                        working.append(WorkingEntry(rename(node.id), alias[node.id], node.created_at, node.updated_at))
                if node.id in survey.chained:
                    if alias[node.id] in chained:  # two histories would hang off the one memory they merge into
                        raise InvalidInput(
                            f"{TEXTUAL_MEMORY_FILE}: memory {node.id} has the text of an earlier memory of the "
                            "file and both have earlier versions: their histories cannot be merged"
                        )
                    chained.add(alias[node.id])
            elif node.kind is NodeKind.VERSION:
                alias[node.id] = rename(node.id)
            else:
                assert node.key is not None
                alias[node.id] = node.key
            kept.append(keep)
            counts[node.kind] += keep
        return cls(survey, cube_id, rename, not reuse_vectors, taken, alias, kept, counts, importer, working)

    @property
    def merged(self) -> int:
        """Memories of the file merged into another one with the same text (working-set entries aside)."""
        memories = sum(1 for node in self.survey.nodes if node.kind is NodeKind.MEMORY)
        return memories - self.counts[NodeKind.MEMORY] - len(self.working)

    def items(self) -> int:
        """Nodes, working entries and edges the import writes, at most (for progress; repeated edges are written
        once)."""
        return sum(self.counts.values()) + len(self.working) + self.survey.edge_count

    def batches(
        self, size: int, max_memory_chars: int, embed: Callable[[list[str]], list[list[float]]]
    ) -> Iterator[ImportBatch]:
        """Pass 2: node rows in file order, `size` nodes a batch (memories embedded per batch when their
        vectors are not reused), then the edges as the file gives them, `size` * SMALL_ROWS_FACTOR a batch
        (none held longer than its batch)."""
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
                properties = plain_properties(node.metadata, f"{node.kind} {node.id}")
                (batch.messages if node.kind is NodeKind.MESSAGE else batch.documents).append(properties)
                pending += 1 / SMALL_ROWS_FACTOR
            if pending >= size:
                yield self._embedded(batch, embed)
                batch, pending = ImportBatch(), 0.0
        if file.last_digest != self.survey.digest or read != len(nodes):
            raise changed_file()
        if pending:
            yield self._embedded(batch, embed)
        yield from self._working_batches(size * SMALL_ROWS_FACTOR, now)
        yield from self._edge_batches(size * SMALL_ROWS_FACTOR)

    def _working_batches(self, step: int, now: dt.datetime) -> Iterator[ImportBatch]:
        """The working set, after every memory it points at is written; positions in file order."""
        for start in range(0, len(self.working), step):
            rows = []
            for position, entry in enumerate(self.working[start : start + step], start):
                created = entry.created_at or now
                rows.append(ImportedWorking(entry.id, entry.memory_id, position, created, entry.updated_at or created))
            yield ImportBatch(working=rows)

    def _edge_batches(self, step: int) -> Iterator[ImportBatch]:
        batch: list[ImportedEdge] = []
        seen: set[ImportedEdge] = set()  # repeats within a batch (the graph's MERGE takes the others)
        try:
            for edge in self.survey.edges():
                imported = _imported_edge(edge, self.alias)
                if imported.source == imported.target or imported in seen:
                    continue  # duplicates merged into one memory leave self-loops and repeats behind
                seen.add(imported)
                batch.append(imported)
                if len(batch) >= step:
                    yield ImportBatch(edges=batch)
                    batch, seen = [], set()
        except (CubeFormatError, InvalidInput):  # pass 1 checked every edge: the file changed since
            raise changed_file() from None
        if batch:
            yield ImportBatch(edges=batch)

    def _embedded(self, batch: ImportBatch, embed: Callable[[list[str]], list[list[float]]]) -> ImportBatch:
        if self.reembedded and batch.memories:
            vectors = embed([memory.memory for memory in batch.memories])
            batch.memories = [
                dataclasses.replace(memory, embedding=vector)
                for memory, vector in zip(batch.memories, vectors, strict=True)
            ]
        return batch

    def _memory_row(self, node: CubeNode, default_time: dt.datetime) -> ImportedMemory:
        return _checked(
            node,
            f"memory {node.id}",
            default_time,
            self.alias[node.id],
            self.importer,
            embedding=None if self.reembedded else node.vector,
        )

    def _version_row(self, node: CubeNode, now: dt.datetime) -> ImportedMemory:
        where = f"version {node.id}"
        written = str(node.metadata["memory_id"])
        memory_id = canonical_uuid(written) or written
        return _checked(
            node,
            where,
            now,
            self.alias[node.id],
            self.importer,
            memory_id=self.alias.get(memory_id, self.rename(memory_id)),
            archived_at=timestamp(node.metadata.get("archived_at"), f"{where}: metadata.archived_at") or now,
        )


def _same(node_id: str) -> str:
    return node_id


def _renamer(cube_id: str) -> Callable[[str], str]:
    """New ids for an import whose ids the graph already holds: stable per (target cube, old id)."""
    namespace = uuid.uuid5(PROVENANCE_NAMESPACE, cube_id)
    return lambda node_id: str(uuid.uuid5(namespace, node_id))


def _checked(
    node: CubeNode, where: str, default_time: dt.datetime, graph_id: str, importer: str, **extra: Any
) -> ImportedMemory:
    """Pass 2's memory (or version); metadata that no longer validates means the file changed since pass 1."""
    try:
        return _imported_memory(node, where, default_time, graph_id, importer, **extra)
    except (ValidationError, InvalidInput):
        raise changed_file() from None


def _signed(fields: dict[str, Any], importer: str) -> dict[str, Any]:
    """Metadata signed by the importer: it is the user_id (and the updated_by, when the file names an editor:
    the import is the latest edit); an author the file named that is not the importer is kept as
    imported_user_id (a file naming the importer keeps the imported_user_id it has, so a user's own dump
    round-trips)."""
    author = fields.get("user_id")
    signed = dict(fields)
    if isinstance(author, str) and author and author != importer:
        signed[IMPORTED_AUTHOR_KEY] = author
    signed["user_id"] = importer
    if signed.get("updated_by") is not None:
        signed["updated_by"] = importer
    return signed


def _imported_memory(
    node: CubeNode, where: str, default_time: dt.datetime, graph_id: str, importer: str, **extra: Any
) -> ImportedMemory:
    metadata = TextualMemoryMetadata.model_validate(
        _signed({key: value for key, value in node.metadata.items() if key not in SERVER_KEYS}, importer)
    )
    created = timestamp(node.metadata.get("created_at"), f"{where}: metadata.created_at") or default_time
    updated = timestamp(node.metadata.get("updated_at"), f"{where}: metadata.updated_at") or created
    version = node.metadata.get("version")
    return ImportedMemory(
        id=graph_id,
        memory=node.memory,
        metadata=_timed(metadata, node.memory, created),
        created_at=created,
        updated_at=updated,
        version=version if isinstance(version, int) and not isinstance(version, bool) and version > 0 else 1,
        content_hash=content_hash(node.memory),
        **extra,
    )


def _timed(metadata: TextualMemoryMetadata, text: str, created: dt.datetime) -> TextualMemoryMetadata:
    """The metadata with an event time: the file's (a dump of this service's) when it reads as one, else read
    from the memory's text, sources and memory_time as an add would (a MemOS cube has none), against the
    memory's creation time."""
    try:
        start, end = (
            dt.datetime.fromisoformat(metadata.event_start or ""),
            dt.datetime.fromisoformat(metadata.event_end or ""),
        )
        if start.utcoffset() is not None and end.utcoffset() is not None and start < end:
            return metadata.model_copy(update={"event_start": iso_utc(start), "event_end": iso_utc(end)})
    except ValueError:
        pass
    return with_event_time(metadata, CHAT_TIME_PREFIX.sub("", text), created.astimezone(dt.UTC), dt.UTC)


def _imported_edge(edge: CubeEdge, alias: dict[str, str]) -> ImportedEdge:
    at = None
    if edge.kind in (EdgeKind.MEMORY_VERSION, EdgeKind.VERSION_VERSION):
        at = timestamp(edge.at, "an edge's at")
    return ImportedEdge(
        edge.kind, alias[edge.source], alias[edge.target], at, edge.type if edge.kind is EdgeKind.RELATED else None
    )

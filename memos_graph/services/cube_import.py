"""A cube import in passes over textual_memory.json, so its memory stays flat however big the file is.

Pass 1 (`survey`) parses and checks every entry, under the limits an add or update puts on what it stores
(text, metadata size and depth, message content and keys), keeping only what the plan needs per node (kind,
id, content hash, key, whether a usable vector is stored); then it reads the edges one by one and checks
each against those node ids, and the version edges to form one linear chain per memory (VersionChains).
Any bad entry or edge is refused here, before anything is written; no edge is kept. `ImportPlan.build`
then settles ids (renamed when the graph holds them) and merges texts the file repeats. Pass 2
(`ImportPlan.batches`) reads the file again and yields ready batches: node rows in file order (memories
embedded batch by batch when their vectors cannot be reused), then the edges, read once more and written as
they come. If the file changed in between (other bytes, other ids), pass 2 refuses, and the caller
discards what it wrote.

An import is signed by its caller: every memory and version it stores has the caller as user_id (and as
updated_by when the file names an editor); the author the file named is kept as metadata.imported_user_id.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Full, Queue
from typing import Any, TypeVar

from pydantic import ValidationError

from memos_graph import metrics
from memos_graph.config import LimitSettings
from memos_graph.cube_format.entries import (
    KIND_KEY,
    PROVENANCE_NAMESPACE,
    TEXTUAL_MEMORY_FILE,
    CubeEdge,
    CubeFormatError,
    CubeNode,
    CubeSource,
    NodeKind,
    SourceTally,
    check_total,
    parse_edge,
    parse_entry,
    repeated_id,
    unknown_source,
)
from memos_graph.cube_format.reader import TREE_TEXT, FileShape, TextualMemoryFile, read_config
from memos_graph.domain import User
from memos_graph.domain.cube_content import (
    EdgeKind,
    ImportBatch,
    ImportedCube,
    ImportedEdge,
    ImportedMemory,
    ImportedWorking,
)
from memos_graph.domain.memory import MemoryType, TextualMemoryMetadata, canonical_uuid
from memos_graph.domain.temporal import iso_utc
from memos_graph.embeddings.names import normalise_model_name
from memos_graph.errors import AccessDenied, Conflict, InvalidInput, NotFound
from memos_graph.graph.convert import iso
from memos_graph.services import access
from memos_graph.services.memories import CHAT_TIME_PREFIX, with_event_time
from memos_graph.services.progress import progress
from memos_graph.services.transfer_paths import TransferWork
from memos_graph.services.transfer_report import TransferReport
from memos_graph.services.validation import (
    check_cube_id,
    check_imported_metadata,
    check_provenance_node,
    content_hash,
    is_usable_vector,
)
from memos_graph.services.version_chains import VersionChains

logger = logging.getLogger(__name__)
# Batches read (and embedded) ahead of the one being written.
PREFETCH_DEPTH = 2
T = TypeVar("T")
# Message and document rows are small: this many times the batch size of them go in one transaction.
SMALL_ROWS_FACTOR = 5
# Ids asked about per statement when checking which of an import's ids the graph already holds.
TAKEN_IDS_STEP = 10_000
# A metadata key of the file that the graph keeps for itself (the import sets them).
SERVER_KEYS = frozenset(
    {"created_at", "updated_at", "version", "relativity", "embedding", KIND_KEY, "memory_id", "archived_at"}
)
# Where an import keeps the author its file named (the import itself is signed by its caller).
IMPORTED_AUTHOR_KEY = "imported_user_id"


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
                _timestamp(edge.at, f"edges[{index}]: at")
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
        _timestamp(node.metadata.get(key), f"{where}: metadata.{key}")


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
                surveyed.created_at = _timestamp(node.metadata.get("created_at"), f"{where}: metadata.created_at")
                surveyed.updated_at = _timestamp(node.metadata.get("updated_at"), f"{where}: metadata.updated_at")
            return surveyed
        if node.kind is NodeKind.VERSION:
            _timestamp(node.metadata.get("archived_at"), f"{where}: metadata.archived_at")
            memory_id = str(node.metadata["memory_id"])
            return SurveyedNode(node.kind, node.id, memory_id=canonical_uuid(memory_id) or memory_id)
        properties = _plain_properties(node.metadata, where)
        times = ("created_at", "updated_at")  # parsed by _plain_properties, bounded as times
        plain = {key: value for key, value in properties.items() if key not in times}
        check_provenance_node(node.kind.value, node.memory, plain, limits)
        return SurveyedNode(node.kind, node.id, key=str(properties["key"]))
    except InvalidInput as exc:
        if exc.message.startswith(TEXTUAL_MEMORY_FILE):
            raise
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where}: {exc.message}") from None


def changed_file() -> InvalidInput:
    return InvalidInput(f"{TEXTUAL_MEMORY_FILE} changed while it was being imported: nothing was kept; import it again")


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
            archived_at=_timestamp(node.metadata.get("archived_at"), f"{where}: metadata.archived_at") or now,
        )


class CubeImportService(TransferWork):
    """Import a cube directory (either MemOS form) as a cube the caller owns; nothing stays if it fails.

    An import holds its cube id with a lease (transfer.import_lease_s, renewed by every batch); a second
    import of the id is refused until the lease ran out (see CubeTransferRepository).
    """

    @metrics.timed("cube_import")
    def import_directory(self, actor: User, path: str, mem_cube_id: str | None) -> TransferReport:
        """Import a MemOS cube directory (either form) as a cube the actor owns; nothing stays if it fails.

        Which directories the actor may import: see TransferPaths.importable (with transfer roots, one in its own area
        <root>/<user id>/ that is no other user's dump; ROOT any inside the roots). The cube id is held for the import
        with a lease (transfer.import_lease_s) that every batch renews: another import of the same id answers Conflict
        and changes nothing while the lease is live, and takes the leftover over (deleting what it wrote) only once the
        lease ran out, i.e. once that import crashed or stalled.
        """
        directory = self._paths.importable(actor, path)
        shown = self._paths.shown(actor, directory)  # answers and the cube's path never name a server path
        survey = self._survey(directory)
        wanted = mem_cube_id or survey.source.cube_id or str(uuid.uuid4())
        cube_id = check_cube_id(wanted, "cube id", self._rt.config.limits)
        if not access.may_create_cube(actor, actor):
            raise AccessDenied(f"user '{actor.user_id}' may not create cubes")
        if mem_cube_id is None and self._taken_by_another(actor, cube_id):
            # The directory's own id (a MemOS example's "Ki-Seki/mem_cube_2") belongs to someone else: this
            # user gets a copy of its own, under an id derived from both, which register_mem_cube returns.
            cube_id = own_copy_id(cube_id, actor.user_id, self._rt.config.limits.max_id_chars)
        existing, stale = self._prepare_target(actor, cube_id)
        if not existing:
            self._cubes.check_quota(actor)  # a new cube counts against limits.max_cubes_per_user
        plan = self._plan(survey, cube_id, actor.user_id, stale)
        import_id = str(uuid.uuid4())
        embedder = self._rt.embedder
        cube = ImportedCube(self._cube_name(survey.source, directory), shown, embedder.model_name, embedder.dimension)
        leftovers: list[str] = []
        edges = 0  # edges written (a repeated edge of the file is one edge in the graph)
        if not stale:
            self._repository.begin(cube_id, import_id, cube, existing, actor.user_id)
        else:
            leftovers = self._repository.take_over(cube_id, stale[0], import_id, cube, actor.user_id)
            logger.warning("import into cube %s takes over from the expired import %s", cube_id, stale[0])
        try:
            if leftovers:
                for crashed in leftovers:
                    self._repository.discard_nodes(cube_id, crashed, self._settings.timeout_s)
                self._repository.leftovers_done(cube_id, import_id)
                leftovers = []
            with progress(f"importing {cube_id}", plan.items()) as advance:
                max_chars = self._rt.config.limits.max_memory_chars
                for batch in prefetched(plan.batches(self._settings.batch_size, max_chars, embedder.embed)):
                    edges += self._repository.write(cube_id, import_id, batch)
                    advance(batch.size())
            self._repository.finish(cube_id, import_id, actor.user_id)
        except BaseException:
            logger.warning("import into cube %s failed; deleting what it wrote", cube_id)
            try:
                self._repository.discard(cube_id, import_id, self._settings.timeout_s, leftovers)
            except Exception:  # the original error matters more; the next import of this id cleans up
                logger.exception("could not discard the failed import %s of cube %s", import_id, cube_id)
            raise
        self._rt.cube_indexes.promote_if_large(cube_id, plan.counts[NodeKind.MEMORY])  # see graph/cube_index.py
        return TransferReport(
            cube_id,
            shown,
            memories=plan.counts[NodeKind.MEMORY],
            working=len(plan.working),
            versions=plan.counts[NodeKind.VERSION],
            messages=plan.counts[NodeKind.MESSAGE],
            documents=plan.counts[NodeKind.DOCUMENT],
            edges=edges,
            reembedded=plan.reembedded,
            merged_duplicates=plan.merged,
            new_ids=plan.new_ids,
            undecoded_sources=survey.undecoded_sources,
        )

    def _survey(self, directory: Path) -> ImportSurvey:
        """Pass 1 over the directory: config.json (when there is one) and every entry of textual_memory.json
        checked, without holding the file (see services/cube_import.py)."""
        if not directory.is_dir():
            raise NotFound("cube directory", str(directory))
        try:
            file = TextualMemoryFile(directory, self._settings.max_file_bytes)
            config = read_config(directory)
            shape = file.shape(config.backend if config else None)
            source = config or unknown_source(shape.backend)
            survey = ImportSurvey.take(source, file, shape, self._rt.config.limits, self._rt.embedder.dimension)
        except CubeFormatError as exc:
            raise InvalidInput(str(exc)) from exc
        if survey.undecoded_sources:
            logger.warning(
                "%s: %d sources are text, not source entries: kept verbatim as text sources",
                directory,
                survey.undecoded_sources,
            )
        return survey

    @staticmethod
    def _cube_name(source: CubeSource, directory: Path) -> str:
        return source.cube_id or directory.name

    def _taken_by_another(self, actor: User, cube_id: str) -> bool:
        """Whether the cube id belongs to (or is being imported by) someone other than the actor."""
        state = self._repository.state(cube_id)
        if state is None:
            return False
        if state.owner_id is not None:
            return state.owner_id != actor.user_id
        return state.import_id is None or (state.lease_live and state.import_by != actor.user_id)

    def _prepare_target(self, actor: User, cube_id: str) -> tuple[bool, tuple[str, ...]]:
        """(whether the import goes into an existing cube of the actor, the expired import to take over
        followed by the ones it took over from, or nothing); Conflict for anyone else's cube and while
        another import's lease is live (nothing changes then)."""
        state = self._repository.state(cube_id)
        if state is None:
            return False, ()
        if state.owner_id is not None and state.owner_id != actor.user_id:
            raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id)
        if state.import_id is None:
            if state.owner_id is None:  # an ownerless cube nobody imports: not ours to use
                raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id)
            return True, ()
        if state.lease_live:
            if state.owner_id is None and state.import_by != actor.user_id:
                # Someone else's new cube, not finished yet: to the actor the id is just taken.
                raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id)
            raise Conflict(
                f"cube id '{cube_id}' is being imported by another call (started {iso(state.started_at)}; "
                f"its lease, renewed with every batch it writes, runs to {iso(state.lease_until)}); try again later",
                cube_id=cube_id,
            )
        # The lease ran out: that import crashed or stalled. Its leftover is taken over and deleted.
        return state.owner_id is not None, (state.import_id, *state.leftovers)

    def _plan(self, survey: ImportSurvey, cube_id: str, importer: str, leftovers: Sequence[str] = ()) -> ImportPlan:
        ids = survey.memory_ids()
        step = TAKEN_IDS_STEP
        taken = any(self._repository.taken_ids(ids[i : i + step], cube_id, leftovers) for i in range(0, len(ids), step))
        embedder = self._rt.embedder
        same_model = normalise_model_name(survey.source.embedder_model) == normalise_model_name(embedder.model_name)
        reuse = same_model and survey.all_vectors_stored()
        return ImportPlan.build(survey, cube_id, taken, reuse_vectors=reuse, importer=importer)


def own_copy_id(cube_id: str, user_id: str, max_chars: int) -> str:
    """The id of a user's own copy of a cube whose id another user holds: "<cube id>@<user id>", or with a
    digest of both in place of the user id when that is too long. The same user and cube always give the same
    id, so registering the directory again finds the user's copy."""
    candidate = f"{cube_id}@{user_id}"
    if len(candidate) <= max_chars:
        return candidate
    digest = hashlib.sha256(f"{cube_id}\x1f{user_id}".encode()).hexdigest()[:16]
    return f"{cube_id[: max(1, max_chars - len(digest) - 1)].rstrip('/')}@{digest}"


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
        raise InvalidInput(f"{TEXTUAL_MEMORY_FILE}: {where} is not an ISO 8601 time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _plain_properties(metadata: dict[str, Any], where: str) -> dict[str, Any]:
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
            properties[key] = _timestamp(properties[key], f"{where}: metadata.{key}")
    return {key: value for key, value in properties.items() if value is not None}


def _checked(
    node: CubeNode, where: str, default_time: dt.datetime, graph_id: str, importer: str, **extra: Any
) -> ImportedMemory:
    """Pass 2's memory (or version); metadata that no longer validates means the file changed since pass 1."""
    try:
        return _imported_memory(node, where, default_time, graph_id, importer, **extra)
    except (ValidationError, InvalidInput):
        raise changed_file() from None


def _metadata(node: CubeNode) -> TextualMemoryMetadata:
    """A memory's (or version's) metadata as the file gives it, without what the server sets itself."""
    return TextualMemoryMetadata.model_validate(
        {key: value for key, value in node.metadata.items() if key not in SERVER_KEYS}
    )


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
    created = _timestamp(node.metadata.get("created_at"), f"{where}: metadata.created_at") or default_time
    updated = _timestamp(node.metadata.get("updated_at"), f"{where}: metadata.updated_at") or created
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
        at = _timestamp(edge.at, "an edge's at")
    return ImportedEdge(
        edge.kind, alias[edge.source], alias[edge.target], at, edge.type if edge.kind is EdgeKind.RELATED else None
    )

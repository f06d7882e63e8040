"""Memory nodes: batched writes, reads and vector queries, all as named, parameterised Cypher."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from memos_graph.domain import (
    NO_FILTER,
    Direction,
    MemoryFilter,
    MemoryOrder,
    SourceReference,
    TextualMemoryItem,
    TextualMemoryMetadata,
    User,
)
from memos_graph.domain.filters import PageKey, VersionKey
from memos_graph.domain.memory import MemoryStatus
from memos_graph.domain.results import VersionPage
from memos_graph.errors import Conflict, NotFound
from memos_graph.graph.convert import iso
from memos_graph.graph.cubes import CubeRelation, relation_from_record
from memos_graph.graph.store import GraphStore, run_named
from memos_graph.graph.users import to_user_from_map
from memos_graph.ranking.analyzer import postings

Guard = Callable[[ManagedTransaction], None]

# Metadata fields stored as their own node properties (filterable in Cypher); the rest of the metadata
# lives in extra_json, and sources in sources_json (Neo4j properties cannot hold lists of maps).
SCALAR_FIELDS = (
    "user_id",
    "session_id",
    "status",
    "type",
    "memory_type",
    "key",
    "tags",
    "confidence",
    "source",
    "background",
    "updated_by",
    "memory_time",
    "event_start",
    "event_end",
    "time_source",
)


def cube_key(cube_id: str) -> str:
    """The cube id as one Lucene token (hex of its UTF-8 bytes): lets a fulltext query keep to one cube."""
    return "cube" + cube_id.encode("utf-8").hex()


@dataclass(frozen=True)
class CubeCandidates:
    """What the first round trip of a hybrid search found in one cube (see search_cubes_hybrid)."""

    cube_size: int
    total: int
    by_vector: list[TextualMemoryItem]  # exact top-k; empty when the cube is larger than the exact-scan size
    ceiling: float
    by_text: list[tuple[TextualMemoryItem, float]]  # (memory with its cosine as relativity, BM25 score)
    own_index: str | None = None  # the cube's own vector index (graph/cube_index.py), if it has one
    # That index's first request, answered in the same round trip (None: not asked there; the caller asks).
    by_own_index: list[TextualMemoryItem] | None = None


@dataclass(frozen=True)
class SearchStart:
    """What a search's first round trip found (see search_cubes_hybrid): the caller as stored now (None: no
    such user), its relation to each cube considered, and the candidates of each cube it may read."""

    caller: User | None
    relations: dict[str, CubeRelation]
    candidates: dict[str, CubeCandidates]


@dataclass(frozen=True)
class MemoryPage:
    """A listing's rows with the key of each, and whether any passing memory lies before the first."""

    items: list[TextualMemoryItem]
    keys: list[PageKey]
    has_previous: bool


# The cursor of a first page of history: below every version number (Neo4j integers are 64-bit).
NEWEST = 2**63 - 1
# Versions over limits.max_versions one update deletes at most (bounded work per update).
TRIM_BATCH = 100


def history_position(after: VersionKey | None) -> dict[str, Any]:
    """The cursor parameters of memory_history.cypher and traversal_histories.cypher for `after`."""
    if after is None:
        return {"below_version": NEWEST, "after_id": None}
    return {"below_version": after.version, "after_id": after.version_id}


class StaleVersion(Conflict):
    """The memory changed between the caller's read and its update (the caller re-reads and tries again)."""

    def __init__(self, memory_id: str, expected: int, found: int) -> None:
        super().__init__(f"memory '{memory_id}' is at version {found}, not {expected}", memory_id=memory_id)


@dataclass(frozen=True)
class NewMemory:
    """One memory of a batched add: its text and metadata, who adds it and when, its vector, the messages (by
    key) and document it comes from."""

    memory_id: str
    content_hash: str
    memory: str
    metadata: TextualMemoryMetadata
    user_id: str
    created_at: dt.datetime
    embedding: list[float]
    session_id: str | None = None
    message_keys: tuple[str, ...] = ()
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class MemoryChange:
    """A rewrite of a stored memory (an update, or fine-mode dedup during an add): a new text with its hash and
    vector, the named metadata `fields` taken from `metadata`, the memory's extra fields whole, who changed
    it, and messages (by key) it now also derives from. Whatever is left out stays as stored."""

    memory_id: str
    memory: str | None = None
    content_hash: str | None = None
    embedding: list[float] | None = None
    metadata: TextualMemoryMetadata | None = None
    fields: tuple[str, ...] = ()
    extra: dict[str, Any] | None = None
    updated_by: str | None = None
    message_keys: tuple[str, ...] = ()


def change_properties(change: MemoryChange) -> dict[str, Any]:
    """The node properties a change writes (none for a change that only links provenance)."""
    properties = metadata_properties(change.metadata, change.fields) if change.metadata is not None else {}
    if change.extra is not None:
        properties["extra_json"] = json.dumps(change.extra, allow_nan=False)
    if change.updated_by is not None:
        properties["updated_by"] = change.updated_by
    if change.memory is not None:
        properties.update(memory=change.memory, content_hash=change.content_hash)
    return properties


def memory_node_properties(metadata: TextualMemoryMetadata, cube_id: str, **fields: Any) -> dict[str, Any]:
    """The properties of a new Memory (or MemoryVersion) node of the cube: its metadata, then `fields`."""
    properties = metadata_properties(metadata)
    properties.update(fields, cube_id=cube_id, cube_key=cube_key(cube_id))
    return properties


def new_memory_properties(row: NewMemory, cube_id: str) -> dict[str, Any]:
    """The node properties of a memory an add stores."""
    session = {} if row.session_id is None else {"session_id": row.session_id}
    return memory_node_properties(
        row.metadata,
        cube_id,
        id=row.memory_id,
        memory=row.memory,
        user_id=row.user_id,
        status=MemoryStatus.ACTIVATED.value,
        created_at=row.created_at,
        **session,
    )


@dataclass(frozen=True)
class CubeGrowth:
    """A cube as an add that stored new memories left it: its size, and its own vector index's label and state."""

    cube_size: int
    vector_label: str | None
    has_own_index: bool


@dataclass(frozen=True)
class AddResult:
    """What an add stored, and the cube after it (None when it stored nothing new)."""

    outcomes: list[AddOutcome]
    cube: CubeGrowth | None


@dataclass(frozen=True)
class AddOutcome:
    """What became of one requested row: stored anew, or the cube already held that text."""

    requested_id: str
    memory_id: str
    created: bool


def metadata_properties(metadata: TextualMemoryMetadata, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """Node properties for the metadata (all of it, or only the named fields)."""
    dumped = metadata.model_dump(mode="json")
    wanted = set(dumped) if fields is None else set(fields)
    properties: dict[str, Any] = {
        name: dumped[name] for name in SCALAR_FIELDS if name in wanted and dumped.get(name) is not None
    }
    if "sources" in wanted:
        properties["sources_json"] = json.dumps(dumped.get("sources") or [], allow_nan=False)
    extra = {k: v for k, v in metadata.extra_fields().items() if k in wanted}
    if fields is None or extra:
        properties["extra_json"] = json.dumps(extra, allow_nan=False)
    return properties


def item_from_node(node: dict[str, Any], score: float | None = None) -> TextualMemoryItem:
    """TextualMemoryItem from a Memory (or MemoryVersion) node's properties."""
    extra = json.loads(node.get("extra_json") or "{}")
    sources = [SourceReference.model_validate(s) for s in json.loads(node.get("sources_json") or "[]")]
    fields: dict[str, Any] = {name: node[name] for name in SCALAR_FIELDS if node.get(name) is not None}
    metadata = TextualMemoryMetadata(
        **extra,
        **fields,
        sources=sources,
        created_at=iso(node.get("created_at")),
        updated_at=iso(node.get("updated_at")),
        version=node.get("version"),
        relativity=score,
        embedding=node.get("embedding"),
    )
    return TextualMemoryItem(id=node["id"], memory=node["memory"], metadata=metadata)


class ItemsOnce:
    """item_from_node for one statement's rows, each memory built once: a memory both rankings returned (its
    cosine is the same in both) is the same item, another score gets a copy (building an item is ~55 us, a
    copy ~9 us): 48 builds instead of 60 per search on the 1,000-memory cube of bench/bench_stages.py."""

    def __init__(self) -> None:
        self._built: dict[str, TextualMemoryItem] = {}

    def __call__(self, node: dict[str, Any], score: float) -> TextualMemoryItem:
        known = self._built.get(node["id"])
        if known is None:
            known = self._built[node["id"]] = item_from_node(node, score)
        if known.metadata.relativity == score:
            return known
        return known.model_copy(update={"metadata": known.metadata.model_copy(update={"relativity": score})})


class MemoryRepository:
    """Reads and writes of Memory nodes; every write is one transaction that starts with the caller's guard."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def add(
        self,
        cube_id: str,
        rows: Sequence[NewMemory],
        guard: Guard,
        messages: Sequence[dict[str, Any]] = (),
        documents: Sequence[dict[str, Any]] = (),
        updates: Sequence[MemoryChange] = (),
        max_versions: int | None = None,
    ) -> AddResult:
        """Store a batch in one transaction; text the cube already holds maps to the stored memory.

        `messages` (in conversation order) become :Message nodes linked by NEXT; rows and updates point to
        theirs with DERIVED_FROM. `documents` are registered first (a changed one loses its old chunks).
        `updates` rewrite stored memories (keeping their history, trimmed to `max_versions`) in the same
        transaction.
        """
        payload = [
            {
                "content_hash": row.content_hash,
                "properties": new_memory_properties(row, cube_id),
                "embedding": row.embedding,
                "message_keys": list(row.message_keys),
                "document": None if row.document is None else row.document | {"cube_id": cube_id},
            }
            for row in rows
        ]
        # Analysed before the transaction: not again on a retry, and not while it holds the cube's locks.
        indexed = {row.memory_id: posting_fields(row.memory) for row in rows}
        keys = [str(message["key"]) for message in messages]
        pairs = [[a, b] for a, b in zip(keys, keys[1:], strict=False) if a != b]
        nodes = [message | {"cube_id": cube_id} for message in messages]

        def work(tx: ManagedTransaction) -> AddResult:
            guard(tx)
            if documents:
                run_named(tx, "document_replace", cube_id=cube_id, documents=list(documents))
            if nodes:
                run_named(tx, "messages_upsert", cube_id=cube_id, messages=nodes)
            records = run_named(tx, "memory_add", cube_id=cube_id, rows=payload) if payload else []
            created = [str(r["id"]) for r in records if r["created"]]
            cube = index_postings(tx, cube_id, [{"id": memory_id, **indexed[memory_id]} for memory_id in created])
            if cube is not None and cube.vector_label is not None:
                run_named(tx, "memory_label_new", cube_id=cube_id, memory_ids=created, label=cube.vector_label)
            for update in updates:
                properties = change_properties(update)
                if properties or update.embedding is not None:
                    run_named(
                        tx,
                        "memory_update",
                        cube_id=cube_id,
                        memory_id=update.memory_id,
                        version_id=str(uuid.uuid4()),
                        properties=properties,
                        embedding=update.embedding,
                    )
                    reindex_changed_text(tx, cube_id, update.memory_id, properties)
                    trim_history(tx, cube_id, update.memory_id, max_versions)
                run_named(
                    tx,
                    "memory_link_messages",
                    cube_id=cube_id,
                    memory_id=update.memory_id,
                    keys=list(update.message_keys),
                )
            if pairs:
                run_named(tx, "message_link_next", cube_id=cube_id, pairs=pairs)
            outcomes = [AddOutcome(r["requested_id"], r["id"], bool(r["created"])) for r in records]
            return AddResult(outcomes, cube)

        return self._store.run_write(work)

    def get(self, cube_id: str, memory_id: str, include_embedding: bool = False) -> TextualMemoryItem:
        """One memory; NotFound if the cube holds no memory with that id."""
        rows = self._store.read("memory_get", cube_id=cube_id, memory_id=memory_id, include_embedding=include_embedding)
        if not rows:
            raise NotFound("memory", memory_id)
        return item_from_node(rows[0]["memory"])

    def list_page(
        self,
        cube_id: str,
        skip: int = 0,
        limit: int = 1_000_000,
        include_embedding: bool = False,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem]:
        """A page of the cube's memories (those passing `where`) in creation order."""
        rows = self._store.read_chosen(
            "memory_list",
            where.choices(),
            {
                "cube_id": cube_id,
                "skip": skip,
                "limit": limit,
                "include_embedding": include_embedding,
                "filter": where.parameters(),
            },
        )
        return [item_from_node(row["memory"]) for row in rows]

    def working(self, cube_id: str, where: MemoryFilter = NO_FILTER) -> list[TextualMemoryItem]:
        """The cube's working set in its order (MemOS's WorkingMemory nodes): each entry under its own id, with
        the text and metadata of the memory it holds and memory_type WorkingMemory; those passing `where`."""
        rows = self._store.read_chosen(
            "memory_working",
            where.choices(),
            {"cube_id": cube_id, "include_embedding": False, "filter": where.parameters()},
        )
        return [item_from_node(row["memory"]) for row in rows]

    def working_entry(self, cube_id: str, entry_id: str, include_embedding: bool = False) -> TextualMemoryItem:
        """One entry of the cube's working set by its own id, as `working` gives it; NotFound if there is none."""
        rows = self._store.read(
            "memory_working_get", cube_id=cube_id, entry_id=entry_id, include_embedding=include_embedding
        )
        if not rows:
            raise NotFound("memory", entry_id)
        return item_from_node(rows[0]["memory"])

    def page(
        self, cube_id: str, where: MemoryFilter, order: MemoryOrder, limit: int, after: PageKey | None
    ) -> MemoryPage:
        """Up to `limit` of the cube's memories passing `where` in `order`, after the key (keyset pagination:
        memory_page.cypher)."""
        choices = (
            ("order_key", str(order.field)),
            ("direction", str(order.direction)),
            ("after", ">" if order.direction == Direction.ASC else "<"),
            *where.choices(),
            *((("page_after", "off"),) if after is None else ()),
        )
        rows = self._store.read_chosen(
            "memory_page",
            choices,
            {
                "cube_id": cube_id,
                "filter": where.parameters(),
                "limit": limit,
                "after_key": None if after is None else after.order_key,
                "after_id": None if after is None else after.memory_id,
            },
        )
        nodes = rows[0]["memories"]
        return MemoryPage(
            items=[item_from_node(node) for node in nodes],
            keys=[PageKey(str(node["order_key"]), str(node["id"])) for node in nodes],
            has_previous=bool(rows[0]["has_previous"]),
        )

    def count(self, cube_id: str, where: MemoryFilter) -> int:
        """How many of the cube's memories pass `where`."""
        if where.is_empty():  # the cube's degree, O(1)
            rows = self._store.read("cube_size", cube_id=cube_id)
            return int(rows[0]["cube_memories"]) if rows else 0
        rows = self._store.read_chosen(
            "memory_count", where.choices(), {"cube_id": cube_id, "filter": where.parameters()}
        )
        return int(rows[0]["memories"])

    def history(self, cube_id: str, memory_id: str, limit: int, after: VersionKey | None = None) -> VersionPage:
        """Up to `limit` of a memory's earlier versions, newest first, after the position `after` (keyset
        pagination over the memory_version_history index: memory_history.cypher); NotFound if the cube holds
        no memory with that id."""
        rows = self._store.read(
            "memory_history", cube_id=cube_id, memory_id=memory_id, limit=limit, **history_position(after)
        )
        if not rows:
            raise NotFound("memory", memory_id)
        return VersionPage([item_from_node(node) for node in rows[0]["versions"]], bool(rows[0]["has_previous"]))

    def update(
        self,
        cube_id: str,
        change: MemoryChange,
        guard: Guard,
        expected_version: int | None = None,
        max_versions: int | None = None,
    ) -> TextualMemoryItem:
        """Version the current state, then apply the new properties (and vector) in one transaction; with
        `max_versions`, the oldest versions beyond it are deleted in the same transaction (trim_history).

        With expected_version, the memory's write lock is taken first and StaleVersion raised (nothing
        written) when another update committed since the caller read it.
        """

        memory_id, properties = change.memory_id, change_properties(change)

        def work(tx: ManagedTransaction) -> TextualMemoryItem:
            guard(tx)
            if expected_version is not None:
                locked = run_named(tx, "memory_lock", cube_id=cube_id, memory_id=memory_id)
                if not locked:
                    raise NotFound("memory", memory_id)
                if int(locked[0]["version"]) != expected_version:
                    raise StaleVersion(memory_id, expected_version, int(locked[0]["version"]))
            records = run_named(
                tx,
                "memory_update",
                cube_id=cube_id,
                memory_id=memory_id,
                version_id=str(uuid.uuid4()),
                properties=properties,
                embedding=change.embedding,
            )
            if not records:
                raise NotFound("memory", memory_id)
            reindex_changed_text(tx, cube_id, memory_id, properties)
            trim_history(tx, cube_id, memory_id, max_versions)
            return item_from_node(records[0]["memory"])

        return self._store.run_write(work)

    def delete(self, cube_id: str, memory_id: str, guard: Guard) -> None:
        """Delete one memory and its history (and so its working-set entries), or, for the id of a working-set
        entry, take that entry out of the working set (its memory stays); NotFound if the cube has neither."""

        def work(tx: ManagedTransaction) -> None:
            guard(tx)
            records = run_named(tx, "memory_delete", cube_id=cube_id, memory_id=memory_id)
            if not records or not records[0]["deleted"]:
                records = run_named(tx, "memory_working_delete", cube_id=cube_id, entry_id=memory_id)
                if not records or not records[0]["deleted"]:
                    raise NotFound("memory", memory_id)

        self._store.run_write(work)

    def delete_all(self, cube_ids: Sequence[str], guard: Guard) -> int:
        """Delete every memory of the cubes in one transaction; returns how many."""

        def work(tx: ManagedTransaction) -> int:
            guard(tx)
            records = run_named(tx, "memory_delete_all", cube_ids=list(cube_ids))
            return sum(int(r["deleted"]) for r in records)

        return self._store.run_write(work)

    def search_exact(
        self, cube_id: str, vector: Sequence[float], top_k: int, where: MemoryFilter = NO_FILTER
    ) -> list[TextualMemoryItem]:
        """Exact cosine top-k over the cube's active memories that pass `where`."""
        rows = self._store.read_chosen(
            "search_exact",
            where.choices(),
            {
                "cube_id": cube_id,
                "vector": list(vector),
                "top_k": top_k,
                "filter": where.parameters(),
            },
        )
        return [item_from_node(row["memory"], float(row["score"])) for row in rows]

    def search_small_cube(
        self, user_id: str, cube_id: str, vector: Sequence[float], top_k: int, exact_max: int
    ) -> tuple[int, int, list[TextualMemoryItem]]:
        """(memories in the cube, memories in the graph, exact top-k if the cube holds at most exact_max), as
        user_id: search_cubes_hybrid for one cube and no query terms (zeros when the user may not read it)."""
        found = self.search_cubes_hybrid(user_id, [cube_id], [], vector, top_k, exact_max, 1.0, 1.0, 1)
        cube = found.candidates.get(cube_id)
        return (0, 0, []) if cube is None else (cube.cube_size, cube.total, cube.by_vector)

    def search_cubes_hybrid(
        self,
        user_id: str,
        cube_ids: Sequence[str] | None,
        terms: Sequence[str],
        vector: Sequence[float],
        limit: int,
        exact_max: int,
        k1: float,
        b: float,
        max_cubes: int,
        where: MemoryFilter = NO_FILTER,
        own_candidates: int = 0,
    ) -> SearchStart:
        """One round trip for a whole search as user_id (search_cubes_hybrid.cypher): the caller, its relation
        to the named cubes (None: the cubes loaded for it), and for each cube it may read, while there are at
        most max_cubes of them: the cube's size, the graph's, its exact vector top-`limit` (only when it holds
        at most exact_max memories) and its BM25 top-`limit` with the ceiling; both rankings only of memories
        that pass `where`, restricted before their limit. With own_candidates > 0, a cube above exact_max whose
        own vector index is online also gets that index's top-`limit` among own_candidates neighbours (as
        search_index), in by_own_index."""
        rows = self._store.read_chosen(
            "search_cubes_hybrid",
            where.choices(),
            {
                "user_id": user_id,
                "cube_ids": None if cube_ids is None else list(cube_ids),
                "terms": list(terms),
                "vector": list(vector),
                "top_k": limit,
                "exact_max": exact_max,
                "k1": k1,
                "b": b,
                "max_cubes": max_cubes,
                "filter": where.parameters(),
                "own_candidates": own_candidates,
            },
        )
        if not rows:
            return SearchStart(None, {}, {})
        relations: dict[str, CubeRelation] = {}
        candidates: dict[str, CubeCandidates] = {}
        item = ItemsOnce()
        for row in rows:
            if row["cube"] is None:
                continue
            relation = relation_from_record(row)
            cube_id = relation.cube.cube_id
            relations[cube_id] = relation
            if row["searched"]:
                own_index = row["cube"].get("vector_index")
                asked = own_candidates > 0 and own_index is not None and int(row["cube_memories"]) > exact_max
                candidates[cube_id] = CubeCandidates(
                    cube_size=int(row["cube_memories"]),
                    total=int(row["total_memories"]),
                    by_vector=[item(hit["memory"], float(hit["score"])) for hit in row["hits"]],
                    ceiling=float(row["ceiling"]),
                    by_text=[
                        (item(hit["memory"], float(hit["similarity"])), float(hit["score"])) for hit in row["text_hits"]
                    ],
                    own_index=own_index,
                    by_own_index=(
                        [item(hit["memory"], float(hit["score"])) for hit in row["index_hits"]] if asked else None
                    ),
                )
        return SearchStart(to_user_from_map(rows[0]["user"]), relations, candidates)

    def search_index(
        self,
        index_name: str,
        cube_id: str,
        vector: Sequence[float],
        top_k: int,
        candidates: int,
        where: MemoryFilter = NO_FILTER,
    ) -> list[TextualMemoryItem]:
        """Approximate top-k from the vector index, keeping only this cube's memories that pass `where`."""
        rows = self._store.read_chosen(
            "search_index",
            where.choices(),
            {
                "index_name": index_name,
                "cube_id": cube_id,
                "vector": list(vector),
                "top_k": top_k,
                "candidates": candidates,
                "filter": where.parameters(),
            },
        )
        return [item_from_node(row["memory"], float(row["score"])) for row in rows]

    def search_terms(
        self,
        user_id: str,
        cube_id: str,
        terms: Sequence[str],
        vector: Sequence[float],
        limit: int,
        k1: float,
        b: float,
    ) -> tuple[float, list[tuple[TextualMemoryItem, float]]]:
        """The cube's best `limit` BM25 matches (per-cube statistics) with the score's ceiling; each item's
        relativity is its cosine to `vector` (0..1 as Neo4j gives it), paired with its BM25 score:
        search_cubes_hybrid as user_id for one cube without its vector scan (nothing when it may not read it)."""
        if not terms:
            return 0.0, []
        found = self.search_cubes_hybrid(user_id, [cube_id], terms, vector, limit, -1, k1, b, 1)
        cube = found.candidates.get(cube_id)
        return (0.0, []) if cube is None else (cube.ceiling, cube.by_text)

    def document_checksums(self, cube_id: str, keys: Sequence[str]) -> dict[str, str]:
        """Stored checksums of the cube's documents with these keys (paths)."""
        rows = self._store.read("document_checksums", cube_id=cube_id, keys=list(keys))
        return {row["key"]: row["checksum"] for row in rows}

    def neighbours(
        self, cube_id: str, memory_ids: Sequence[str], where: MemoryFilter = NO_FILTER
    ) -> dict[str, list[TextualMemoryItem]]:
        """For each memory, the memories of its messages' conversational neighbours (NEXT either way) that pass
        `where`."""
        rows = self._store.read_chosen(
            "memory_neighbours",
            where.choices(),
            {
                "cube_id": cube_id,
                "memory_ids": list(memory_ids),
                "filter": where.parameters(),
            },
        )
        return {row["memory_id"]: [item_from_node(node) for node in row["neighbours"]] for row in rows}

    def similarities(self, cube_id: str, memory_ids: Sequence[str]) -> dict[tuple[int, int], float]:
        """Cosine similarity of each pair of the cube's given memories, keyed (i, j) with i < j by position in
        `memory_ids`; pairs with a memory of another cube (or none) are absent."""
        if len(memory_ids) < 2:
            return {}
        rows = self._store.read("memory_similarities", cube_id=cube_id, memory_ids=list(memory_ids))
        return {(int(row["i"]), int(j)): float(cos) for row in rows for j, cos in row["similar"]}

    def feedback_scores(
        self,
        cube_id: str,
        memory_ids: Sequence[str],
        terms: Mapping[str, float],
        expansion_terms: int,
        k1: float,
        b: float,
    ) -> dict[str, float]:
        """BM25 scores of the cube's given memories for pseudo-relevance feedback's second query (the
        `expansion_terms` weightiest of `terms`, weights before idf; memory_feedback.cypher); memories holding
        none of its terms are left out."""
        if not terms or not memory_ids:
            return {}
        rows = self._store.read(
            "memory_feedback",
            cube_id=cube_id,
            memory_ids=list(memory_ids),
            terms=[{"term": term, "weight": weight} for term, weight in terms.items()],
            expansion_terms=expansion_terms,
            k1=k1,
            b=b,
        )
        return {str(row["id"]): float(row["score"]) for row in rows}


def posting_fields(text: str) -> dict[str, Any]:
    """The BM25 fields of a memory row: its length in terms and its postings ({term, tf} rows)."""
    found = postings(text)
    return {"length": found.length, "postings": found.rows()}


def index_postings(tx: ManagedTransaction, cube_id: str, rows: Sequence[dict[str, Any]]) -> CubeGrowth | None:
    """Write the BM25 postings of newly stored memories ({id, length, postings} rows, see posting_fields)
    inside the caller's transaction; the cube after it (None for no rows)."""
    if not rows:
        return None
    records = run_named(
        tx, "memory_terms_add", cube_id=cube_id, rows=list(rows), length_total=sum(int(r["length"]) for r in rows)
    )
    if not records or int(records[0]["indexed"]) != len(rows):
        raise RuntimeError(f"indexed {records[0]['indexed'] if records else 0} of {len(rows)} memories")  # a bug
    row = records[0]
    label = row["vector_label"]
    return CubeGrowth(int(row["cube_size"]), None if label is None else str(label), bool(row["has_own_index"]))


def reindex_changed_text(tx: ManagedTransaction, cube_id: str, memory_id: str, properties: dict[str, Any]) -> None:
    """Replace a memory's BM25 postings when an update changed its text (a no-op otherwise)."""
    text = properties.get("memory")
    if text is None:
        return
    run_named(tx, "memory_terms_replace", cube_id=cube_id, memory_id=memory_id, **posting_fields(str(text)))


def trim_history(tx: ManagedTransaction, cube_id: str, memory_id: str, max_versions: int | None) -> None:
    """Delete a memory's oldest versions beyond the newest `max_versions` (at most TRIM_BATCH of them) inside
    the caller's transaction; None keeps them all."""
    if max_versions is not None:
        run_named(tx, "memory_history_trim", cube_id=cube_id, memory_id=memory_id, keep=max_versions, batch=TRIM_BATCH)

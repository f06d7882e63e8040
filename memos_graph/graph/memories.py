"""Memory nodes: batched writes, reads and vector queries, all as named, parameterised Cypher."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import ManagedTransaction

from memos_graph.domain import (
    NO_FILTER,
    Direction,
    MemoryFilter,
    MemoryOrder,
    TextualMemoryItem,
)
from memos_graph.domain.filters import PageKey, VersionKey
from memos_graph.domain.results import VersionPage
from memos_graph.errors import Conflict, NotFound
from memos_graph.graph.memory_nodes import (
    MemoryChange,
    NewMemory,
    change_properties,
    item_from_node,
    new_memory_properties,
)
from memos_graph.graph.store import GraphStore, run_named
from memos_graph.ranking.analyzer import postings

Guard = Callable[[ManagedTransaction], None]


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

    def document_checksums(self, cube_id: str, keys: Sequence[str]) -> dict[str, str]:
        """Stored checksums of the cube's documents with these keys (paths)."""
        rows = self._store.read("document_checksums", cube_id=cube_id, keys=list(keys))
        return {row["key"]: row["checksum"] for row in rows}


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

"""Reading a whole cube out of the graph and writing an imported one back, batch by batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j
from neo4j import ManagedTransaction

from memos_graph.errors import Conflict
from memos_graph.graph.memories import posting_fields
from memos_graph.graph.queries import query
from memos_graph.graph.store import GraphStore, run_named


@dataclass(frozen=True)
class ExportedEdge:
    """An edge of the cube: ends named by kind and id (memories, versions) or key (messages, documents)."""

    source_kind: str
    source: str
    target_kind: str
    target: str
    type: str
    related_type: str | None
    at: Any


@dataclass
class ImportBatch:
    """What one import transaction writes: node rows and edges grouped by kind (see cube_import_edges)."""

    memories: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    edges: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportState:
    """What a cube id names before an import: its owner, an unfinished import (when it started, until when
    its lease runs, whether the lease is still live), whether it holds memories."""

    owner_id: str | None
    import_id: str | None
    has_memories: bool
    import_by: str | None = None
    leftovers: tuple[str, ...] = ()
    started_at: Any = None
    lease_until: Any = None
    lease_live: bool = False


class CubeTransferRepository:
    """The statements behind dump and import (cypher/queries/cube_export_* and cube_import_*).

    An import holds its cube through a marker (import_id) with a start time and a lease of `lease_s`
    seconds. Every transaction of the import starts with cube_import_hold, which locks the cube, checks the
    marker and renews the lease; another import of the same cube id is refused while the lease is live and
    may take the cube over (take_over) only once it ran out.
    """

    def __init__(self, store: GraphStore, lease_s: float = 120.0) -> None:
        self._store = store
        self._lease_s = float(lease_s)

    # -- export -------------------------------------------------------------------------------------

    def export(self, cube_id: str, timeout_s: float, consume: Callable[[CubeExport], None]) -> None:
        """Hand `consume` a reader over the cube inside one read transaction (one consistent pass)."""

        @neo4j.unit_of_work(timeout=timeout_s)
        def work(tx: ManagedTransaction) -> None:
            consume(CubeExport(tx, cube_id))

        self._store.run_read(work)

    # -- import -------------------------------------------------------------------------------------

    def state(self, cube_id: str) -> ImportState | None:
        """The cube's current state, or None when no cube has this id."""
        rows = self._store.read("cube_import_state", cube_id=cube_id, lease_s=self._lease_s)
        if not rows:
            return None
        row = rows[0]
        return ImportState(
            row["owner_id"],
            row["import_id"],
            bool(row["has_memories"]),
            import_by=row["import_by"],
            leftovers=tuple(str(value) for value in row["leftovers"] or ()),
            started_at=row["started_at"],
            lease_until=row["lease_until"],
            lease_live=bool(row["lease_live"]),
        )

    def taken_ids(self, ids: Sequence[str], cube_id: str | None = None, leftovers: Sequence[str] = ()) -> set[str]:
        """The ids among these that a Memory or MemoryVersion in the graph already has, not counting nodes
        the imports `leftovers` left in cube `cube_id` (the import deletes those before it writes)."""
        rows = self._store.read(
            "cube_import_taken_ids", ids=list(ids), cube_id=cube_id, leftover_import_ids=list(leftovers)
        )
        return {row["id"] for row in rows}

    def begin(
        self, cube_id: str, import_id: str, properties: dict[str, Any], existing: bool, user_id: str | None = None
    ) -> None:
        """Mark the cube as being imported into (by `user_id`, with a fresh lease): a new ownerless cube, or an
        existing empty one of the caller."""
        name = "cube_import_claim" if existing else "cube_import_begin"
        rows = self._store.run_write(
            lambda tx: run_named(
                tx,
                name,
                cube_id=cube_id,
                import_id=import_id,
                properties=properties,
                lease_s=self._lease_s,
                user_id=user_id,
            )
        )
        if not rows:
            raise Conflict(f"cube '{cube_id}' already holds memories; import into a new or empty cube", cube_id=cube_id)

    def take_over(
        self,
        cube_id: str,
        stale_import_id: str,
        import_id: str,
        properties: dict[str, Any],
        user_id: str | None = None,
    ) -> list[str]:
        """Take the cube from an import whose lease ran out; the import ids whose nodes must now be deleted
        (discard_nodes), the stale one and any an earlier take-over left. Conflict when the lease is live
        again, another import took over first, or an owned cube holds memories of its own."""
        rows = self._store.run_write(
            lambda tx: run_named(
                tx,
                "cube_import_takeover",
                cube_id=cube_id,
                stale_import_id=stale_import_id,
                import_id=import_id,
                properties=properties,
                lease_s=self._lease_s,
                user_id=user_id,
            )
        )
        if not rows:
            raise Conflict(f"cube id '{cube_id}' is being imported by another call; try again later", cube_id=cube_id)
        return [str(value) for value in rows[0]["leftovers"] or []]

    def leftovers_done(self, cube_id: str, import_id: str) -> None:
        """The taken-over imports' nodes are gone: drop their ids from the cube (renewing the lease)."""

        def work(tx: ManagedTransaction) -> None:
            self._hold(tx, cube_id, import_id)
            run_named(tx, "cube_import_leftovers_done", cube_id=cube_id, import_id=import_id)

        self._store.run_write(work)

    def _hold(self, tx: ManagedTransaction, cube_id: str, import_id: str) -> None:
        """Lock the cube, check this import still holds it, renew the lease; Conflict (rolling back) if not."""
        if not run_named(tx, "cube_import_hold", cube_id=cube_id, import_id=import_id, lease_s=self._lease_s):
            raise Conflict(f"the import into cube '{cube_id}' lost its cube to another import", cube_id=cube_id)

    def write(self, cube_id: str, import_id: str, batch: ImportBatch) -> None:
        """Write one batch in one transaction; every row must land, or the transaction fails."""
        params = {"cube_id": cube_id, "import_id": import_id}

        def work(tx: ManagedTransaction) -> None:
            self._hold(tx, cube_id, import_id)
            if batch.memories:
                memories = [row | posting_fields(str(row["properties"]["memory"])) for row in batch.memories]
                length_total = sum(int(row["length"]) for row in memories)
                _expect(run_named(tx, "cube_import_memories", rows=memories, length_total=length_total, **params),
                        "created", len(memories), "memories")
            if batch.versions:
                _expect(run_named(tx, "cube_import_versions", rows=batch.versions, **params), "created",
                        len(batch.versions), "versions")
            if batch.messages or batch.documents:
                rows = run_named(
                    tx, "cube_import_provenance", messages=batch.messages, documents=batch.documents, **params
                )
                _expect(rows, "messages", len(batch.messages), "messages")
                _expect(rows, "documents", len(batch.documents), "documents")
            if any(batch.edges.values()):
                groups = {kind: batch.edges.get(kind, []) for kind in EDGE_GROUPS}
                rows = run_named(tx, "cube_import_edges", **groups, **params)
                for kind in EDGE_GROUPS:
                    _expect(rows, kind, len(groups[kind]), f"{kind} edges")

        self._store.run_write(work)

    def finish(self, cube_id: str, import_id: str, owner_id: str) -> None:
        """Hand the cube to its owner (loaded) and drop the import marker, in one transaction."""

        def work(tx: ManagedTransaction) -> list[neo4j.Record]:
            self._hold(tx, cube_id, import_id)
            return run_named(tx, "cube_import_finish", cube_id=cube_id, import_id=import_id, owner_id=owner_id)

        rows = self._store.run_write(work)
        if not rows:
            raise Conflict(f"the import into cube '{cube_id}' lost its cube to another import", cube_id=cube_id)

    def discard_nodes(self, cube_id: str, import_id: str, timeout_s: float) -> None:
        """Delete the nodes an import wrote into the cube (in batches, auto-commit); the cube stays."""
        self._store.run_autocommit(
            query("cube_import_discard"), timeout_s=timeout_s, cube_id=cube_id, import_id=import_id
        )

    def discard(self, cube_id: str, import_id: str, timeout_s: float, leftovers: Sequence[str] = ()) -> None:
        """Delete everything the import wrote (and what the imports it took over from left), then the cube
        if the import created it."""
        for written_by in (*leftovers, import_id):
            self.discard_nodes(cube_id, written_by, timeout_s)
        self._store.run_write(
            lambda tx: run_named(tx, "cube_import_release", cube_id=cube_id, import_id=import_id)
        )


EDGE_GROUPS = ("memory_message", "memory_document", "memory_version", "version_version", "message_next", "related")


def _expect(rows: list[neo4j.Record], column: str, sent: int, what: str) -> None:
    stored = int(rows[0][column]) if rows else 0
    if stored != sent:
        # The import lost its cube (another import took over) or an edge end is missing: roll back.
        raise Conflict(f"import stored {stored} of {sent} {what}; the cube changed during the import")


class CubeExport:
    """Streams a cube's nodes and edges from inside one read transaction."""

    def __init__(self, tx: ManagedTransaction, cube_id: str) -> None:
        self._tx = tx
        self._cube_id = cube_id

    def _stream(self, name: str) -> Iterator[neo4j.Record]:
        yield from self._tx.run(query(name), {"cube_id": self._cube_id})

    def memories(self) -> Iterator[dict[str, Any]]:
        """Memory node properties (vectors included) in creation order."""
        for record in self._stream("cube_export_memories"):
            yield dict(record["node"])

    def versions(self) -> Iterator[dict[str, Any]]:
        """MemoryVersion node properties."""
        for record in self._stream("cube_export_versions"):
            yield dict(record["node"])

    def provenance(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(kind, properties) of the cube's :Message and :Document nodes."""
        for record in self._stream("cube_export_provenance"):
            yield record["kind"], dict(record["node"])

    def edges(self) -> Iterator[ExportedEdge]:
        """Every edge starting at a node of the cube."""
        for record in self._stream("cube_export_edges"):
            yield ExportedEdge(
                record["source_kind"],
                record["source"],
                record["target_kind"],
                record["target"],
                record["type"],
                record["related_type"],
                record["at"],
            )

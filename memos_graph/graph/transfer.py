"""Reading a whole cube out of the graph and writing an imported one back, batch by batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import neo4j
from neo4j import ManagedTransaction

from memos_graph.domain.cube_content import (
    EdgeKind,
    ExportedEdge,
    ExportedVersion,
    ImportBatch,
    ImportedCube,
    ImportedEdge,
    ImportedMemory,
    ProvenanceNode,
)
from memos_graph.domain.memory import MemoryStatus, TextualMemoryItem
from memos_graph.errors import Conflict
from memos_graph.graph.convert import iso
from memos_graph.graph.memories import posting_fields
from memos_graph.graph.memory_nodes import item_from_node, memory_node_properties
from memos_graph.graph.queries import query
from memos_graph.graph.store import GraphStore, run_named


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
        self, cube_id: str, import_id: str, cube: ImportedCube, existing: bool, user_id: str | None = None
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
                properties=dataclasses.asdict(cube),
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
        cube: ImportedCube,
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
                properties=dataclasses.asdict(cube),
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

    def write(self, cube_id: str, import_id: str, batch: ImportBatch) -> int:
        """Write one batch in one transaction; every row must land, or the transaction fails. The number of
        edges it created (an edge the graph has already, a repeat of the file, is not created again)."""
        params = {"cube_id": cube_id, "import_id": import_id}

        def work(tx: ManagedTransaction) -> int:
            self._hold(tx, cube_id, import_id)
            if batch.memories:
                memories = [
                    {"properties": _memory_properties(m, cube_id), "embedding": m.embedding} | posting_fields(m.memory)
                    for m in batch.memories
                ]
                length_total = sum(int(row["length"]) for row in memories)
                _expect(
                    run_named(tx, "cube_import_memories", rows=memories, length_total=length_total, **params),
                    "created",
                    len(memories),
                    "memories",
                )
            if batch.versions:
                versions = [_version_properties(v, cube_id) for v in batch.versions]
                _expect(
                    run_named(tx, "cube_import_versions", rows=versions, **params), "created", len(versions), "versions"
                )
            if batch.messages or batch.documents:
                rows = run_named(
                    tx, "cube_import_provenance", messages=batch.messages, documents=batch.documents, **params
                )
                _expect(rows, "messages", len(batch.messages), "messages")
                _expect(rows, "documents", len(batch.documents), "documents")
            if batch.working:
                entries = [dataclasses.asdict(entry) for entry in batch.working]
                _expect(
                    run_named(tx, "cube_import_working", rows=entries, **params),
                    "created",
                    len(entries),
                    "working-set entries",
                )
            if batch.edges:
                groups: dict[str, list[dict[str, Any]]] = {kind.value: [] for kind in EdgeKind}
                for edge in batch.edges:
                    groups[edge.kind.value].append(_edge_row(edge))
                result = tx.run(query("cube_import_edges"), {**groups, **params})
                rows = list(result)
                for kind, sent in groups.items():
                    _expect(rows, kind, len(sent), f"{kind} edges")
                return int(result.consume().counters.relationships_created)
            return 0

        return self._store.run_write(work)

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
        self._store.run_write(lambda tx: run_named(tx, "cube_import_release", cube_id=cube_id, import_id=import_id))


def _memory_properties(memory: ImportedMemory, cube_id: str) -> dict[str, Any]:
    """The stored properties of an imported memory (its vector goes through the vector procedure)."""
    return memory_node_properties(
        memory.metadata,
        cube_id,
        id=memory.id,
        memory=memory.memory,
        created_at=memory.created_at,
        updated_at=memory.updated_at,
        version=memory.version,
        content_hash=memory.content_hash,
    )


def _version_properties(version: ImportedMemory, cube_id: str) -> dict[str, Any]:
    properties = _memory_properties(version, cube_id)
    properties.update(memory_id=version.memory_id, status=MemoryStatus.ARCHIVED.value, archived_at=version.archived_at)
    return properties


def _edge_row(edge: ImportedEdge) -> dict[str, Any]:
    row: dict[str, Any] = {"source": edge.source, "target": edge.target}
    if edge.kind in (EdgeKind.MEMORY_VERSION, EdgeKind.VERSION_VERSION):
        row["at"] = edge.at
    if edge.kind is EdgeKind.RELATED:
        row["type"] = edge.type
    return row


def _expect(rows: list[neo4j.Record], column: str, sent: int, what: str) -> None:
    stored = int(rows[0][column]) if rows else 0
    if stored != sent:
        # The import lost its cube (another import took over) or an edge end is missing: roll back.
        raise Conflict(f"import stored {stored} of {sent} {what}; the cube changed during the import")


# Properties of message and document nodes that say where they are stored, not what they are.
STORAGE_ONLY = frozenset(("cube_id", "import_id"))


class CubeExport:
    """Streams a cube's nodes and edges from inside one read transaction."""

    def __init__(self, tx: ManagedTransaction, cube_id: str) -> None:
        self._tx = tx
        self._cube_id = cube_id

    def _stream(self, name: str) -> Iterator[neo4j.Record]:
        yield from self._tx.run(query(name), {"cube_id": self._cube_id})

    def memories(self) -> Iterator[TextualMemoryItem]:
        """The cube's memories (vectors included) in creation order."""
        for record in self._stream("cube_export_memories"):
            yield item_from_node(dict(record["node"]))

    def working(self) -> Iterator[TextualMemoryItem]:
        """The cube's working set in its order, each entry as the item of its memory (vector included) under
        the entry's own id and times, memory_type WorkingMemory."""
        for record in self._tx.run(
            query("memory_working", (("memory_filter", "off"),)), {"cube_id": self._cube_id, "include_embedding": True}
        ):
            yield item_from_node(dict(record["memory"]))

    def versions(self) -> Iterator[ExportedVersion]:
        """Every earlier version of the cube's memories."""
        for record in self._stream("cube_export_versions"):
            node = dict(record["node"])
            yield ExportedVersion(item_from_node(node), str(node["memory_id"]), iso(node.get("archived_at")))

    def provenance(self) -> Iterator[ProvenanceNode]:
        """The cube's :Message and :Document nodes, their properties as stored (timestamps as text)."""
        for record in self._stream("cube_export_provenance"):
            node = dict(record["node"])
            properties = {
                key: iso(value) if key in ("created_at", "updated_at") else value
                for key, value in node.items()
                if key not in STORAGE_ONLY
            }
            yield ProvenanceNode(str(record["kind"]), str(node["key"]), properties)

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
                iso(record["at"]),
            )

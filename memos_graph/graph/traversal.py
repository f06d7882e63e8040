"""Batched reads behind the GraphQL traversal fields: one statement per batch of parents, whatever its size.

Every read is confined to the cube its parent names (a (cube_id, key) or (cube_id, memory_id) pair): what a
traversal reaches lies in a cube the service has already checked the caller may read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memos_graph.domain import Permission, TextualMemoryItem
from memos_graph.domain.filters import HistoryRequest, VersionKey
from memos_graph.domain.results import VersionPage
from memos_graph.domain.traversal import Derivation, ProvenanceLabel, ProvenanceNode, Share
from memos_graph.graph.convert import iso
from memos_graph.graph.memories import history_position
from memos_graph.graph.memory_nodes import item_from_node
from memos_graph.graph.store import GraphStore


class TraversalRepository:
    """The reads of the traversal fields; callers pass only cubes the caller may read."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def histories(self, requests: Sequence[HistoryRequest], limit: int) -> dict[HistoryRequest, VersionPage]:
        """For each (cube_id, memory_id, position) request, up to `limit` of the memory's earlier versions after
        the position, newest first (traversal_histories.cypher); absent where the cube holds no such memory."""
        rows = self._store.read(
            "traversal_histories",
            pairs=[
                {"cube_id": cube_id, "memory_id": memory_id, **history_position(after)}
                for cube_id, memory_id, after in requests
            ],
            limit=limit,
        )
        by_position = {(memory_id, after): (cube_id, memory_id, after) for cube_id, memory_id, after in requests}
        found: dict[HistoryRequest, VersionPage] = {}
        for row in rows:
            after = None if row["after_id"] is None else VersionKey(int(row["below_version"]), str(row["after_id"]))
            request = by_position.get((str(row["memory_id"]), after))
            if request is not None:
                found[request] = VersionPage(
                    [item_from_node(node) for node in row["versions"]], bool(row["has_previous"])
                )
        return found

    def derivations(self, pairs: Sequence[tuple[str, str]]) -> dict[str, list[Derivation]]:
        """memory id -> what it derives from within its cube, for (cube_id, memory_id) pairs."""
        rows = self._store.read("traversal_derivations", pairs=_pairs(pairs, "memory_id"))
        cube_of = dict((memory_id, cube_id) for cube_id, memory_id in pairs)
        found: dict[str, list[Derivation]] = {}
        for row in rows:
            cube_id = cube_of[row["memory_id"]]
            entries = found.setdefault(row["memory_id"], [])
            for source in row["sources"]:
                label, node = source["label"], source["node"]
                target: ProvenanceNode | TextualMemoryItem = (
                    item_from_node(node) if label == "MemoryVersion" else provenance_from(label, cube_id, node)
                )
                entries.append(Derivation(str(source["kind"]), target))
        return found

    def provenance(
        self, label: ProvenanceLabel, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], ProvenanceNode]:
        """(cube_id, key) -> the cube's message or document with that key."""
        rows = self._store.read("traversal_provenance_nodes", label=label, pairs=_pairs(pairs, "key"))
        return {(row["cube_id"], row["key"]): provenance_from(label, row["cube_id"], row["node"]) for row in rows}

    def derived_memories(
        self, label: ProvenanceLabel, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[TextualMemoryItem]]:
        """(cube_id, key) -> the cube's memories derived from that message or document, oldest first."""
        kind = "message" if label == "Message" else "document"
        rows = self._store.read("traversal_derived_memories", label=label, kind=kind, pairs=_pairs(pairs, "key"))
        return {(row["cube_id"], row["key"]): [item_from_node(node) for node in row["memories"]] for row in rows}

    def shares(self, cube_ids: Sequence[str]) -> dict[str, list[Share]]:
        """cube id -> its shares, by user id."""
        rows = self._store.read("traversal_shares", cube_ids=list(cube_ids))
        return {
            row["cube_id"]: [Share(s["user_id"], Permission(s["permission"]), iso(s["since"])) for s in row["shares"]]
            for row in rows
        }

    def owned_cube_ids(self, user_ids: Sequence[str]) -> dict[str, list[str]]:
        """user id -> the ids of the active cubes it owns, oldest first."""
        rows = self._store.read("traversal_owned_cubes", user_ids=list(user_ids))
        return {row["user_id"]: list(row["cube_ids"]) for row in rows}

    def memories_by_id(self, memory_ids: Sequence[str]) -> dict[str, tuple[str, TextualMemoryItem]]:
        """memory id -> (its cube id, the memory), whatever the cube."""
        rows = self._store.read("traversal_memories_by_id", memory_ids=list(memory_ids))
        return {row["memory"]["id"]: (row["cube_id"], item_from_node(row["memory"])) for row in rows}


def provenance_from(label: ProvenanceLabel, cube_id: str, node: dict[str, Any]) -> ProvenanceNode:
    properties = {name: value for name, value in node.items() if name not in ("next_key", "previous_key")}
    for name in ("created_at", "updated_at"):
        properties[name] = iso(properties.get(name))
    return ProvenanceNode(label, cube_id, str(node["key"]), properties, node.get("next_key"), node.get("previous_key"))


def _pairs(pairs: Sequence[tuple[str, str]], second: str) -> list[dict[str, str]]:
    return [{"cube_id": cube_id, second: value} for cube_id, value in pairs]

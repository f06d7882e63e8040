"""MemCube nodes (their properties declared in graph/models.py) and the caller-relative cube queries."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import neo4j
from neo4j import ManagedTransaction

from memos_graph.domain import MemCube, Permission
from memos_graph.errors import Conflict, NotFound
from memos_graph.graph.convert import iso
from memos_graph.graph.cube_index import drop_dedicated_index
from memos_graph.graph.queries import query
from memos_graph.graph.store import GraphStore, run_named

# A purge runs in batches of 5,000 nodes; this bounds the whole statement (about a million nodes here).
PURGE_TIMEOUT_S = 3_600.0


@dataclass(frozen=True)
class CubeRelation:
    """One cube and how one user relates to it, as stored (before role rules are applied)."""

    cube: MemCube
    shared_permission: Permission | None
    is_loaded: bool
    loaded_since: str | None


def _cube_from_map(cube: dict[str, Any], owner_id: str) -> MemCube:
    return MemCube(
        cube_id=cube["id"],
        cube_name=cube["name"],
        owner_id=owner_id,
        cube_path=cube.get("path"),
        created_at=iso(cube.get("created_at")) or "",
        embedding_model=cube["embedding_model"],
        embedding_dim=int(cube["embedding_dim"]),
        is_active=bool(cube.get("is_active", True)),
    )


def relation_from_record(record: neo4j.Record) -> CubeRelation:
    """CubeRelation from a row of the cube_access / user_accessible_cubes_* queries."""
    permission = record["shared_permission"]
    return CubeRelation(
        cube=_cube_from_map(record["cube"], record["owner_id"]),
        shared_permission=None if permission is None else Permission(permission),
        is_loaded=bool(record["is_loaded"]),
        loaded_since=iso(record["loaded_since"]),
    )


def relations_in(tx: ManagedTransaction, user_id: str, cube_ids: Sequence[str]) -> dict[str, CubeRelation]:
    """The user's relation to each named cube that exists, inside a caller's transaction."""
    rows = run_named(tx, "cube_access", user_id=user_id, cube_ids=list(cube_ids))
    relations = (relation_from_record(row) for row in rows)
    return {relation.cube.cube_id: relation for relation in relations}


@dataclass(frozen=True)
class CubeGuard:
    """A check of a user's relations to cubes that a write runs first, inside its own transaction, so that
    a share revoked meanwhile still counts. `check` sees the relations of the cubes that exist (domain
    objects only); it raises to refuse the write, which then rolls back."""

    user_id: str
    cube_ids: tuple[str, ...]
    check: Callable[[Mapping[str, CubeRelation]], None]

    def __call__(self, tx: ManagedTransaction) -> None:
        self.check(relations_in(tx, self.user_id, self.cube_ids))


class CubeRepository:
    """Create cubes, read how users relate to them, share, load and unload."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def create(
        self,
        owner_id: str,
        cube_id: str,
        cube_name: str,
        cube_path: str | None,
        embedding_model: str,
        embedding_dim: int,
    ) -> MemCube:
        """Create a cube owned by owner_id and loaded for it, in one transaction; Conflict if the id is taken."""
        try:
            rows = self._store.run_write(
                lambda tx: run_named(
                    tx,
                    "cube_create",
                    owner_id=owner_id,
                    cube_id=cube_id,
                    cube_name=cube_name,
                    path=cube_path,
                    embedding_model=embedding_model,
                    embedding_dim=embedding_dim,
                )
            )
        except Conflict as exc:  # the only uniqueness a new cube can break
            raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id) from exc
        if not rows:
            raise NotFound("user", owner_id)
        return _cube_from_map(rows[0]["cube"], rows[0]["owner_id"])

    def relations(self, user_id: str, cube_ids: Sequence[str]) -> dict[str, CubeRelation]:
        """The user's relation to each named cube that exists."""
        return self._store.run_read(lambda tx: relations_in(tx, user_id, cube_ids))

    def visible(self, user_id: str, sees_all: bool) -> list[CubeRelation]:
        """Cubes the user owns or that are shared with it; every cube when sees_all (ROOT, ADMIN)."""
        name = "user_accessible_cubes_all" if sees_all else "user_accessible_cubes_owned_or_shared"
        return [relation_from_record(row) for row in self._store.read(name, user_id=user_id)]

    def load(self, user_id: str, cube_id: str) -> None:
        """Register the cube for the user (idempotent)."""
        self._store.run_write(lambda tx: run_named(tx, "cube_load", user_id=user_id, cube_id=cube_id))

    def unload(self, user_id: str, cube_id: str) -> bool:
        """Unregister the cube for the user; False if it was not loaded."""
        rows = self._store.run_write(lambda tx: run_named(tx, "cube_unload", user_id=user_id, cube_id=cube_id))
        return bool(rows and rows[0]["removed"])

    def share(self, cube_id: str, target_user_id: str, permission: Permission) -> None:
        """Create or update the SHARED_WITH edge."""
        self._store.run_write(
            lambda tx: run_named(
                tx, "cube_share", cube_id=cube_id, target_user_id=target_user_id, permission=permission.value
            )
        )

    def unshare(self, cube_id: str, target_user_id: str, drop_loaded: bool) -> Permission | None:
        """Remove the SHARED_WITH edge (and the user's LOADED edge when drop_loaded); the permission it had."""
        rows = self._store.run_write(
            lambda tx: run_named(
                tx, "cube_unshare", cube_id=cube_id, target_user_id=target_user_id, drop_loaded=drop_loaded
            )
        )
        return Permission(rows[0]["permission"]) if rows else None

    def owner_of(self, cube_id: str) -> tuple[str, bool] | None:
        """(owner id, is_active) of a cube in any state, or None when there is no such cube."""
        rows = self._store.read("cube_owner", cube_id=cube_id)
        return (str(rows[0]["owner_id"]), bool(rows[0]["is_active"])) if rows else None

    def owned_by(self, user_id: str) -> list[str]:
        """Ids of every cube the user owns, active or not."""
        return [str(row["cube_id"]) for row in self._store.read("user_owned_cubes", user_id=user_id)]

    def delete(self, cube_id: str) -> None:
        """Delete a cube and everything stored under its id, in three steps that can each be re-run.

        1. one transaction makes the cube inactive and drops its shares and loads (every check refuses it);
        2. batches of 5,000 nodes delete its memories, versions, messages, documents and BM25 terms;
        3. its own vector index, if it has one, is dropped, then the cube node goes.
        A failure part-way leaves an inactive cube that deleting it again finishes.
        """
        begun = self._store.run_write(lambda tx: run_named(tx, "cube_delete_begin", cube_id=cube_id))
        self._store.run_autocommit(query("cube_purge"), PURGE_TIMEOUT_S, cube_id=cube_id)
        own_index = begun[0]["vector_index"] if begun else None
        if own_index is not None:  # before the node goes: a failure here leaves the name for the re-run
            drop_dedicated_index(self._store, str(own_index))
        self._store.run_write(lambda tx: run_named(tx, "cube_delete_finish", cube_id=cube_id))

    def size(self, cube_id: str) -> tuple[int, int]:
        """(memories in the cube, memories in the graph)."""
        rows = self._store.read("cube_size", cube_id=cube_id)
        if not rows:
            return 0, 0
        return int(rows[0]["cube_memories"]), int(rows[0]["total_memories"])

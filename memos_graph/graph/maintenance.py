"""The statements behind the operator tasks (memos_graph/maintenance.py): re-embedding every memory and giving
old memories their event time, a page at a time, one write transaction per page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from memos_graph.domain import SourceReference
from memos_graph.graph.cube_index import drop_dedicated_index
from memos_graph.graph.queries import command, query
from memos_graph.graph.schema import VECTOR_INDEX
from memos_graph.graph.store import GraphStore, run_named

CUBE_INDEX_PREFIX = "cube_vector_"


@dataclass(frozen=True)
class ReembeddedCubes:
    """What recording the new model on every cube found: how many cubes, and those whose memories carry a
    label of their own (their own vector index is to be built again)."""

    cubes: int
    labelled: list[str]


@dataclass(frozen=True)
class UntimedMemory:
    """A memory stored before event times existed, with what an add reads its time from."""

    id: str
    memory: str
    sources: list[SourceReference]
    memory_time: str | None
    created_at: str | None


def begin_reembed(store: GraphStore, model: str, dimension: int) -> None:
    """Mark the graph as being re-embedded, forget and drop every cube's own vector index, drop the shared one."""
    store.run_statement(query("reembed_begin"), model=model, dimension=dimension)
    store.run_write(lambda tx: run_named(tx, "reembed_forget_cube_indexes"))
    own = store.run_statement(query("schema_vector_index_names"))
    for name in (str(row["name"]) for row in own):
        if name.startswith(CUBE_INDEX_PREFIX):
            drop_dedicated_index(store, name)
    store.run_statement(command("drop_index", index=VECTOR_INDEX))


def memory_count(store: GraphStore) -> int:
    """How many memories the graph holds."""
    return int(store.run_statement(query("reembed_memory_count"))[0]["n"])


def reembed_page(store: GraphStore, after: str, limit: int, window: int) -> list[dict[str, Any]]:
    """Up to `limit` memories after the id `after`, in id order: id, memory, the message it derives from (or
    None) and up to `window` messages before that one, each with its distance."""
    return [record.data() for record in store.read("reembed_page", after=after, limit=limit, window=window)]


def write_vectors(store: GraphStore, rows: list[dict[str, Any]]) -> None:
    """Store a page's new vectors (rows of id and embedding) in one write transaction."""
    store.run_write(lambda tx: run_named(tx, "reembed_write", rows=rows))


def record_model(store: GraphStore, model: str, dimension: int) -> ReembeddedCubes:
    """Record the model and dimension on every cube."""
    found = store.run_write(lambda tx: run_named(tx, "reembed_cubes", model=model, dimension=dimension))[0]
    return ReembeddedCubes(int(found["cubes"]), [str(cube_id) for cube_id in found["labelled"]])


def finish_reembed(store: GraphStore) -> None:
    """Clear the mark begin_reembed set: services may start again."""
    store.run_statement(query("reembed_finish"))


def untimed_count(store: GraphStore) -> int:
    """How many memories have no event time."""
    return int(store.run_statement(query("event_times_pending"))[0]["n"])


def untimed_page(store: GraphStore, after: str, limit: int) -> list[UntimedMemory]:
    """Up to `limit` memories without an event time after the id `after`, in id order."""
    return [
        UntimedMemory(
            id=str(record["id"]),
            memory=str(record["memory"]),
            sources=[SourceReference.model_validate(s) for s in json.loads(record.get("sources_json") or "[]")],
            memory_time=record.get("memory_time"),
            created_at=record.get("created_at"),
        )
        for record in store.read("event_times_page", after=after, limit=limit)
    ]


def write_event_times(store: GraphStore, rows: list[dict[str, Any]]) -> int:
    """Store a page's event times in one write transaction; how many memories took them (one that got its own
    meanwhile keeps it)."""
    written = store.run_write(lambda tx: run_named(tx, "event_times_write", rows=rows))
    return int(written[0]["written"])

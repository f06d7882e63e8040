"""A vector index of its own for each large cube.

Neo4j 5.26's vector index cannot filter inside the index: a query against the one index over every memory
(memory_embedding) returns the nearest memories of the whole graph, and a cube holding a share s of the graph
needs about top_k / s of them to keep top_k of its own. For a cube too large for the exact scan that is
several times top_k, and the HNSW search costs grow with it. A cube past `dedicated_index_min_memories`
therefore gets a label of its own on its memories and a vector index over that label: every answer of that
index is the cube's, so its searches ask for top_k x overfetch_factor whatever the cube's share
(bench/results/core.md has the measurement).

Promotion, in re-runnable steps, never on a request's critical path (MemoryService starts it in a thread
after the add that crossed the size commits):

1. claim: the cube records its label (`vector_label`); from then on every add labels its new memories,
   reading the label while it holds the cube's lock (memory_terms_add, memory_label_new), so no memory
   committed after the claim misses it;
2. sweep: every memory of the cube that lacks the label gets it, in batches;
3. create the index over the label with the shared index's configuration (dimension, similarity, HNSW
   settings, quantization: the same scores), IF NOT EXISTS; population continues in Neo4j's background;
4. once the index is online, record its name on the cube (`vector_index`): searches use it from then on
   (and fall back to the shared index if it is ever unavailable, IndexUnavailable).

Names come from a digest of the cube id, never from its text: `CubeMemory_<20 hex>` and
`cube_vector_<20 hex>`; deleting the cube drops the index. Shrinking below the size keeps it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from dataclasses import dataclass

from neo4j.exceptions import ClientError

from memos_graph.errors import IndexUnavailable
from memos_graph.graph.queries import command, query
from memos_graph.graph.store import GraphStore, run_named

logger = logging.getLogger(__name__)

_LABEL = re.compile(r"CubeMemory_[0-9a-f]{20}")
_INDEX = re.compile(r"cube_vector_[0-9a-f]{20}")
SWEEP_TIMEOUT_S = 3_600.0
POPULATE_TIMEOUT_S = 3_600
ALREADY_EXISTS_CODES = ("EquivalentSchemaRuleAlreadyExists", "IndexAlreadyExists")


@dataclass(frozen=True)
class DedicatedNames:
    """The label and index name of one cube's own vector index."""

    label: str
    index: str


def dedicated_names(cube_id: str) -> DedicatedNames:
    """The cube's label and index name, from a digest of its id (safe to place in a schema statement)."""
    digest = hashlib.sha256(cube_id.encode("utf-8")).hexdigest()[:20]
    return DedicatedNames(f"CubeMemory_{digest}", f"cube_vector_{digest}")


def checked_index_name(name: str) -> str:
    """An index name read back from the graph, refused unless it has the form dedicated_names gives."""
    if not _INDEX.fullmatch(name):
        raise ValueError(f"not a dedicated cube index name: {name!r}")
    return name


class DedicatedIndexes:
    """Creates and drops the vector indexes of large cubes (see the module docstring)."""

    def __init__(self, store: GraphStore, shared_index: str, min_memories: int | None) -> None:
        self._store = store
        self._shared_index = shared_index  # whose configuration (dimension, similarity, HNSW) each copies
        self._min_memories = min_memories  # search.dedicated_index_min_memories; None: never
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def promote(self, cube_id: str) -> str | None:
        """Give the cube its own vector index (steps 1-4); the index name, or None when the cube is not active
        or is being imported. Safe to run again and concurrently: every step is idempotent."""
        names = dedicated_names(cube_id)
        claimed = self._store.run_write(
            lambda tx: run_named(tx, "cube_vector_claim", cube_id=cube_id, label=names.label)
        )
        if not claimed:
            return None
        if not _LABEL.fullmatch(names.label) or not _INDEX.fullmatch(names.index):  # pragma: no cover - digest
            raise ValueError("dedicated index names must be digests")
        self._store.run_autocommit(query("cube_vector_sweep"), SWEEP_TIMEOUT_S, cube_id=cube_id, label=names.label)
        shared = self._store.run_statement(query("schema_vector_index"), name=self._shared_index)
        if not shared:
            raise IndexUnavailable(f"the shared vector index {self._shared_index} is missing; promote later")
        # The label and index name are digests checked above: no text of the caller reaches the statement.
        statement = command("cube_vector_index_create", index=names.index, label=names.label)
        try:
            self._store.run_statement(statement, config=dict(shared[0]["options"]["indexConfig"]))
        except ClientError as exc:
            if not (exc.code or "").endswith(ALREADY_EXISTS_CODES):
                raise
        # Searches start using the index only once it is online: Neo4j makes a query of a populating vector
        # index wait, then fail ("Expected index to come online within a reasonable time").
        self._store.run_slow_statement(
            query("cube_vector_await"),
            POPULATE_TIMEOUT_S + 30,
            {"name": names.index, "seconds": POPULATE_TIMEOUT_S},
        )
        self._store.run_write(
            lambda tx: run_named(tx, "cube_vector_ready", cube_id=cube_id, label=names.label, index=names.index)
        )
        logger.info("cube %s has its own vector index %s", cube_id, names.index)
        return names.index

    def promote_if_large(self, cube_id: str, cube_size: int, has_own_index: bool = False) -> None:
        """Start promote in the background once the cube holds min_memories and has no index of its own yet
        (after a write has committed: nothing may fail that write now)."""
        if self._min_memories is not None and cube_size >= self._min_memories and not has_own_index:
            self.promote_in_background(cube_id)

    def promote_in_background(self, cube_id: str) -> None:
        """promote in a daemon thread (once at a time per cube in this process); failures are logged: the add
        that asked has committed, and the next add past the size asks again."""
        with self._lock:
            if cube_id in self._running:
                return
            self._running.add(cube_id)

        def work() -> None:
            try:
                self.promote(cube_id)
            except Exception:
                logger.exception(
                    "could not give cube %s its own vector index (its searches use the shared one)", cube_id
                )
            finally:
                with self._lock:
                    self._running.discard(cube_id)

        threading.Thread(target=work, name=f"cube-index-{cube_id[:32]}", daemon=True).start()


def drop_dedicated_index(store: GraphStore, index_name: str) -> None:
    """Drop a deleted cube's own index (IF EXISTS: re-runnable)."""
    # An index name cannot be a parameter: checked_index_name refuses any but a digest name dedicated_names gives.
    store.run_statement(command("drop_index", index=checked_index_name(index_name)))

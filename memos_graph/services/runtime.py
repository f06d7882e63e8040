"""Everything the services share, built once per process from one MOSConfig."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from neomodel import db, get_config

from memos_graph.config import MOSConfig
from memos_graph.embeddings import Embedder, build_embedder
from memos_graph.graph.cube_index import DedicatedIndexes
from memos_graph.graph.cubes import CubeRepository
from memos_graph.graph.memories import MemoryRepository
from memos_graph.graph.schema import VECTOR_INDEX, apply_schema
from memos_graph.graph.store import GraphStore
from memos_graph.graph.traversal import TraversalRepository
from memos_graph.graph.users import UserRepository

logger = logging.getLogger(__name__)

# The open runtimes' stores, oldest first: neomodel's one process-wide connection follows the newest, and
# returns to the one before when that closes (two MOS instances in one process, one closed first).
_NEOMODEL_STORES: list[tuple[GraphStore, str]] = []


def _neomodel_on(store: GraphStore, database: str) -> None:
    _NEOMODEL_STORES.append((store, database))
    get_config().database_name = database
    db.set_connection(driver=store.driver)


def _neomodel_off(store: GraphStore) -> None:
    was_current = bool(_NEOMODEL_STORES) and _NEOMODEL_STORES[-1][0] is store
    _NEOMODEL_STORES[:] = [entry for entry in _NEOMODEL_STORES if entry[0] is not store]
    if was_current and _NEOMODEL_STORES:
        previous, database = _NEOMODEL_STORES[-1]
        get_config().database_name = database
        db.set_connection(driver=previous.driver)


@dataclass
class Runtime:
    """The graph store, repositories and embedder a MOS (or the GraphQL app) works with."""

    config: MOSConfig
    store: GraphStore
    embedder: Embedder
    users: UserRepository
    cubes: CubeRepository
    memories: MemoryRepository
    # Large cubes' own vector indexes (graph/cube_index.py), over this store and this config's size.
    cube_indexes: DedicatedIndexes = field(init=False)
    # The batched reads of the GraphQL traversal fields.
    traversal: TraversalRepository = field(init=False)

    def __post_init__(self) -> None:
        self.traversal = TraversalRepository(self.store)
        self.cube_indexes = DedicatedIndexes(self.store, VECTOR_INDEX, self.config.search.dedicated_index_min_memories)

    @classmethod
    def start(cls, config: MOSConfig, embedder: Embedder | None = None) -> Runtime:
        """Connect to Neo4j (waiting for it), load the embedder, apply the schema if configured."""
        store = GraphStore(config.neo4j)
        try:
            store.wait_until_ready(timeout_s=config.neo4j.connection_timeout_s * 4)
            # neomodel keeps one process-wide connection; point it at this driver (see _neomodel_on).
            _neomodel_on(store, config.neo4j.database)
            embedder = embedder or build_embedder(config.embedder)
            if config.apply_schema:
                apply_schema(
                    store,
                    embedder.dimension,
                    fulltext_analyzer=config.search.fulltext_analyzer,
                    model=embedder.model_name,
                )
        except BaseException:
            _neomodel_off(store)
            store.close()
            raise
        return cls(
            config=config,
            store=store,
            embedder=embedder,
            users=UserRepository(store),
            cubes=CubeRepository(store),
            memories=MemoryRepository(store),
        )

    def close(self) -> None:
        """Release the driver; neomodel goes back to the runtime started before this one, if still open."""
        _neomodel_off(self.store)
        self.store.close()

"""Everything the services share, built once per process from one MOSConfig."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from memos_graph.config import MOSConfig
from memos_graph.embeddings import Embedder, build_embedder
from memos_graph.embeddings.factory import same_model
from memos_graph.embeddings.routed import RoutedEmbedder
from memos_graph.graph import schema
from memos_graph.graph.cube_index import DedicatedIndexes
from memos_graph.graph.cubes import CubeRepository
from memos_graph.graph.memories import MemoryRepository
from memos_graph.graph.search import SearchIndexes
from memos_graph.graph.store import GraphStore
from memos_graph.graph.traversal import TraversalRepository
from memos_graph.graph.users import UserRepository
from memos_graph.services.llm_quota import LLMQuota

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The graph store, repositories and embedder a MOS (or the GraphQL app) works with.

    Every read and write of a runtime goes through its own store's driver: two runtimes in one process (two
    MOS instances, a test's and the app's) never share a connection or redirect each other.
    """

    config: MOSConfig
    store: GraphStore
    embedder: Embedder
    users: UserRepository
    cubes: CubeRepository
    memories: MemoryRepository
    # Large cubes' own vector indexes (graph/cube_index.py), over this store and this config's size.
    cube_indexes: DedicatedIndexes = field(init=False)
    # Every read a search runs (graph/search.py), the search service's one way to the graph.
    search: SearchIndexes = field(init=False)
    # The batched reads of the GraphQL traversal fields.
    traversal: TraversalRepository = field(init=False)
    # Each user's use of the chat model, counted across every door over this runtime (services/llm_quota.py).
    llm_quota: LLMQuota = field(init=False)

    def __post_init__(self) -> None:
        self.traversal = TraversalRepository(self.store)
        self.search = SearchIndexes(self.store, self.config)
        self.llm_quota = LLMQuota(self.config.llm)
        self.cube_indexes = DedicatedIndexes(
            self.store, schema.VECTOR_INDEX, self.config.search.dedicated_index_min_memories
        )

    @classmethod
    def start(cls, config: MOSConfig, embedder: Embedder | None = None, *, apply_schema: bool | None = None) -> Runtime:
        """Connect to Neo4j (waiting for it), load the embedder, apply the schema when `apply_schema` says so
        (None: as config.apply_schema says, the server's start-up path; MOS passes its own choice)."""
        store = GraphStore(config.neo4j)
        try:
            store.wait_until_ready(timeout_s=config.neo4j.connection_timeout_s * 4)
            # An embedder built here from the configuration fits itself to a graph built before multilingual
            # embedding; one passed in is used as given (the checks below refuse it when it does not fit).
            embedder = embedder or fit_graph(store, build_embedder(config.embedder))
            if config.apply_schema if apply_schema is None else apply_schema:
                schema.apply_schema(
                    store,
                    embedder.dimension,
                    fulltext_analyzer=config.search.fulltext_analyzer,
                    model=embedder.model_name,
                )
        except BaseException:
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
        """Release the driver."""
        self.store.close()


def fit_graph(store: GraphStore, embedder: Embedder) -> Embedder:
    """The embedder to run on this graph: a graph built before multilingual embedding (its vector index of
    the English model's dimension, its memories of that model alone) keeps the English model for every text,
    with a warning naming the re-embed that gives other scripts the multilingual model; else `embedder`."""
    if not isinstance(embedder, RoutedEmbedder):
        return embedder
    english = embedder.english
    if schema.stored_vector_dimension(store) != english.dimension or english.dimension == embedder.dimension:
        return embedder
    models = schema.embedding_models(store)
    if not models or any(not same_model(model, english.model_name) for model, _ in models):
        return embedder  # no memories (the index is rebuilt), or another model's (the start-up checks name it)
    logger.warning(
        "this graph was built with %s alone (vector dimension %d): texts in every script are embedded with it; "
        "`%s` re-embeds it so that Chinese, Japanese, Korean and other non-Latin texts get %s",
        english.model_name,
        english.dimension,
        schema.REEMBED_COMMAND,
        embedder.model_name,
    )
    return english

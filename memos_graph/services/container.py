"""Start-up shared by the MOS class and the GraphQL app: a runtime, the services over it, the root user."""

from __future__ import annotations

from dataclasses import dataclass

from memos_graph.config import MOSConfig
from memos_graph.embeddings import Embedder
from memos_graph.services.bundle import Services
from memos_graph.services.runtime import Runtime


@dataclass(frozen=True)
class Started:
    """The services and whether their runtime was started here (and so is closed here)."""

    services: Services
    owns_runtime: bool

    @property
    def runtime(self) -> Runtime:
        return self.services.runtime

    def close(self) -> None:
        """Release the Neo4j driver, when this start-up opened it."""
        if self.owns_runtime:
            self.runtime.close()


def start_services(
    config: MOSConfig,
    runtime: Runtime | None = None,
    embedder: Embedder | None = None,
    apply_schema: bool | None = None,
    served: bool = False,
) -> Started:
    """Connect (unless given a runtime; applying the schema as `apply_schema` says, None: as the config says),
    build every service (`served`: with the network's policy, see Services.over) and make sure the root user
    and its key exist; a runtime started here is closed again when that fails."""
    owned = runtime is None
    running = runtime or Runtime.start(config, embedder, apply_schema=apply_schema)
    try:
        started = Started(Services.over(running, served), owned)
        started.services.users.bootstrap(config.user_id, config.user_name, config.root_api_key)
    except BaseException:
        if owned:
            running.close()
        raise
    return started


@dataclass(frozen=True)
class SchemaApplied:
    """The vector index's model and dimension, as the schema now holds them."""

    embedding_model: str
    embedding_dim: int


def apply_schema(config: MOSConfig) -> SchemaApplied:
    """Create missing constraints and indexes and check the vector index against the embedder's dimension.

    The dimension is the embedder's, known only once the model is loaded, so this connects and loads it; no
    services are built and no user is bootstrapped (an operator's step before anything serves)."""
    runtime = Runtime.start(config, apply_schema=True)
    try:
        return SchemaApplied(runtime.embedder.model_name, runtime.embedder.dimension)
    finally:
        runtime.close()

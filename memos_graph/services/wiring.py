"""The wiring: every service built over one runtime (Services.over), what the MOS class, the GraphQL app, the
MCP server and the CLI call; and the start-up they share (start_services: a runtime, the services over it,
the root user), with the operator's schema step (apply_schema)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

from memos_graph.config import MOSConfig
from memos_graph.domain import CubeAccess, User
from memos_graph.embeddings import Embedder
from memos_graph.errors import InvalidInput
from memos_graph.graph.chat import ChatRepository
from memos_graph.graph.health import HealthRepository
from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.chat import ChatService
from memos_graph.services.cube_dump import CubeDumpService
from memos_graph.services.cube_import import CubeImportService
from memos_graph.services.cubes import CubeService
from memos_graph.services.documents import DocumentService
from memos_graph.services.extraction import FineIngestion
from memos_graph.services.health import HealthService
from memos_graph.services.identity import ApiKeys, IdentityService
from memos_graph.services.memories import MemoryService
from memos_graph.services.runtime import Runtime
from memos_graph.services.search import SearchService
from memos_graph.services.transfer import CubeTransferService
from memos_graph.services.transfer_paths import TransferPaths
from memos_graph.services.traversal import TraversalService
from memos_graph.services.users import UserService


class AddInput(TypedDict, total=False):
    """What add() takes besides the actor and the cube."""

    messages: object
    content: str | Sequence[str] | None
    doc_path: str | None
    session_id: str | None


@dataclass(frozen=True)
class Services:
    """The operations of the MOS API, each taking the calling user explicitly."""

    runtime: Runtime
    cubes: CubeService
    users: UserService
    memories: MemoryService
    search: SearchService
    identity: IdentityService
    chat: ChatService
    documents: DocumentService
    extraction: FineIngestion
    transfer: CubeTransferService
    traversal: TraversalService
    health: HealthService

    @classmethod
    def over(cls, runtime: Runtime, served: bool = False) -> Services:
        """Build every service on one runtime; `served`: for callers over the network (the GraphQL app), whose
        policy is stricter (dumps and imports only inside configured transfer roots; documents only from the
        caller's own area of the document roots and the shared roots)."""
        config, store, embedder = runtime.config, runtime.store, runtime.embedder
        cubes = CubeService(runtime.users, runtime.cubes, embedder, config.limits)
        search = SearchService(config, embedder, runtime.search, cubes)
        memories = MemoryService(config, embedder, runtime.memories, runtime.cube_indexes, cubes)
        keys = ApiKeys(runtime.users, store)
        # Dumps and imports: over the network, only inside configured transfer roots.
        paths = TransferPaths(config.transfer, require_roots=served)
        transfers = CubeTransferRepository(store, config.transfer.import_lease_s)
        work = (config, embedder, runtime.cube_indexes, transfers, cubes, paths)
        return cls(
            runtime=runtime,
            cubes=cubes,
            users=UserService(config, runtime.users, runtime.cubes, keys, cubes),
            memories=memories,
            search=search,
            identity=IdentityService(keys, config.limits.api_key_cache_s),
            chat=ChatService(config, ChatRepository(store), runtime.llm_quota, search),
            documents=DocumentService(config, runtime.memories, memories, per_user=served),
            extraction=FineIngestion(config, embedder, runtime.llm_quota, memories, search),
            transfer=CubeTransferService(CubeDumpService(*work), CubeImportService(*work)),
            traversal=TraversalService(runtime.users, runtime.traversal, cubes),
            health=HealthService(HealthRepository(store)),
        )

    def create_cube(
        self, actor: User, cube_name: str, owner_id: str, cube_path: str | None = None, cube_id: str | None = None
    ) -> CubeAccess:
        """Create a cube and answer with the actor's access to it (as GraphQL's createCube returns it)."""
        cube = self.cubes.create_cube(actor, cube_name, owner_id, cube_path, cube_id)
        (granted,) = self.cubes.readable(actor, [cube.cube_id])
        return granted

    def register_cube(self, actor: User, cube_id: str) -> CubeAccess:
        """Load a cube the actor may read and answer with its access, now loaded."""
        self.cubes.register(actor, cube_id)
        (granted,) = self.cubes.readable(actor, [cube_id])
        return granted

    def add_to(self, actor: User, cube_id: str | None, **given: Unpack[AddInput]) -> tuple[str, list[str]]:
        """add() that says where it wrote: the named cube, else the actor's default cube; returns the cube id
        and the memory ids."""
        target = cube_id or self.cubes.default_cube(actor).cube.cube_id
        return target, self.add(actor, cube_id=target, **given)

    def add(
        self,
        actor: User,
        *,
        messages: object = None,
        content: str | Sequence[str] | None = None,
        doc_path: str | None = None,
        cube_id: str | None = None,
        session_id: str | None = None,
    ) -> list[str]:
        """Add from exactly one kind of input: chat messages, text content, or a document path."""
        if sum(value is not None for value in (messages, content, doc_path)) != 1:
            raise InvalidInput("pass exactly one kind of input: messages, content (memory_content) or a document path")
        if messages is not None:
            return self.add_messages(actor, messages, cube_id, session_id)
        if doc_path is not None:
            return self.documents.add(actor, doc_path, cube_id, session_id)
        return self.memories.add_texts(actor, content or [], cube_id, session_id)

    def add_messages(
        self, actor: User, messages: object, cube_id: str | None, session_id: str | None = None
    ) -> list[str]:
        """add(messages=...) in the configured mode: fast (a memory per message) or fine (LLM facts)."""
        if self.runtime.config.ingest.mode == "fine":
            return self.extraction.add(actor, messages, cube_id, session_id)
        return self.memories.add_messages(actor, messages, cube_id, session_id)


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

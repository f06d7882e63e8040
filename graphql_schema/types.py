"""GraphQL object types and their construction from domain objects."""

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphql_schema.context import Info
from memos_graph.domain import CubeAccess, TextualMemoryItem, User
from memos_graph.services.transfer import TransferReport


@strawberry.enum(description="What a user may do; see the role table in the README.")
class Role(Enum):
    ROOT = "root"
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"


@strawberry.enum(description="What a share grants.")
class SharePermission(Enum):
    READ = "read"
    WRITE = "write"


@strawberry.type(name="User", description="A user of the memory service.")
class UserType:
    id: strawberry.ID
    name: str
    role: Role
    created_at: str
    is_active: bool

    @classmethod
    def of(cls, user: User) -> UserType:
        """From the domain user."""
        return cls(
            id=strawberry.ID(user.user_id),
            name=user.user_name,
            role=Role(user.role.value),
            created_at=user.created_at,
            is_active=user.is_active,
        )


@strawberry.type(name="MemCube", description="A memory cube, as the caller sees it.")
class MemCubeType:
    id: strawberry.ID
    name: str
    path: str | None
    created_at: str
    owner_id: strawberry.ID
    embedding_model: str
    embedding_dim: int
    is_loaded: bool = strawberry.field(description="Registered in the caller's loaded cubes.")
    can_write: bool = strawberry.field(description="The caller may add, update and delete here.")

    @strawberry.field(description="The cube's owner.")
    async def owner(self, info: Info) -> UserType | None:
        user = await info.context.user_loader.load(str(self.owner_id))
        return None if user is None else UserType.of(user)

    @classmethod
    def of(cls, access: CubeAccess) -> MemCubeType:
        """From the caller's access record for a cube."""
        cube = access.cube
        return cls(
            id=strawberry.ID(cube.cube_id),
            name=cube.cube_name,
            path=cube.cube_path,
            created_at=cube.created_at,
            owner_id=strawberry.ID(cube.owner_id),
            embedding_model=cube.embedding_model,
            embedding_dim=cube.embedding_dim,
            is_loaded=access.is_loaded,
            can_write=access.can_write,
        )


@strawberry.type(description="Where a memory came from.")
class MemorySource:
    type: str
    role: str | None
    chat_time: str | None
    message_id: str | None
    content: str | None
    doc_path: str | None


@strawberry.type(description="A memory's metadata (TextualMemoryItem.metadata).")
class MemoryMetadata:
    user_id: str | None
    session_id: str | None
    status: str
    type: str | None
    memory_type: str
    key: str | None
    tags: list[str]
    confidence: float | None
    source: str | None
    sources: list[MemorySource]
    created_at: str | None
    updated_at: str | None
    updated_by: str | None = strawberry.field(
        description="Who made the latest edit of this state (null: unedited since userId wrote it)."
    )
    background: str | None
    version: int | None
    relativity: float | None = strawberry.field(
        description="Search relevance in [0, 1], higher is better (search results only)."
    )
    extra: JSON = strawberry.field(description="Keys the caller added beyond the schema.")


@strawberry.type(name="Memory", description="One textual memory.")
class MemoryType:
    id: strawberry.ID
    cube_id: strawberry.ID
    memory: str
    metadata: MemoryMetadata

    @strawberry.field(description="The cube holding this memory.")
    async def cube(self, info: Info) -> MemCubeType | None:
        access = await info.context.cube_loader.load(str(self.cube_id))
        return None if access is None else MemCubeType.of(access)

    @classmethod
    def of(cls, item: TextualMemoryItem, cube_id: str) -> MemoryType:
        """From a domain memory item."""
        meta = item.metadata
        return cls(
            id=strawberry.ID(item.id),
            cube_id=strawberry.ID(cube_id),
            memory=item.memory,
            metadata=MemoryMetadata(
                user_id=meta.user_id,
                session_id=meta.session_id,
                status=str(meta.status),
                type=meta.type,
                memory_type=str(meta.memory_type),
                key=meta.key,
                tags=list(meta.tags),
                confidence=meta.confidence,
                source=meta.source,
                sources=[
                    MemorySource(
                        type=s.type,
                        role=s.role,
                        chat_time=s.chat_time,
                        message_id=s.message_id,
                        content=s.content,
                        doc_path=s.doc_path,
                    )
                    for s in meta.sources
                ],
                created_at=meta.created_at,
                updated_at=meta.updated_at,
                updated_by=meta.updated_by,
                background=meta.background,
                version=meta.version,
                relativity=meta.relativity,
                extra=cast(JSON, meta.extra_fields()),
            ),
        )


@strawberry.type(description="One cube's memories in a search or listing.")
class CubeMemories:
    cube_id: strawberry.ID
    memories: list[MemoryType]


@strawberry.type(description="The MOS search shape: textual memories grouped by cube.")
class SearchResult:
    text_mem: list[CubeMemories]
    act_mem: list[JSON] = strawberry.field(description="Activation memories; empty (no backend).")
    para_mem: list[JSON] = strawberry.field(description="Parametric memories; empty (no backend).")


@strawberry.type(description="The caller and the cubes it may read.")
class UserInfo:
    user: UserType
    accessible_cubes: list[MemCubeType]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class MemoryEdge:
    cursor: str
    node: MemoryType


@strawberry.type(description="A page of a cube's memories, oldest first.")
class MemoryConnection:
    edges: list[MemoryEdge]
    page_info: PageInfo


@strawberry.type(description="A new user and its API key. The key is shown only here; only its hash is kept.")
class CreateUserPayload:
    user: UserType
    api_key: str


@strawberry.type(description="The ids of the memories holding the added content, in input order.")
class AddMemoriesPayload:
    cube_id: strawberry.ID
    ids: list[strawberry.ID]


@strawberry.type(description="What a cube dump wrote or a cube import stored (paths are on the server).")
class CubeTransferPayload:
    cube_id: strawberry.ID
    path: str
    memories: int
    versions: int = strawberry.field(description="Earlier versions of memories (update history).")
    messages: int
    documents: int
    edges: int
    reembedded: bool = strawberry.field(description="The import embedded the texts again (other model or none).")
    merged_duplicates: int = strawberry.field(description="Memories of the directory whose text repeated another.")
    new_ids: bool = strawberry.field(
        description="The graph held the directory's ids already, so the import gave its nodes new ones."
    )

    @classmethod
    def of(cls, report: TransferReport) -> CubeTransferPayload:
        """The payload for a service report."""
        return cls(
            cube_id=strawberry.ID(report.cube_id),
            path=report.path,
            memories=report.memories,
            versions=report.versions,
            messages=report.messages,
            documents=report.documents,
            edges=report.edges,
            reembedded=report.reembedded,
            merged_duplicates=report.merged_duplicates,
            new_ids=report.new_ids,
        )

"""GraphQL object types and their construction from domain objects.

User, MemCube, Memory, Message and Document are Relay nodes: `id` is a global id (see graphql_schema/ids.py)
and Query.node(id:) finds any of them; their plain ids are userId, cubeId and memoryId. Fields that walk the
graph (User.cubes, MemCube.sharedWith, Memory.history, Memory.derivedFrom, Message.next, ...) load through
per-request DataLoaders (graphql_schema/context.py): one batch of statements per level of a query, however
many parents it has, each under the caller's access (memos_graph/services/traversal.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graphql_schema.context import Info
from graphql_schema.ids import pair_key, pair_of
from memos_graph.domain import CubeAccess, TextualMemoryItem, User
from memos_graph.domain.traversal import ProvenanceNode, Share
from memos_graph.errors import InvalidInput
from memos_graph.services.memories import HISTORY_PAGE
from memos_graph.services.transfer import TransferReport
from memos_graph.services.validation import MAX_PAGE

if TYPE_CHECKING:
    from graphql_schema.inputs import MemoryOrderInput, MemoryWhere


def when(text: str | None) -> dt.datetime | None:
    """A DateTime from the ISO text the domain carries."""
    return None if not text else dt.datetime.fromisoformat(text)


@strawberry.enum(description="What a user may do; see the role table in docs/access.md.")
class Role(Enum):
    ROOT = "root"
    ADMIN = "admin"
    USER = "user"
    GUEST = "guest"


@strawberry.enum(description="What a share grants.")
class SharePermission(Enum):
    READ = "read"
    WRITE = "write"


@strawberry.enum(name="MemoryStatus", description="A memory's lifecycle state.")
class MemoryStatusEnum(Enum):
    ACTIVATED = "activated"
    ARCHIVED = "archived"
    DELETED = "deleted"


@strawberry.enum(description="Where a memory came from, as MemOS names it (metadata.source); OTHER for any other text.")
class MemorySourceKind(Enum):
    CONVERSATION = "conversation"
    RETRIEVED = "retrieved"
    WEB = "web"
    FILE = "file"
    SYSTEM = "system"
    OTHER = "other"


def source_kind(source: str | None) -> MemorySourceKind | None:
    if source is None:
        return None
    try:
        return MemorySourceKind(source)
    except ValueError:
        return MemorySourceKind.OTHER


@strawberry.enum(description="What a DERIVED_FROM edge records.")
class DerivationKind(Enum):
    MESSAGE = "message"
    DOCUMENT = "document"
    UPDATE = "update"


@strawberry.type(
    name="User",
    description="A user of the memory service. Its name, role, createdAt and isActive are shown to the user "
    "itself and to ROOT and ADMIN; anyone else (a cube's owner or a share's user, seen by a USER or GUEST) "
    "sees the user id alone, and null for those.",
)
class UserType(relay.Node):
    user_key: relay.NodeID[str]
    user_id: strawberry.ID = strawberry.field(description="The plain user id.")
    profile: strawberry.Private[User]

    def _shown(self, info: Info) -> bool:
        return info.context.services.traversal.sees_user(info.context.caller, self.profile.user_id)

    @strawberry.field(description="Display name (null unless the caller may see this user's profile).")
    def name(self, info: Info) -> str | None:
        return self.profile.user_name if self._shown(info) else None

    @strawberry.field(description="Role (null unless the caller may see this user's profile).")
    def role(self, info: Info) -> Role | None:
        return Role(self.profile.role.value) if self._shown(info) else None

    @strawberry.field(description="When the user was created (null unless the caller may see its profile).")
    def created_at(self, info: Info) -> dt.datetime | None:
        return when(self.profile.created_at) if self._shown(info) else None

    @strawberry.field(description="Whether the user is active (null unless the caller may see its profile).")
    def is_active(self, info: Info) -> bool | None:
        return self.profile.is_active if self._shown(info) else None

    @strawberry.field(description="The active cubes this user owns that the caller may read, oldest first.")
    async def cubes(self, info: Info) -> list[MemCubeType]:
        return [MemCubeType.of(entry) for entry in await info.context.owned_cubes_loader.load(str(self.user_id))]

    @classmethod
    def of(cls, user: User) -> UserType:
        """From the domain user."""
        return cls(user_key=user.user_id, user_id=strawberry.ID(user.user_id), profile=user)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserType | None]:
        """node(id:) for users: the caller itself, or (ROOT, ADMIN) any user; others' are null, as if unknown."""
        ctx = info.context
        ids = list(node_ids)
        visible = [i for i in ids if ctx.services.traversal.sees_user(ctx.caller, i)]
        found = await info.context.user_loader.load_many(visible)
        users = dict(zip(visible, found, strict=True))
        return [None if users.get(i) is None else UserType.of(cast(User, users[i])) for i in ids]


@strawberry.type(description="A share of a cube: with whom, what it grants, since when.")
class ShareEdge:
    permission: SharePermission
    since: dt.datetime | None
    user_id: strawberry.ID

    @strawberry.field(description="The user the cube is shared with.")
    async def node(self, info: Info) -> UserType | None:
        user = await info.context.user_loader.load(str(self.user_id))
        return None if user is None else UserType.of(user)

    @classmethod
    def of(cls, share: Share) -> ShareEdge:
        return cls(
            permission=SharePermission(share.permission.value),
            since=when(share.since),
            user_id=strawberry.ID(share.user_id),
        )


@strawberry.type(name="MemCube", description="A memory cube, as the caller sees it.")
class MemCubeType(relay.Node):
    cube_key: relay.NodeID[str]
    cube_id: strawberry.ID = strawberry.field(description="The plain cube id.")
    name: str
    path: str | None
    created_at: dt.datetime | None
    owner_id: strawberry.ID
    embedding_model: str
    embedding_dim: int
    is_loaded: bool = strawberry.field(description="Registered in the caller's loaded cubes.")
    can_write: bool = strawberry.field(description="The caller may add, update and delete here.")

    @strawberry.field(description="The cube's owner.")
    async def owner(self, info: Info) -> UserType | None:
        user = await info.context.user_loader.load(str(self.owner_id))
        return None if user is None else UserType.of(user)

    @strawberry.field(
        description="Whom the cube is shared with: every share for its owner, ROOT and ADMIN; for anyone else, "
        "only the caller's own share."
    )
    async def shared_with(self, info: Info) -> list[ShareEdge]:
        return [ShareEdge.of(share) for share in await info.context.shares_loader.load(str(self.cube_id))]

    @strawberry.field(
        description="A page of the cube's memories that pass `where`, in `orderBy` (default: oldest first); "
        "first <= 100."
    )
    async def memories(
        self,
        info: Info,
        where: Annotated[MemoryWhere, strawberry.lazy("graphql_schema.inputs")] | None = None,
        order_by: Annotated[MemoryOrderInput, strawberry.lazy("graphql_schema.inputs")] | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> MemoryConnection:
        from graphql_schema.connections import memory_connection

        return await memory_connection(info, str(self.cube_id), where, order_by, first, after)

    @classmethod
    def of(cls, access: CubeAccess) -> MemCubeType:
        """From the caller's access record for a cube."""
        cube = access.cube
        return cls(
            cube_key=cube.cube_id,
            cube_id=strawberry.ID(cube.cube_id),
            name=cube.cube_name,
            path=cube.cube_path,
            created_at=when(cube.created_at),
            owner_id=strawberry.ID(cube.owner_id),
            embedding_model=cube.embedding_model,
            embedding_dim=cube.embedding_dim,
            is_loaded=access.is_loaded,
            can_write=access.can_write,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MemCubeType | None]:
        """node(id:) for cubes: null for one the caller may not read, as for one that does not exist."""
        found = await info.context.cube_loader.load_many(list(node_ids))
        return [None if entry is None else MemCubeType.of(entry) for entry in found]


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
    status: MemoryStatusEnum
    type: str | None
    memory_type: str
    key: str | None
    tags: list[str]
    confidence: float | None
    source: str | None
    source_kind: MemorySourceKind | None = strawberry.field(description="metadata.source as an enum.")
    sources: list[MemorySource]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    updated_by: str | None = strawberry.field(
        description="Who made the latest edit of this state (null: unedited since userId wrote it)."
    )
    background: str | None
    memory_time: str | None = strawberry.field(
        description="When the memory's event happened, YYYY-MM-DD (set on add from the text and chat_time, or given)."
    )
    event_start: dt.datetime | None = strawberry.field(description="The event's span starts (included).")
    event_end: dt.datetime | None = strawberry.field(description="The event's span ends (excluded).")
    time_source: str | None = strawberry.field(
        description="Where the event time came from: text, chat_time, added or caller."
    )
    version: int | None
    relativity: float | None = strawberry.field(
        description="Search relevance in [0, 1], higher is better (search results only)."
    )
    extra: JSON = strawberry.field(description="Keys the caller added beyond the schema.")

    @classmethod
    def of(cls, item: TextualMemoryItem) -> MemoryMetadata:
        meta = item.metadata
        return cls(
            user_id=meta.user_id,
            session_id=meta.session_id,
            status=MemoryStatusEnum(str(meta.status)),
            type=meta.type,
            memory_type=str(meta.memory_type),
            key=meta.key,
            tags=list(meta.tags),
            confidence=meta.confidence,
            source=meta.source,
            source_kind=source_kind(meta.source),
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
            created_at=when(meta.created_at),
            updated_at=when(meta.updated_at),
            updated_by=meta.updated_by,
            background=meta.background,
            memory_time=meta.memory_time,
            event_start=when(meta.event_start),
            event_end=when(meta.event_end),
            time_source=meta.time_source,
            version=meta.version,
            relativity=meta.relativity,
            extra=cast(JSON, meta.extra_fields()),
        )


@strawberry.type(description="An earlier state of a memory, kept when it was updated.")
class MemoryVersion:
    id: strawberry.ID = strawberry.field(description="The version's own id.")
    memory_id: strawberry.ID = strawberry.field(description="The memory it is a version of.")
    version: int | None
    memory: str
    updated_by: str | None = strawberry.field(description="Who made this state (null: its author, userId).")
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    metadata: MemoryMetadata

    @classmethod
    def of(cls, item: TextualMemoryItem, memory_id: str) -> MemoryVersion:
        """From a MemoryVersion node's item, a version of the memory `memory_id`."""
        return cls(
            id=strawberry.ID(item.id),
            memory_id=strawberry.ID(memory_id),
            version=item.metadata.version,
            memory=item.memory,
            updated_by=item.metadata.updated_by,
            created_at=when(item.metadata.created_at),
            updated_at=when(item.metadata.updated_at),
            metadata=MemoryMetadata.of(item),
        )


def _text(properties: dict[str, Any], name: str) -> str | None:
    value = properties.get(name)
    return None if value is None else str(value)


@strawberry.type(name="Message", description="A chat message a memory was taken from (a :Message of the cube).")
class MessageType(relay.Node):
    message_key: relay.NodeID[str]
    cube_id: strawberry.ID
    key: str = strawberry.field(description="The message's key within its cube (its messageId, else a hash).")
    role: str | None
    content: str | None
    name: str | None
    chat_time: str | None
    message_id: str | None
    session_id: str | None
    created_at: dt.datetime | None
    next_key: strawberry.Private[str | None]
    previous_key: strawberry.Private[str | None]

    @strawberry.field(description="The message after this one in its conversation (NEXT).")
    async def next(self, info: Info) -> MessageType | None:
        return await _message(info, str(self.cube_id), self.next_key)

    @strawberry.field(description="The message before this one in its conversation.")
    async def previous(self, info: Info) -> MessageType | None:
        return await _message(info, str(self.cube_id), self.previous_key)

    @strawberry.field(description="The memories taken from this message, oldest first.")
    async def memories(self, info: Info) -> list[MemoryType]:
        items = await info.context.message_memories_loader.load((str(self.cube_id), self.key))
        return [MemoryType.of(item, str(self.cube_id)) for item in items]

    @classmethod
    def of(cls, node: ProvenanceNode) -> MessageType:
        p = node.properties
        return cls(
            message_key=pair_key(node.cube_id, node.key),
            cube_id=strawberry.ID(node.cube_id),
            key=node.key,
            role=_text(p, "role"),
            content=_text(p, "content"),
            name=_text(p, "name"),
            chat_time=_text(p, "chat_time"),
            message_id=_text(p, "message_id"),
            session_id=_text(p, "session_id"),
            created_at=when(_text(p, "created_at")),
            next_key=node.next_key,
            previous_key=node.previous_key,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MessageType | None]:
        """node(id:) for messages; null where the caller may not read the cube."""
        return [await _message(info, *pair) if pair else None for pair in map(pair_of, node_ids)]


async def _message(info: Info, cube_id: str, key: str | None) -> MessageType | None:
    if key is None:
        return None
    node = await info.context.message_loader.load((cube_id, key))
    return None if node is None else MessageType.of(node)


@strawberry.type(name="Document", description="A document file whose chunks are memories (a :Document of the cube).")
class DocumentType(relay.Node):
    document_key: relay.NodeID[str]
    cube_id: strawberry.ID
    key: str
    path: str | None
    name: str | None
    checksum: str | None = strawberry.field(description="SHA-256 of the file's bytes when it was added.")
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @strawberry.field(description="The memories chunked from this document, in order.")
    async def chunks(self, info: Info) -> list[MemoryType]:
        items = await info.context.document_chunks_loader.load((str(self.cube_id), self.key))
        return [MemoryType.of(item, str(self.cube_id)) for item in items]

    @classmethod
    def of(cls, node: ProvenanceNode) -> DocumentType:
        p = node.properties
        return cls(
            document_key=pair_key(node.cube_id, node.key),
            cube_id=strawberry.ID(node.cube_id),
            key=node.key,
            path=_text(p, "path"),
            name=_text(p, "name"),
            checksum=_text(p, "checksum"),
            created_at=when(_text(p, "created_at")),
            updated_at=when(_text(p, "updated_at")),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[DocumentType | None]:
        """node(id:) for documents; null where the caller may not read the cube."""
        found: list[DocumentType | None] = []
        for pair in map(pair_of, node_ids):
            node = None if pair is None else await info.context.document_loader.load(pair)
            found.append(None if node is None else DocumentType.of(node))
        return found


Provenance = Annotated[MessageType | DocumentType | MemoryVersion, strawberry.union("Provenance")]


@strawberry.type(description="A DERIVED_FROM edge: what kind of derivation, and its target.")
class DerivationEdge:
    kind: DerivationKind
    node: Provenance


@strawberry.type(name="Memory", description="One textual memory.")
class MemoryType(relay.Node):
    memory_key: relay.NodeID[str]
    memory_id: strawberry.ID = strawberry.field(description="The plain memory id (what addMemories returns).")
    cube_id: strawberry.ID
    memory: str
    metadata: MemoryMetadata

    @strawberry.field(description="The cube holding this memory.")
    async def cube(self, info: Info) -> MemCubeType | None:
        access = await info.context.cube_loader.load(str(self.cube_id))
        return None if access is None else MemCubeType.of(access)

    @strawberry.field(
        description=f"A page of this memory's earlier versions, newest first; first <= {MAX_PAGE} (a memory keeps "
        "its newest limits.max_versions versions)."
    )
    async def history(self, info: Info, first: int = HISTORY_PAGE, after: str | None = None) -> MemoryVersionConnection:
        from graphql_schema.connections import decode_version_cursor, version_connection

        position = decode_version_cursor(after)
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"first must be from 1 to {MAX_PAGE}")
        page = await info.context.history_loader(first).load((str(self.cube_id), str(self.memory_id), position))
        return version_connection(page, first, str(self.memory_id))

    @strawberry.field(description="What this memory derives from: messages, documents, its previous version.")
    async def derived_from(self, info: Info) -> list[DerivationEdge]:
        found = await info.context.derivation_loader.load((str(self.cube_id), str(self.memory_id)))
        edges = []
        for derivation in found:
            source = derivation.source
            node: MessageType | DocumentType | MemoryVersion
            if isinstance(source, TextualMemoryItem):
                node = MemoryVersion.of(source, str(self.memory_id))
            elif source.label == "Message":
                node = MessageType.of(source)
            else:
                node = DocumentType.of(source)
            edges.append(DerivationEdge(kind=DerivationKind(derivation.kind), node=node))
        return edges

    @classmethod
    def of(cls, item: TextualMemoryItem, cube_id: str) -> MemoryType:
        """From a domain memory item."""
        return cls(
            memory_key=item.id,
            memory_id=strawberry.ID(item.id),
            cube_id=strawberry.ID(cube_id),
            memory=item.memory,
            metadata=MemoryMetadata.of(item),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MemoryType | None]:
        """node(id:) for memories: null for one in a cube the caller may not read, as for one that is gone."""
        found = await info.context.memory_node_loader.load_many(list(node_ids))
        return [None if pair is None else MemoryType.of(pair[1], pair[0]) for pair in found]


@strawberry.type(description="One cube's memories in a search or listing.")
class CubeMemories:
    cube_id: strawberry.ID
    memories: list[MemoryType]


@strawberry.type(
    description="One memory a search found, with the score this search gave it. The score lives here, beside "
    "the node, not on the node: a client cache that normalises Memory by id (Apollo, urql) keeps each search's "
    "scores apart."
)
class SearchHit:
    cube_id: strawberry.ID = strawberry.field(description="The cube it was found in.")
    rank: int = strawberry.field(description="1 for the best hit of its cube, then 2, 3, ...")
    relativity: float = strawberry.field(description="Relevance in [0, 1] for this search, higher is better.")
    node: MemoryType


@strawberry.type(description="The MOS search shape: textual memories grouped by cube.")
class SearchResult:
    text_mem: list[CubeMemories]
    hits: list[SearchHit] = strawberry.field(
        description="Every cube's hits, best first (cube by cube for equal scores): the cache-safe place for "
        "scores; textMem keeps MemOS's shape, with the score in metadata.relativity."
    )
    act_mem: list[JSON] = strawberry.field(description="Activation memories; empty (no backend).")
    para_mem: list[JSON] = strawberry.field(description="Parametric memories; empty (no backend).")


@strawberry.type(description="The caller and the cubes it may read.")
class UserInfo:
    user: UserType
    accessible_cubes: list[MemCubeType]


@strawberry.type(description="Where a page lies in its listing (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class MemoryEdge:
    cursor: str
    node: MemoryType


@strawberry.type(description="A page of a cube's memories in the order asked for.")
class MemoryConnection:
    edges: list[MemoryEdge]
    page_info: PageInfo
    cube_id: strawberry.Private[str]
    where: strawberry.Private[object]

    @strawberry.field(description="How many of the cube's memories pass the filter (all pages together).")
    async def total_count(self, info: Info) -> int:
        ctx = info.context
        return await ctx.run(lambda: ctx.services.memories.count(ctx.caller, self.cube_id, self.where))


@strawberry.type
class MemoryVersionEdge:
    cursor: str
    node: MemoryVersion


@strawberry.type(description="A page of a memory's earlier versions, newest first.")
class MemoryVersionConnection:
    edges: list[MemoryVersionEdge]
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
    working: int = strawberry.field(
        default=0,
        description="Entries of the cube's working set: MemOS WorkingMemory nodes, each a copy of a memory's text.",
    )
    new_ids: bool = strawberry.field(
        description="The graph held the directory's ids already, so the import gave its nodes new ones."
    )
    undecoded_sources: int = strawberry.field(
        description="Sources that were text, not source entries (nor JSON of one): kept verbatim as text sources."
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
            working=report.working,
            new_ids=report.new_ids,
            undecoded_sources=report.undecoded_sources,
        )

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
from typing import Annotated, Any, cast

import strawberry
from strawberry import relay

from graphql_schema.connections import (
    MemoryVersionConnection,
    PageInfo,
    decode_cursor,
    decode_version_cursor,
    encode_cursor,
    page_info,
    version_connection,
)
from graphql_schema.context import Info
from graphql_schema.enums import DerivationKind, Role, SharePermission
from graphql_schema.ids import pair_key, pair_of
from graphql_schema.inputs import MemoryOrderInput, MemoryWhere, filter_of
from graphql_schema.memory_values import MemoryMetadata, MemoryVersion, when
from memos_graph.domain import CubeAccess, MemoryOrder, TextualMemoryItem, User
from memos_graph.domain.traversal import ProvenanceNode, Share
from memos_graph.errors import InvalidInput
from memos_graph.services.memories import HISTORY_PAGE
from memos_graph.services.validation import MAX_PAGE


@strawberry.type(
    name="User",
    description="A user of the memory service. Its name, role, createdAt and isActive are shown to the user "
    "itself and to ROOT and ADMIN; anyone else (a cube's owner or a share's user, seen by a USER or GUEST) "
    "sees the user id alone, and null for those.",
)
class UserNode(relay.Node):
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
    async def cubes(self, info: Info) -> list[MemCubeNode]:
        return [MemCubeNode.of(entry) for entry in await info.context.owned_cubes_loader.load(str(self.user_id))]

    @classmethod
    def of(cls, user: User) -> UserNode:
        """From the domain user."""
        return cls(user_key=user.user_id, user_id=strawberry.ID(user.user_id), profile=user)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[UserNode | None]:
        """node(id:) for users: the caller itself, or (ROOT, ADMIN) any user; others' are null, as if unknown."""
        ctx = info.context
        ids = list(node_ids)
        visible = [i for i in ids if ctx.services.traversal.sees_user(ctx.caller, i)]
        found = await info.context.user_loader.load_many(visible)
        users = dict(zip(visible, found, strict=True))
        return [None if users.get(i) is None else UserNode.of(cast(User, users[i])) for i in ids]


@strawberry.type(description="A share of a cube: with whom, what it grants, since when.")
class ShareEdge:
    permission: SharePermission
    since: dt.datetime | None
    user_id: strawberry.ID

    @strawberry.field(description="The user the cube is shared with.")
    async def node(self, info: Info) -> UserNode | None:
        user = await info.context.user_loader.load(str(self.user_id))
        return None if user is None else UserNode.of(user)

    @classmethod
    def of(cls, share: Share) -> ShareEdge:
        return cls(
            permission=SharePermission(share.permission.value),
            since=when(share.since),
            user_id=strawberry.ID(share.user_id),
        )


@strawberry.type(name="MemCube", description="A memory cube, as the caller sees it.")
class MemCubeNode(relay.Node):
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
    async def owner(self, info: Info) -> UserNode | None:
        user = await info.context.user_loader.load(str(self.owner_id))
        return None if user is None else UserNode.of(user)

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
        where: MemoryWhere | None = None,
        order_by: MemoryOrderInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> MemoryConnection:
        return await memory_connection(info, str(self.cube_id), where, order_by, first, after)

    @classmethod
    def of(cls, access: CubeAccess) -> MemCubeNode:
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
    ) -> list[MemCubeNode | None]:
        """node(id:) for cubes: null for one the caller may not read, as for one that does not exist."""
        found = await info.context.cube_loader.load_many(list(node_ids))
        return [None if entry is None else MemCubeNode.of(entry) for entry in found]


def _text(properties: dict[str, Any], name: str) -> str | None:
    value = properties.get(name)
    return None if value is None else str(value)


@strawberry.type(name="Message", description="A chat message a memory was taken from (a :Message of the cube).")
class MessageNode(relay.Node):
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
    async def next(self, info: Info) -> MessageNode | None:
        return await _message(info, str(self.cube_id), self.next_key)

    @strawberry.field(description="The message before this one in its conversation.")
    async def previous(self, info: Info) -> MessageNode | None:
        return await _message(info, str(self.cube_id), self.previous_key)

    @strawberry.field(description="The memories taken from this message, oldest first.")
    async def memories(self, info: Info) -> list[MemoryNode]:
        items = await info.context.message_memories_loader.load((str(self.cube_id), self.key))
        return [MemoryNode.of(item, str(self.cube_id)) for item in items]

    @classmethod
    def of(cls, node: ProvenanceNode) -> MessageNode:
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
    ) -> list[MessageNode | None]:
        """node(id:) for messages; null where the caller may not read the cube."""
        return [await _message(info, *pair) if pair else None for pair in map(pair_of, node_ids)]


async def _message(info: Info, cube_id: str, key: str | None) -> MessageNode | None:
    if key is None:
        return None
    node = await info.context.message_loader.load((cube_id, key))
    return None if node is None else MessageNode.of(node)


@strawberry.type(name="Document", description="A document file whose chunks are memories (a :Document of the cube).")
class DocumentNode(relay.Node):
    document_key: relay.NodeID[str]
    cube_id: strawberry.ID
    key: str
    path: str | None
    name: str | None
    checksum: str | None = strawberry.field(description="SHA-256 of the file's bytes when it was added.")
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @strawberry.field(description="The memories chunked from this document, in order.")
    async def chunks(self, info: Info) -> list[MemoryNode]:
        items = await info.context.document_chunks_loader.load((str(self.cube_id), self.key))
        return [MemoryNode.of(item, str(self.cube_id)) for item in items]

    @classmethod
    def of(cls, node: ProvenanceNode) -> DocumentNode:
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
    ) -> list[DocumentNode | None]:
        """node(id:) for documents; null where the caller may not read the cube."""
        found: list[DocumentNode | None] = []
        for pair in map(pair_of, node_ids):
            node = None if pair is None else await info.context.document_loader.load(pair)
            found.append(None if node is None else DocumentNode.of(node))
        return found


Provenance = Annotated[MessageNode | DocumentNode | MemoryVersion, strawberry.union("Provenance")]


@strawberry.type(description="A DERIVED_FROM edge: what kind of derivation, and its target.")
class DerivationEdge:
    kind: DerivationKind
    node: Provenance


@strawberry.type(name="Memory", description="One textual memory.")
class MemoryNode(relay.Node):
    memory_key: relay.NodeID[str]
    memory_id: strawberry.ID = strawberry.field(description="The plain memory id (what addMemories returns).")
    cube_id: strawberry.ID
    memory: str
    metadata: MemoryMetadata

    @strawberry.field(description="The cube holding this memory.")
    async def cube(self, info: Info) -> MemCubeNode | None:
        access = await info.context.cube_loader.load(str(self.cube_id))
        return None if access is None else MemCubeNode.of(access)

    @strawberry.field(
        description=f"A page of this memory's earlier versions, newest first; first <= {MAX_PAGE} (a memory keeps "
        "its newest limits.max_versions versions)."
    )
    async def history(self, info: Info, first: int = HISTORY_PAGE, after: str | None = None) -> MemoryVersionConnection:
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
            node: MessageNode | DocumentNode | MemoryVersion
            if isinstance(source, TextualMemoryItem):
                node = MemoryVersion.of(source, str(self.memory_id))
            elif source.label == "Message":
                node = MessageNode.of(source)
            else:
                node = DocumentNode.of(source)
            edges.append(DerivationEdge(kind=DerivationKind(derivation.kind), node=node))
        return edges

    @classmethod
    def of(cls, item: TextualMemoryItem, cube_id: str) -> MemoryNode:
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
    ) -> list[MemoryNode | None]:
        """node(id:) for memories: null for one in a cube the caller may not read, as for one that is gone."""
        found = await info.context.memory_node_loader.load_many(list(node_ids))
        return [None if pair is None else MemoryNode.of(pair[1], pair[0]) for pair in found]


@strawberry.type
class MemoryEdge:
    cursor: str
    node: MemoryNode


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


async def memory_connection(
    info: Info,
    cube_id: str,
    where: MemoryWhere | None,
    order_by: MemoryOrderInput | None,
    first: int,
    after: str | None,
) -> MemoryConnection:
    """A page of the cube's memories: `first` of them after the cursor, with the cursors and pageInfo."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be from 1 to {MAX_PAGE}")
    order = MemoryOrder() if order_by is None else order_by.to_order()
    position = decode_cursor(after, order)
    condition = filter_of(where)
    ctx = info.context
    page = await ctx.run(lambda: ctx.services.memories.page(ctx.caller, cube_id, condition, order, first, position))
    rows = list(zip(page.items, page.keys, strict=True))[:first]
    edges = [MemoryEdge(cursor=encode_cursor(order, key), node=MemoryNode.of(item, cube_id)) for item, key in rows]
    return MemoryConnection(
        edges=edges,
        page_info=page_info([edge.cursor for edge in edges], len(page.items) > first, page.has_previous),
        cube_id=cube_id,
        where=condition,
    )

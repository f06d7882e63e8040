"""Query resolvers: each is one call into the services the MOS class uses."""

from __future__ import annotations

import base64

import strawberry

from graphql_schema.context import Info
from graphql_schema.types import (
    MemCubeType,
    MemoryConnection,
    MemoryEdge,
    MemoryType,
    PageInfo,
    SearchResult,
    UserInfo,
    UserType,
)
from memos_graph.errors import InvalidInput
from memos_graph.services.memories import SearchShape

MAX_PAGE = 100


def encode_cursor(offset: int) -> str:
    """Opaque cursor for a position in a cube's creation order."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


MAX_OFFSET = 2**31  # beyond any cube; larger offsets overflow Neo4j's SKIP


def decode_cursor(cursor: str | None) -> int:
    """The position a cursor names; InvalidInput for a cursor this server did not make."""
    if cursor is None:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("malformed cursor") from exc
    if kind != "offset" or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("malformed cursor")
    return offset


def search_result(shape: SearchShape) -> SearchResult:
    """GraphQL form of the MOS result shape."""
    from graphql_schema.types import CubeMemories

    return SearchResult(
        text_mem=[
            CubeMemories(
                cube_id=strawberry.ID(group["cube_id"]),
                memories=[MemoryType.of(item, group["cube_id"]) for item in group["memories"]],
            )
            for group in shape["text_mem"]
        ],
        act_mem=list(shape["act_mem"]),
        para_mem=list(shape["para_mem"]),
    )


@strawberry.type
class Query:
    @strawberry.field(description="The caller and every cube it may read.")
    async def me(self, info: Info) -> UserInfo:
        ctx = info.context
        cubes = await ctx.run(lambda: ctx.services.cubes.visible(ctx.caller))
        return UserInfo(user=UserType.of(ctx.caller), accessible_cubes=[MemCubeType.of(c) for c in cubes])

    @strawberry.field(description="Active users (ROOT and ADMIN only).")
    async def users(self, info: Info) -> list[UserType]:
        ctx = info.context
        users = await ctx.run(lambda: ctx.services.users.list_user_objects(ctx.caller))
        return [UserType.of(user) for user in users]

    @strawberry.field(description="One cube the caller may read.")
    async def cube(self, info: Info, id: strawberry.ID) -> MemCubeType:
        ctx = info.context
        (access,) = await ctx.run(lambda: ctx.services.cubes.readable(ctx.caller, [str(id)]))
        return MemCubeType.of(access)

    @strawberry.field(description="Every cube the caller may read, with isLoaded.")
    async def cubes(self, info: Info) -> list[MemCubeType]:
        ctx = info.context
        return [MemCubeType.of(c) for c in await ctx.run(lambda: ctx.services.cubes.visible(ctx.caller))]

    @strawberry.field(description="One memory.")
    async def memory(self, info: Info, cube_id: strawberry.ID, id: strawberry.ID) -> MemoryType:
        ctx = info.context
        item = await ctx.run(lambda: ctx.services.memories.get(ctx.caller, str(cube_id), str(id)))
        return MemoryType.of(item, str(cube_id))

    @strawberry.field(description="Earlier versions of a memory, newest first.")
    async def memory_history(self, info: Info, cube_id: strawberry.ID, id: strawberry.ID) -> list[MemoryType]:
        ctx = info.context
        items = await ctx.run(lambda: ctx.services.memories.history(ctx.caller, str(cube_id), str(id)))
        return [MemoryType.of(item, str(cube_id)) for item in items]

    @strawberry.field(description=f"A page of a cube's memories, oldest first (first <= {MAX_PAGE}).")
    async def memories(
        self, info: Info, cube_id: strawberry.ID, first: int = 20, after: str | None = None
    ) -> MemoryConnection:
        if not 1 <= first <= MAX_PAGE:
            raise InvalidInput(f"first must be from 1 to {MAX_PAGE}")
        offset = decode_cursor(after)
        ctx = info.context
        items = await ctx.run(
            lambda: ctx.services.memories.list_page(ctx.caller, str(cube_id), offset, first + 1)
        )
        page = items[:first]
        edges = [
            MemoryEdge(cursor=encode_cursor(offset + index + 1), node=MemoryType.of(item, str(cube_id)))
            for index, item in enumerate(page)
        ]
        return MemoryConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=len(items) > first, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(
        description="Top-k memories per cube: the named cubes, or the caller's loaded cubes. metadata.relativity "
        "is a relevance in [0, 1], higher is better; with `threshold`, results below it are left out."
    )
    async def search(
        self,
        info: Info,
        query: str,
        cube_ids: list[strawberry.ID] | None = None,
        top_k: int | None = None,
        threshold: float | None = None,
    ) -> SearchResult:
        ctx = info.context
        ids = None if cube_ids is None else [str(c) for c in cube_ids]
        shape = await ctx.run(lambda: ctx.services.search.search(ctx.caller, query, ids, top_k, threshold))
        return search_result(shape)

"""Query resolvers: each is one call into the services the MOS class uses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry import relay

from graphql_schema.connections import MemoryVersionConnection, decode_version_cursor, version_connection
from graphql_schema.context import Info
from graphql_schema.ids import cube_of, memory_of, parse_global
from graphql_schema.inputs import MemoryOrderInput, MemoryWhere, filter_of
from graphql_schema.payloads import CubeMemories, SearchHit, SearchResult, UserInfo
from graphql_schema.types import (
    DocumentNode,
    MemCubeNode,
    MemoryConnection,
    MemoryNode,
    MessageNode,
    UserNode,
    memory_connection,
)
from memos_graph.domain.results import MemoryResults
from memos_graph.services.memories import HISTORY_PAGE
from memos_graph.services.validation import MAX_PAGE

NODE_TYPES: dict[str, type[UserNode | MemCubeNode | MemoryNode | MessageNode | DocumentNode]] = {
    "User": UserNode,
    "MemCube": MemCubeNode,
    "Memory": MemoryNode,
    "Message": MessageNode,
    "Document": DocumentNode,
}


def search_result(results: MemoryResults) -> SearchResult:
    """GraphQL form of the MOS result shape (no activation or parametric memories)."""
    groups = [
        CubeMemories(
            cube_id=strawberry.ID(group.cube_id),
            memories=[MemoryNode.of(item, group.cube_id) for item in group.memories],
        )
        for group in results.cubes
    ]
    hits = [
        SearchHit(cube_id=group.cube_id, rank=rank, relativity=node.metadata.relativity or 0.0, node=node)
        for group in groups
        for rank, node in enumerate(group.memories, start=1)
    ]
    hits.sort(key=lambda hit: -hit.relativity)  # stable: equal scores keep the cubes' order
    return SearchResult(text_mem=groups, hits=hits, act_mem=[], para_mem=[])


@strawberry.type
class Query:
    @strawberry.field(description="The caller and every cube it may read.")
    async def me(self, info: Info) -> UserInfo:
        ctx = info.context
        found = await ctx.run(lambda: ctx.services.users.user_info(ctx.caller), light=True)
        cubes = [MemCubeNode.of(entry) for entry in found.accessible_cubes]
        return UserInfo(user=UserNode.of(found.user), accessible_cubes=cubes)

    @strawberry.field(description="Active users (ROOT and ADMIN only).")
    async def users(self, info: Info) -> list[UserNode]:
        ctx = info.context
        users = await ctx.run(lambda: ctx.services.users.list_users(ctx.caller))
        return [UserNode.of(user) for user in users]

    @strawberry.field(
        description="Any User, MemCube, Memory, Message or Document by its global id (its `id`); null when it "
        "does not exist or the caller may not read it."
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        found = parse_global(str(id))
        kind = NODE_TYPES.get(found.type_name)
        if kind is None:
            return None
        (resolved,) = await kind.resolve_nodes(info=info, node_ids=[found.node_id])
        return resolved

    @strawberry.field(description="One cube the caller may read.")
    async def cube(self, info: Info, id: strawberry.ID) -> MemCubeNode:
        ctx = info.context
        (access,) = await ctx.run(lambda: ctx.services.cubes.readable(ctx.caller, [cube_of(id)]), light=True)
        return MemCubeNode.of(access)

    @strawberry.field(description="Every cube the caller may read, with isLoaded.")
    async def cubes(self, info: Info) -> list[MemCubeNode]:
        ctx = info.context
        return [MemCubeNode.of(c) for c in await ctx.run(lambda: ctx.services.cubes.visible(ctx.caller))]

    @strawberry.field(description="One memory.")
    async def memory(self, info: Info, cube_id: strawberry.ID, id: strawberry.ID) -> MemoryNode:
        ctx = info.context
        cube = cube_of(cube_id)
        item = await ctx.run(lambda: ctx.services.memories.get(ctx.caller, cube, memory_of(id)), light=True)
        return MemoryNode.of(item, cube)

    @strawberry.field(
        description=f"A page of a memory's earlier versions, newest first (as Memory.history); first <= {MAX_PAGE}."
    )
    async def memory_history(
        self,
        info: Info,
        cube_id: strawberry.ID,
        id: strawberry.ID,
        first: int = HISTORY_PAGE,
        after: str | None = None,
    ) -> MemoryVersionConnection:
        ctx = info.context
        cube, memory_id, position = cube_of(cube_id), memory_of(id), decode_version_cursor(after)
        page = await ctx.run(lambda: ctx.services.memories.history_page(ctx.caller, cube, memory_id, first, position))
        return version_connection(page, first, memory_id)

    @strawberry.field(
        description=f"A page of a cube's memories that pass `where`, in `orderBy` (default: oldest first); "
        f"first <= {MAX_PAGE}."
    )
    async def memories(
        self,
        info: Info,
        cube_id: strawberry.ID,
        where: MemoryWhere | None = None,
        order_by: MemoryOrderInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> MemoryConnection:
        return await memory_connection(info, cube_of(cube_id), where, order_by, first, after)

    @strawberry.field(
        description="Top-k memories per cube: the named cubes, or the caller's loaded cubes. metadata.relativity "
        "is a relevance in [0, 1], higher is better; with `threshold`, results below it are left out. With "
        "`filter`, each cube ranks only its memories that pass it (inside the ranking, before topK); "
        "`filter: {eventTime: {gte:, lt:}}` keeps memories whose event happened in that range. Time named in "
        "the query ('last week', 'in May 2023', '上周') favours memories of that time, read against "
        "`referenceTime` (default: now)."
    )
    async def search(
        self,
        info: Info,
        query: str,
        cube_ids: list[strawberry.ID] | None = None,
        top_k: int | None = None,
        threshold: float | None = None,
        filter: MemoryWhere | None = None,
        reference_time: Annotated[
            dt.datetime | None,
            strawberry.argument(description="When the question is asked (relative times in it are read against it)."),
        ] = None,
    ) -> SearchResult:
        ctx = info.context
        ids = None if cube_ids is None else [cube_of(c) for c in cube_ids]
        condition = filter_of(filter)
        found = await ctx.run(
            lambda: ctx.services.search.search(ctx.caller, query, ids, top_k, threshold, condition, reference_time)
        )
        return search_result(found)

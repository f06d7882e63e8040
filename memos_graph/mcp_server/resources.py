"""The MCP server's resources: memos://cubes/{cube_id} and memos://cubes/{cube_id}/memories, and the pages of
cube resources resources/list answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer, ResourceSecurity
from mcp_types import ListResourcesResult, Resource
from pydantic import BaseModel

from memos_graph.domain import CubeAccess, Direction, MemoryOrder, User
from memos_graph.mcp_server.calls import Calls
from memos_graph.mcp_server.models import Cube, CubeMemories, Memory

# The newest memories a cube's memories resource lists.
RESOURCE_PAGE = 100
# The cubes one resources/list page holds (the next page: nextCursor).
CUBE_LIST_PAGE = 100
# Cube ids are names in the graph, never file paths here, and MemOS's may hold "/" (sent as %2F): the SDK's
# path checks (made for templates that name files) do not apply.
_CUBE_ID_PARAM = ResourceSecurity(exempt_params={"cube_id"})
_NEWEST_FIRST = MemoryOrder(direction=Direction.DESC)


class CubeResource(BaseModel):
    """A cube as its resource describes it."""

    cube: Cube
    created_at: str
    embedding_model: str
    memory_count: int


def cube_page(cubes: list[CubeAccess], cursor: str | None) -> ListResourcesResult:
    """One page of cube resources, by cube id, after `cursor` (the last cube id of the page before)."""
    ordered = sorted((entry for entry in cubes if cursor is None or entry.cube.cube_id > cursor), key=_cube_id)
    page = ordered[:CUBE_LIST_PAGE]
    resources = [
        Resource(
            uri=f"memos://cubes/{quote(entry.cube.cube_id, safe='')}",
            name=entry.cube.cube_id,
            title=entry.cube.cube_name,
            description=f"cube {entry.cube.cube_name!r}, owner {entry.cube.owner_id}, "
            + ("writable" if entry.can_write else "read-only"),
            mime_type="application/json",
        )
        for entry in page
    ]
    more = len(ordered) > CUBE_LIST_PAGE
    return ListResourcesResult(resources=resources, next_cursor=page[-1].cube.cube_id if more else None)


def _cube_id(entry: CubeAccess) -> str:
    return entry.cube.cube_id


def register_resources(server: MCPServer[Any], calls: Calls) -> None:
    services = calls.services

    @server.resource(
        "memos://cubes/{cube_id}",
        name="cube",
        mime_type="application/json",
        security=_CUBE_ID_PARAM,
        description="A cube the caller may read: name, owner, access, embedding model, number of memories.",
    )
    async def cube(cube_id: str, ctx: Context[Any, Any]) -> str:
        def work(caller: User) -> CubeResource:
            (entry,) = services.cubes.readable(caller, [cube_id])
            return CubeResource(
                cube=Cube.of(entry),
                created_at=entry.cube.created_at,
                embedding_model=entry.cube.embedding_model,
                memory_count=services.memories.count(caller, cube_id),
            )

        return await calls.resource(ctx, work)

    @server.resource(
        "memos://cubes/{cube_id}/memories",
        name="cube-memories",
        mime_type="application/json",
        security=_CUBE_ID_PARAM,
        description=f"The newest {RESOURCE_PAGE} memories of a cube the caller may read.",
    )
    async def cube_memories(cube_id: str, ctx: Context[Any, Any]) -> str:
        def work(caller: User) -> CubeMemories:
            page = services.memories.page(caller, cube_id, order=_NEWEST_FIRST, first=RESOURCE_PAGE)
            return CubeMemories(cube_id=cube_id, memories=[Memory.of(item) for item in page.items[:RESOURCE_PAGE]])

        return await calls.resource(ctx, work)

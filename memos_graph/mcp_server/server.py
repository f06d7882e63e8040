"""The MCP server: tools for the MOS operations an agent needs and resources for cubes, over the services.

Every tool and resource runs its service call on a worker thread (never on the event loop) under the call
deadline the MOS class has (neo4j.call_deadline_s, plus the chat model's timeouts for add and chat). The
threads are a memos_graph.workers.WorkerPool of limits.max_worker_threads, shared fairly between callers
over HTTP as GraphQL's are (one caller holds at most limits.max_workers_per_caller at once). Expected errors
(MemosError) become MCP tool errors carrying the error's code and message; anything else is logged and
answered with a masked INTERNAL error.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer, ResourceSecurity
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    CallToolResult,
    InputRequiredResult,
    ListResourcesResult,
    PaginatedRequestParams,
    Resource,
    TextContent,
    ToolAnnotations,
)
from pydantic import BaseModel, Field, ValidationError

from memos_graph import metrics
from memos_graph.domain import CubeAccess, Direction, MemoryOrder, TextualMemoryItem, TextualMemoryMetadata, User
from memos_graph.errors import BackendUnavailable, ConfigurationError, InvalidInput, MemosError
from memos_graph.mcp_server.arguments import described, normalised
from memos_graph.mcp_server.models import (
    Added,
    ChatAnswer,
    Cube,
    CubeList,
    CubeMemories,
    Deleted,
    Memory,
    MessageIn,
    SearchResult,
)
from memos_graph.services.bundle import Services
from memos_graph.workers import WorkerPool

logger = logging.getLogger(__name__)
DOOR = "mcp"
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Caller:
    """Who a call acts as: `id`, the user id its share of the worker threads is counted under, and
    `resolve`, run on the worker thread with the call (so it may ask Neo4j), which returns the active user
    or raises Unauthenticated."""

    id: str
    resolve: Callable[[], User]


# How the server learns who calls, given a request's context (on the event loop: no Neo4j).
Identify = Callable[[Context[Any, Any]], Caller]

INSTRUCTIONS = """\
Long-term memory in memory cubes. search_memories before answering from what the user told you earlier;
add_memories / add_messages to remember; list_cubes to see where memories can go. Cube resources (listed
by resources/list): memos://cubes/{cube_id} (the cube) and memos://cubes/{cube_id}/memories (its newest 100
memories)."""
# The newest memories a cube's memories resource lists.
RESOURCE_PAGE = 100
# The cubes one resources/list page holds (the next page: nextCursor).
CUBE_LIST_PAGE = 100
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)

CubeId = Annotated[str, Field(description="a cube id (list_cubes shows them)")]
MemoryId = Annotated[str, Field(description="a memory id (a UUID, as search_memories or add_memories return it)")]
SessionId = Annotated[str | None, Field(description="a session id stored on the memories")]
TargetCube = Annotated[str | None, Field(description="the cube to add to (default: the caller's default cube)")]


def tool_error(code: str, message: str) -> CallToolResult:
    """An MCP tool error: the code and message as text and as structured content."""
    return CallToolResult(
        content=[TextContent(type="text", text=f"{code}: {message}")],
        structured_content={"error": {"code": code, "message": message}},
        is_error=True,
    )


def answered(result: M, text: str) -> CallToolResult:
    """A tool's answer: the model as structured content, and a short text for the model to read."""
    structured = result.model_dump(mode="json")
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def _metadata(fields: dict[str, Any]) -> TextualMemoryMetadata:
    try:
        given = {name: value for name, value in fields.items() if value is not None}
        return TextualMemoryMetadata.model_validate(given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors())
        raise InvalidInput(f"invalid metadata: {problems}") from exc


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _added(result: Added) -> str:
    """The text of an add's answer."""
    return f"{_count(len(result.memory_ids), 'memory')} in cube {result.cube_id}"


class Calls:
    """Runs one tool's or resource's service call as the caller, off the event loop, within its deadline."""

    def __init__(self, services: Services, identify: Identify, pool: WorkerPool) -> None:
        self.services = services
        self._identify = identify
        self._pool = pool

    async def run(self, ctx: Context[Any, Any], work: Callable[[User], T], uses_llm: bool = False) -> T:
        """work(caller) on a worker thread; BackendUnavailable when it has not answered within the deadline
        (waiting for one of the caller's worker slots counts)."""
        caller = self._identify(ctx)
        seconds = self.services.runtime.config.call_deadline_s(uses_llm=uses_llm)
        return await self._pool.run(caller.id, lambda: work(caller.resolve()), seconds)

    async def tool(
        self,
        name: str,
        ctx: Context[Any, Any],
        work: Callable[[User], M],
        summary: Callable[[M], str],
        uses_llm: bool = False,
    ) -> CallToolResult:
        """A tool's answer, or its error: the service's code and message, never a traceback."""
        try:
            result = await self.run(ctx, work, uses_llm)
        except MemosError as exc:
            logger.info("MCP tool %s refused: %s %r", name, exc.code, exc.message)
            metrics.count_request(DOOR, name, exc.code)
            return tool_error(exc.code, exc.message)
        except Exception:
            logger.exception("MCP tool %s failed", name)
            metrics.count_request(DOOR, name, "INTERNAL")
            return tool_error("INTERNAL", "unexpected error (logged on the server)")
        metrics.count_request(DOOR, name, metrics.OK)
        return answered(result, summary(result))

    async def resource(self, ctx: Context[Any, Any], work: Callable[[User], BaseModel]) -> str:
        """A resource's JSON text; a MemosError is an MCP error with the service's code in its data."""
        try:
            result = await self.run(ctx, work)
        except MemosError as exc:
            raise protocol_error(exc) from None
        return json.dumps(result.model_dump(mode="json"), ensure_ascii=False)


def protocol_error(error: MemosError) -> MCPError:
    """A MemosError as an MCP protocol error (resources, listings): the code in its data."""
    server_side = isinstance(error, BackendUnavailable | ConfigurationError)
    return MCPError(
        code=INTERNAL_ERROR if server_side else INVALID_PARAMS,
        message=f"{error.code}: {error.message}",
        data={"code": error.code},
    )


class CubeResource(BaseModel):
    """A cube as its resource describes it."""

    cube: Cube
    created_at: str
    embedding_model: str
    memory_count: int


class MemosServer(MCPServer[Any]):
    """The SDK's server with two changes: a tool's arguments are checked as the other refusals are (unknown
    names, both spellings of one argument, the SDK's validation failures: BAD_USER_INPUT {code, message}),
    and resources/list lists the caller's readable cubes."""

    def __init__(self, calls: Calls) -> None:
        super().__init__("memos-graph", instructions=INSTRUCTIONS, version=package_version(), log_level="WARNING")
        self.calls = calls
        self._schemas: dict[str, dict[str, Any]] = {}

    async def _input_schema(self, name: str) -> dict[str, Any] | None:
        if name not in self._schemas:  # tools are registered before serving; read once each
            self._schemas = {tool.name: tool.input_schema for tool in await self.list_tools()}
        return self._schemas.get(name)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """The tool's answer; BAD_USER_INPUT when its arguments do not fit its input schema."""
        schema = await self._input_schema(name)
        if schema is None:  # an unknown tool: the SDK's answer
            return await super().call_tool(name, arguments, context)
        try:
            checked = normalised(name, arguments, schema)
            try:
                return await super().call_tool(name, checked, context)
            except ToolError as exc:
                if isinstance(exc, UnexpectedToolError) or not isinstance(exc.__cause__, ValidationError):
                    raise
                raise InvalidInput(described(name, exc.__cause__, schema)) from exc
        except InvalidInput as exc:
            logger.info("MCP tool %s refused its arguments: %r", name, exc.message)
            return tool_error(exc.code, exc.message)

    # The SDK lists only resources registered up front; the cubes depend on who asks, and only this handler
    # (private in the SDK, pinned in requirements.lock) sees the request. Cube templates stay as they are.
    async def _handle_list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        cursor = params.cursor if params is not None else None
        services = self.calls.services
        context: Context[Any, Any] = Context(request_context=ctx, mcp_server=self)
        try:
            cubes = await self.calls.run(context, services.cubes.visible)
        except MemosError as exc:
            raise protocol_error(exc) from None
        return cube_page(cubes, cursor)


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


def build_server(services: Services, identify: Identify, shared: bool = True) -> MCPServer[Any]:
    """The MCP server over the services; `identify` says who each call acts as (see Identify). `shared`: many
    users call it (HTTP), so one caller holds at most limits.max_workers_per_caller of the worker threads;
    otherwise (stdio, one user) its calls may use them all."""
    limits = services.runtime.config.limits
    per_caller = limits.max_workers_per_caller if shared else limits.max_worker_threads
    calls = Calls(services, identify, WorkerPool(limits.max_worker_threads, per_caller))
    server = MemosServer(calls)
    _register_tools(server, calls)
    if services.runtime.config.llm is not None:
        _register_chat(server, calls)
    _register_resources(server, calls)
    return server


def package_version() -> str:
    """memos-graph's installed version (what MCP clients are told), or "0+unknown" from a bare checkout."""
    try:
        return importlib.metadata.version("memos-graph")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _register_tools(server: MCPServer[Any], calls: Calls) -> None:
    services = calls.services

    @server.tool(annotations=READ_ONLY)
    async def search_memories(
        ctx: Context[Any, Any],
        query: Annotated[str, Field(description="what to look for, in natural language")],
        cube_ids: Annotated[
            list[str] | None, Field(description="cubes to search (default: the caller's loaded cubes)")
        ] = None,
        top_k: Annotated[int | None, Field(description="memories per cube (default: the configured top_k)")] = None,
        threshold: Annotated[
            float | None, Field(description="leave out memories whose relativity (0..1) is below this")
        ] = None,
        time_from: Annotated[
            str | None, Field(description="only memories whose event happened at or after this (ISO 8601)")
        ] = None,
        time_before: Annotated[
            str | None, Field(description="only memories whose event happened before this (ISO 8601)")
        ] = None,
        reference_time: Annotated[
            str | None,
            Field(description="when the question is asked (ISO 8601; default now): 'last week' is read against it"),
        ] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Search memories (vector + BM25 hybrid) in each cube the caller may read; best first per cube. Times
        the query names ('last week', 'in May 2023', '上周') favour memories of that time."""
        where = {name: value for name, value in (("time_from", time_from), ("time_before", time_before)) if value}

        def work(caller: User) -> SearchResult:
            found = services.search.search(caller, query, cube_ids, top_k, threshold, where or None, reference_time)
            return SearchResult(
                cubes=[
                    CubeMemories(cube_id=group.cube_id, memories=[Memory.of(item) for item in group.memories])
                    for group in found.cubes
                ]
            )

        def summary(result: SearchResult) -> str:
            lines = [
                f"[{memory.metadata.get('relativity') or 0.0:.3f}] ({group.cube_id} {memory.memory_id}) {memory.memory}"
                for group in result.cubes
                for memory in group.memories
            ]
            return "\n".join(lines) or "no memories found"

        return await calls.tool("search_memories", ctx, work, summary)

    @server.tool(annotations=WRITES)
    async def add_memories(
        ctx: Context[Any, Any],
        texts: Annotated[
            list[str], Field(description="the texts to remember, one memory each (GraphQL's name 'content' works too)")
        ],
        cube_id: TargetCube = None,
        session_id: SessionId = None,
    ) -> Annotated[CallToolResult, Added]:
        """Remember texts, all in one transaction; a text the cube holds already is not copied."""

        def work(caller: User) -> Added:
            target = services.memories.target_cube(caller, cube_id)
            ids = services.add(caller, content=texts, mem_cube_id=target, session_id=session_id)
            return Added(cube_id=target, memory_ids=ids, ids=ids)

        return await calls.tool("add_memories", ctx, work, _added, uses_llm=True)

    @server.tool(annotations=WRITES)
    async def add_messages(
        ctx: Context[Any, Any],
        messages: Annotated[list[MessageIn], Field(description="a conversation, oldest message first")],
        cube_id: TargetCube = None,
        session_id: SessionId = None,
    ) -> Annotated[CallToolResult, Added]:
        """Remember a conversation (one memory per message, or extracted facts in the configured fine mode)."""

        def work(caller: User) -> Added:
            target = services.memories.target_cube(caller, cube_id)
            plain = [message.model_dump(exclude_none=True) for message in messages]
            ids = services.add(caller, messages=plain, mem_cube_id=target, session_id=session_id)
            return Added(cube_id=target, memory_ids=ids, ids=ids)

        return await calls.tool("add_messages", ctx, work, _added, uses_llm=True)

    @server.tool(annotations=READ_ONLY)
    async def get_memory(
        ctx: Context[Any, Any], cube_id: CubeId, memory_id: MemoryId
    ) -> Annotated[CallToolResult, Memory]:
        """One memory of a cube the caller may read."""
        return await calls.tool(
            "get_memory",
            ctx,
            lambda caller: Memory.of(services.memories.get(caller, cube_id, memory_id)),
            lambda memory: memory.memory,
        )

    @server.tool(annotations=READ_ONLY)
    async def list_cubes(ctx: Context[Any, Any]) -> Annotated[CallToolResult, CubeList]:
        """Every cube the caller may read: owned, shared with it, or (ROOT, ADMIN) anyone's."""

        def summary(result: CubeList) -> str:
            lines = [
                f"{c.cube_id} ({c.cube_name}, owner {c.owner_id}{', writable' if c.can_write else ''})"
                for c in result.cubes
            ]
            return "\n".join(lines) or "no cubes"

        return await calls.tool(
            "list_cubes",
            ctx,
            lambda caller: CubeList(cubes=[Cube.of(e) for e in services.cubes.visible(caller)]),
            summary,
        )

    @server.tool(annotations=WRITES)
    async def update_memory(
        ctx: Context[Any, Any],
        cube_id: CubeId,
        memory_id: MemoryId,
        text: Annotated[str, Field(description="the memory's new text (re-embedded when it changed)")],
        tags: Annotated[list[str] | None, Field(description="replace the tags")] = None,
        key: Annotated[str | None, Field(description="replace the key (a short title)")] = None,
        type: Annotated[str | None, Field(description="replace the type: fact, event, opinion, topic, ...")] = None,
        background: Annotated[str | None, Field(description="replace the background")] = None,
    ) -> Annotated[CallToolResult, Memory]:
        """Replace a memory's text (and the metadata given); the old version is kept in its history."""

        def work(caller: User) -> Memory:
            metadata = _metadata({"tags": tags, "key": key, "type": type, "background": background})
            item = TextualMemoryItem(memory=text, metadata=metadata)
            return Memory.of(services.memories.update(caller, cube_id, memory_id, item))

        return await calls.tool("update_memory", ctx, work, lambda memory: f"updated {memory.memory_id}")

    @server.tool(annotations=DESTRUCTIVE)
    async def delete_memory(
        ctx: Context[Any, Any], cube_id: CubeId, memory_id: MemoryId
    ) -> Annotated[CallToolResult, Deleted]:
        """Delete one memory and its history from a cube the caller may write."""

        def work(caller: User) -> Deleted:
            services.memories.delete(caller, cube_id, memory_id)
            return Deleted(cube_id=cube_id, memory_id=memory_id, deleted=True)

        return await calls.tool("delete_memory", ctx, work, lambda r: f"deleted {r.memory_id}")


def _register_chat(server: MCPServer[Any], calls: Calls) -> None:
    chat_service = calls.services.chat

    @server.tool(annotations=WRITES)
    async def chat(
        ctx: Context[Any, Any],
        query: Annotated[str, Field(description="the question for the chat model")],
        session_id: Annotated[str | None, Field(description="the chat session (history is kept per session)")] = None,
    ) -> Annotated[CallToolResult, ChatAnswer]:
        """Ask the configured chat model, with the caller's memories and recent chat history; the exchange is kept."""
        return await calls.tool(
            "chat",
            ctx,
            lambda caller: ChatAnswer(answer=chat_service.chat(caller, query, session_id)),
            lambda result: result.answer,
            uses_llm=True,
        )


# Cube ids are names in the graph, never file paths here, and MemOS's may hold "/" (sent as %2F): the SDK's
# path checks (made for templates that name files) do not apply.
_CUBE_ID_PARAM = ResourceSecurity(exempt_params={"cube_id"})
_NEWEST_FIRST = MemoryOrder(direction=Direction.DESC)


def _register_resources(server: MCPServer[Any], calls: Calls) -> None:
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

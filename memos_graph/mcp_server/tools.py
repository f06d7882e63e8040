"""The MCP server's tools: search_memories, add_memories, add_messages, get_memory, list_cubes, update_memory,
delete_memory, and chat when a chat model is configured; each one service call through Calls."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import Field, ValidationError

from memos_graph.domain import TextualMemoryItem, TextualMemoryMetadata, User
from memos_graph.errors import InvalidInput
from memos_graph.mcp_server.calls import Calls
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

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False)

CubeId = Annotated[str, Field(description="a cube id (list_cubes shows them)")]
MemoryId = Annotated[str, Field(description="a memory id (a UUID, as search_memories or add_memories return it)")]
SessionId = Annotated[str | None, Field(description="a session id stored on the memories")]
TargetCube = Annotated[str | None, Field(description="the cube to add to (default: the caller's default cube)")]


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


def register_tools(server: MCPServer[Any], calls: Calls) -> None:
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
            ids = services.add(caller, content=texts, cube_id=target, session_id=session_id)
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
            ids = services.add(caller, messages=plain, cube_id=target, session_id=session_id)
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


def register_chat(server: MCPServer[Any], calls: Calls) -> None:
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

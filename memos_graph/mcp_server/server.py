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
import logging
from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp_types import CallToolResult, InputRequiredResult, ListResourcesResult, PaginatedRequestParams
from pydantic import ValidationError

from memos_graph.errors import InvalidInput, MemosError
from memos_graph.mcp_server.arguments import described, normalised
from memos_graph.mcp_server.calls import Calls, Identify, protocol_error, tool_error
from memos_graph.mcp_server.resources import cube_page, register_resources
from memos_graph.mcp_server.tools import register_chat, register_tools
from memos_graph.services.wiring import Services
from memos_graph.workers import WorkerPool

logger = logging.getLogger(__name__)

INSTRUCTIONS = """\
Long-term memory in memory cubes. search_memories before answering from what the user told you earlier;
add_memories / add_messages to remember; list_cubes to see where memories can go. Cube resources (listed
by resources/list): memos://cubes/{cube_id} (the cube) and memos://cubes/{cube_id}/memories (its newest 100
memories)."""


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


def build_server(services: Services, identify: Identify, shared: bool = True) -> MCPServer[Any]:
    """The MCP server over the services; `identify` says who each call acts as (see Identify). `shared`: many
    users call it (HTTP), so one caller holds at most limits.max_workers_per_caller of the worker threads;
    otherwise (stdio, one user) its calls may use them all."""
    limits = services.runtime.config.limits
    per_caller = limits.max_workers_per_caller if shared else limits.max_worker_threads
    calls = Calls(services, identify, WorkerPool(limits.max_worker_threads, per_caller))
    server = MemosServer(calls)
    register_tools(server, calls)
    if services.runtime.config.llm is not None:
        register_chat(server, calls)
    register_resources(server, calls)
    return server


def package_version() -> str:
    """memos-graph's installed version (what MCP clients are told), or "0+unknown" from a bare checkout."""
    try:
        return importlib.metadata.version("memos-graph")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"

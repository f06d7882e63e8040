"""How a tool or resource of the MCP server runs its service call: as the caller, on a worker thread, within
the call deadline; and how an error becomes a tool error or an MCP protocol error."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, CallToolResult, TextContent
from pydantic import BaseModel

from memos_graph import metrics
from memos_graph.domain import User
from memos_graph.errors import BackendUnavailable, ConfigurationError, MemosError
from memos_graph.services.wiring import Services
from memos_graph.workers import WorkerPool

# Logged under the server's logger name, as when this lived in server.py (log filters and tests name it).
logger = logging.getLogger("memos_graph.mcp_server.server")
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

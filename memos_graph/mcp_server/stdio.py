"""The MCP server over stdio: every call acts as one configured user (MOSConfig.user_id or --user).

Like the rest of the operator CLI this trusts whoever starts the process: it holds the Neo4j credentials.
The user is read again at every call, so deactivating it takes effect at once.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.mcpserver import Context

from memos_graph.mcp_server.calls import Caller
from memos_graph.mcp_server.server import build_server
from memos_graph.services.chat import start_chat_warm_up
from memos_graph.services.wiring import Services


def serve_stdio(services: Services, user_id: str) -> None:
    """Serve MCP on standard input and output until the client closes them."""

    def identify(ctx: Context[Any, Any]) -> Caller:
        return Caller(user_id, lambda: services.cubes.actor(user_id))  # resolved on the worker thread

    start_chat_warm_up(services.runtime.config)  # the chat tool's first call would wait for litellm's imports
    anyio.run(build_server(services, identify, shared=False).run_stdio_async)

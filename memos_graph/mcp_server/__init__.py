"""memos-graph as an MCP server (the `mcp` Python SDK), over stdio or streamable HTTP: `memos-graph mcp`.

Tools: search_memories, add_memories, add_messages, get_memory, list_cubes, update_memory, delete_memory,
and chat when a chat model is configured. Resources: memos://cubes/{cube_id} and
memos://cubes/{cube_id}/memories. Every call goes through the services the MOS class and GraphQL use.
(Not named `mcp`: that would shadow the SDK.)
"""

from memos_graph.mcp_server.http import create_http_app, serve_http
from memos_graph.mcp_server.server import build_server
from memos_graph.mcp_server.stdio import serve_stdio

__all__ = ["build_server", "create_http_app", "serve_http", "serve_stdio"]

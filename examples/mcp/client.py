"""A small MCP client for memos-graph on the MCP Python SDK: over streamable HTTP with an API key, list the
tools, add memories to a cube, search them, and read the cube's resource.

Serve MCP first (`memos-graph mcp --transport http --port 8765`; docs/mcp.md), then:

    MEMOS_MCP_URL=http://127.0.0.1:8765/mcp MEMOS_API_KEY=mgk_... python examples/mcp/client.py <cube id>

The cube must be one the key's user may write (`memos-graph --user alice cube create notes --id notes`, or
GraphQL's createCube). stdio.json and streamable_http.json beside this file are client configurations
(Claude Desktop's claude_desktop_config.json, or any client's mcpServers). tests/examples/test_examples.py
runs this script against a served instance and checks both configurations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any
from urllib.parse import quote

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextResourceContents


async def tool(session: ClientSession, name: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured answer; a refusal (FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, ...) raises with its code."""
    result = await session.call_tool(name, arguments)
    assert isinstance(result, CallToolResult)
    answer = result.structured_content or {}
    if result.is_error:
        raise RuntimeError(f"{name}: {answer.get('error', result.content)}")
    return answer


async def run(url: str, key: str, cube_id: str, question: str) -> None:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = await session.list_tools()
        print("tools:", ", ".join(sorted(t.name for t in tools.tools)))
        added = await tool(
            session,
            "add_memories",
            cube_id=cube_id,
            texts=["Alice plays the cello", "Alice lives in Lyon", "The orchestra rehearses on Tuesdays"],
        )
        print("added:", json.dumps(added))
        found = await tool(session, "search_memories", query=question, cube_ids=[cube_id], top_k=2)
        print("search:", json.dumps(found, ensure_ascii=False))
        resource = await session.read_resource(f"memos://cubes/{quote(cube_id, safe='')}")
        (content,) = resource.contents
        assert isinstance(content, TextResourceContents)
        print("cube:", content.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cube_id")
    parser.add_argument("question", nargs="?", default="What instrument does Alice play?")
    parser.add_argument("--url", default=os.environ.get("MEMOS_MCP_URL", "http://127.0.0.1:8765/mcp"))
    parser.add_argument("--key", default=os.environ.get("MEMOS_API_KEY"))
    args = parser.parse_args()
    if not args.key:
        parser.error("an API key is needed: --key or MEMOS_API_KEY")
    asyncio.run(run(args.url, args.key, args.cube_id, args.question))


if __name__ == "__main__":
    main()

"""The MCP SDK's own client against memos-graph's MCP server: a session over streamable HTTP with an API key,
and the tool and resource answers unpacked with the checks every caller wants (structured content beside the
text, errors as {code, message})."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, ReadResourceResult, TextContent, TextResourceContents


@asynccontextmanager
async def over_http(url: str, key: str) -> AsyncIterator[ClientSession]:
    """An initialised MCP session on `url` (the server's /mcp), authenticated with `key`."""
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured answer; fails on a tool error."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, result.content
    answer = result.structured_content
    assert isinstance(answer, dict) and result.content
    return answer


async def refused(session: ClientSession, tool: str, **arguments: Any) -> dict[str, str]:
    """A tool error's {code, message}; fails when the tool answered."""
    result = await session.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult) and result.is_error, result
    assert result.structured_content is not None
    error = result.structured_content["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}
    (text,) = result.content
    assert isinstance(text, TextContent) and text.text == f"{error['code']}: {error['message']}"
    return {"code": str(error["code"]), "message": str(error["message"])}


async def resource(session: ClientSession, uri: str) -> Any:
    """A resource's JSON, parsed; fails unless it is one JSON text."""
    result = await session.read_resource(uri)
    assert isinstance(result, ReadResourceResult)
    (content,) = result.contents
    assert isinstance(content, TextResourceContents) and content.mime_type == "application/json"
    return json.loads(content.text)

"""X-Request-ID on the MCP streamable-HTTP app's answers (refusals of its key gate included) and on the log
lines of its tool calls: the app under uvicorn on a loopback port, plain HTTP JSON-RPC, the real Neo4j."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from memos_graph import MOS, UserRole
from memos_graph.logs import RequestIdFilter
from memos_graph.mcp_server import create_http_app
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.servers import serve_app

pytestmark = pytest.mark.neo4j

MADE_UP = re.compile(r"[0-9a-f]{32}")
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def mcp_url(keyed_runtime: Runtime) -> Iterator[str]:
    with serve_app(create_http_app(Services.over(keyed_runtime))) as origin:
        yield f"{origin}/mcp"


def rpc(method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}


def test_answers_and_refusals_carry_the_request_id(mcp_url: str) -> None:
    initialize = rpc(
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
    )
    refused = httpx.post(mcp_url, headers={**HEADERS, "X-Request-ID": "mcp-401"}, json=initialize, timeout=60)
    assert refused.status_code == 401 and refused.headers.get_list("x-request-id") == ["mcp-401"]
    oauth = httpx.get(mcp_url.removesuffix("/mcp") + "/.well-known/oauth-authorization-server", timeout=60)
    assert oauth.status_code == 404 and MADE_UP.fullmatch(oauth.headers["x-request-id"])
    unsafe = httpx.post(mcp_url, headers={**HEADERS, "X-Request-ID": "a b<c>"}, json=initialize, timeout=60)
    assert MADE_UP.fullmatch(unsafe.headers["x-request-id"])


def test_a_tool_call_answers_and_logs_with_its_request_id(
    mcp_url: str, root: MOS, keyed_runtime: Runtime, uid: Any
) -> None:
    services = Services.over(keyed_runtime)
    user, key = services.users.create_user_with_key(root.cubes.actor(root.user_id), uid("mcp-rid"), UserRole.USER, "R")
    cube = root.create_cube_for_user("notes", owner_id=user.user_id, cube_id=uid("mcp-rid-notes"))
    given = f"mcp-{uuid.uuid4().hex}"
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.DEBUG)
    handler.addFilter(RequestIdFilter())
    tools_logger = logging.getLogger("memos_graph.mcp_server.server")
    level = tools_logger.level
    tools_logger.setLevel(logging.INFO)  # a refused tool call is logged at INFO
    logging.getLogger().addHandler(handler)
    try:
        answer = httpx.post(
            mcp_url,
            headers={**HEADERS, "Authorization": f"Bearer {key}", "X-Request-ID": given},
            json=rpc("tools/call", {"name": "get_memory", "arguments": {"cube_id": cube, "memory_id": MISSING_ID}}),
            timeout=120,
        )
    finally:
        logging.getLogger().removeHandler(handler)
        tools_logger.setLevel(level)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["isError"] is True, answer.text
    assert answer.headers.get_list("x-request-id") == [given]
    refusals = [r for r in records if r.name == tools_logger.name and "get_memory" in r.getMessage()]
    assert refusals, [r.getMessage() for r in records]
    assert {getattr(r, "request_id", None) for r in refusals} == {given}

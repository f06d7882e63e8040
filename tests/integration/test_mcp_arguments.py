"""MCP tool arguments and the cube listing, through the MCP SDK's own client over streamable HTTP: a wrong
argument is a BAD_USER_INPUT {code, message} like every other refusal, GraphQL's argument names work beside
the tools' own, and resources/list shows the caller's readable cubes a page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from mcp.client.session import ClientSession
from mcp_types import CallToolResult, PaginatedRequestParams

from memos_graph import MOS, UserRole
from memos_graph.mcp_server import create_http_app, resources
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.mcp_client import call, over_http, refused, resource
from testkit.servers import serve_app
from tests.integration.conftest import Tenant

pytestmark = pytest.mark.neo4j


def stored_texts(root: MOS, cube_id: str) -> list[str]:
    groups = root.get_all(cube_id)["text_mem"]
    return sorted(m.memory for group in groups for m in group["memories"])


def test_wrong_arguments_are_bad_user_input_and_write_nothing(
    http_url: str, tenant: Callable[[str], Tenant], root: MOS
) -> None:
    alice = tenant("alice")
    huge = "x" * 50_000

    async def scenario() -> None:
        async with over_http(http_url, alice.key) as session:
            unknown = await refused(session, "search_memories", query="tea", topk=3)
            assert unknown["code"] == "BAD_USER_INPUT"
            assert "unknown argument 'topk'" in unknown["message"] and "top_k" in unknown["message"]

            wrong_type = await refused(session, "add_memories", texts=huge, cube_id=alice.cube_id)
            assert wrong_type["code"] == "BAD_USER_INPUT"
            assert "'texts' expects list of string" in wrong_type["message"]
            assert huge[:100] not in wrong_type["message"] and len(wrong_type["message"]) < 500

            number = await refused(session, "search_memories", query="tea", top_k="many")
            assert number["code"] == "BAD_USER_INPUT" and "'top_k' expects integer or null" in number["message"]

            missing = await refused(session, "get_memory", cube_id=alice.cube_id)
            assert missing["code"] == "BAD_USER_INPUT"
            assert missing["message"] == "get_memory: invalid arguments: 'memory_id' is required (string)"

            nested = await refused(session, "add_messages", messages=[{"role": "robot", "content": "beep"}])
            assert nested["code"] == "BAD_USER_INPUT" and "'messages.0.role'" in nested["message"]

            # A name that is not even an identifier, and many of them: named, cut, counted.
            many = await refused(session, "list_cubes", **{f"k{n}" * 40: n for n in range(8)})
            assert many["code"] == "BAD_USER_INPUT" and "(and 3 more)" in many["message"]
            assert len(many["message"]) < 700

    asyncio.run(scenario())
    assert stored_texts(root, alice.cube_id) == []


def test_add_memories_takes_graphql_names_too(http_url: str, tenant: Callable[[str], Tenant], root: MOS) -> None:
    alice = tenant("alice")

    async def scenario() -> None:
        async with over_http(http_url, alice.key) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert "content" in tools["add_memories"].input_schema["properties"]["texts"]["description"]
            own = await call(session, "add_memories", texts=["Alice grows tomatoes"], cube_id=alice.cube_id)
            graphql = await call(session, "add_memories", content=["Alice keeps bees"], cube_id=alice.cube_id)
            for added in (own, graphql):
                assert added["ids"] == added["memory_ids"] and len(added["ids"]) == 1
            both = await refused(
                session, "add_memories", texts=["Alice rows"], content=["Alice swims"], cube_id=alice.cube_id
            )
            assert both["code"] == "BAD_USER_INPUT"
            assert both["message"] == "add_memories: give 'texts' or its GraphQL name 'content', not both"

    asyncio.run(scenario())
    assert stored_texts(root, alice.cube_id) == ["Alice grows tomatoes", "Alice keeps bees"]


async def listed_uris(session: ClientSession) -> tuple[list[str], int]:
    """Every resource URI resources/list gives, following nextCursor, and how many pages it took."""
    uris: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await session.list_resources(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        pages += 1
        uris += [str(r.uri) for r in page.resources]
        assert all(r.mime_type == "application/json" for r in page.resources)
        cursor = page.next_cursor
        if cursor is None:
            return uris, pages
        assert pages < 20, "the listing never ended"


def test_resources_list_shows_only_the_callers_cubes_in_pages(
    keyed_runtime: Runtime,
    tenant: Callable[[str], Tenant],
    root: MOS,
    uid: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(resources, "CUBE_LIST_PAGE", 2)
    alice, bob = tenant("alice"), tenant("bob")
    odd = root.create_cube_for_user("alice/slashed", owner_id=alice.user_id, cube_id=uid("alice/slashed"))
    third = root.create_cube_for_user("alice three", owner_id=alice.user_id, cube_id=uid("alice-three"))
    root.share_cube_with_user(bob.cube_id, alice.user_id, "read")
    lurker = root.create_user(uid("lurker"), UserRole.USER)
    hidden = root.create_cube_for_user("lurker's", owner_id=lurker, cube_id=uid("lurker-cube"))

    async def scenario(url: str) -> None:
        async with over_http(url, alice.key) as session:
            uris, pages = await listed_uris(session)
            expected = sorted([alice.cube_id, odd, third, bob.cube_id])
            assert uris == [f"memos://cubes/{quote(cube, safe='')}" for cube in expected]
            assert pages == 2
            assert not any(hidden in uri for uri in uris)
            read = await resource(session, uris[expected.index(odd)])  # the %2F one reads back
            assert read["cube"]["cube_id"] == odd and read["cube"]["can_write"] is True
            first = (await session.list_resources()).resources[0]
            assert first.name == expected[0] and first.title is not None

        async with over_http(url, bob.key) as session:
            uris, _ = await listed_uris(session)
            assert uris == [f"memos://cubes/{quote(bob.cube_id, safe='')}"]

    with serve_app(create_http_app(Services.over(keyed_runtime))) as origin:
        asyncio.run(asyncio.wait_for(scenario(f"{origin}/mcp"), 120))


def test_a_tool_error_from_the_sdk_itself_is_unchanged(http_url: str, tenant: Callable[[str], Tenant]) -> None:
    """An unknown tool is not an argument problem: the SDK's own answer stands."""
    alice = tenant("alice")

    async def scenario() -> Any:
        async with over_http(http_url, alice.key) as session:
            return await session.call_tool("no_such_tool", {})

    result = asyncio.run(scenario())
    assert isinstance(result, CallToolResult) and result.is_error
    assert result.structured_content is None

"""`memos-graph mcp` through the MCP SDK's own client: stdio (the CLI as a subprocess) and streamable HTTP
(the app under uvicorn on a loopback port), against the real Neo4j, embedder and (for chat) litellm."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

from memos_graph import MOS
from memos_graph.config import Neo4jSettings
from memos_graph.mcp_server import create_http_app
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fake_llm import FakeOpenAI
from testkit.fixtures import process_environment
from testkit.mcp_client import call, over_http, refused, resource
from testkit.servers import free_port, serve_app
from tests.integration.conftest import Tenant

pytestmark = pytest.mark.neo4j

TOOLS = {
    "search_memories",
    "add_memories",
    "add_messages",
    "get_memory",
    "list_cubes",
    "update_memory",
    "delete_memory",
}
MISSING_ID = "00000000-0000-4000-8000-000000000000"


def test_http_tools_have_schemas_and_chat_is_offered_with_a_model(
    http_url: str, tenant: Callable[[str], Tenant]
) -> None:
    alice = tenant("alice")

    async def scenario() -> None:
        async with over_http(http_url, alice.key) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == TOOLS | {"chat"}
            search = tools["search_memories"]
            assert search.input_schema["required"] == ["query"]
            assert "natural language" in search.input_schema["properties"]["query"]["description"]
            assert search.output_schema is not None and "cubes" in search.output_schema["properties"]
            hints = tools["delete_memory"].annotations
            assert hints is not None and hints.destructive_hint
            templates = {t.uri_template for t in (await session.list_resource_templates()).resource_templates}
            assert templates == {"memos://cubes/{cube_id}", "memos://cubes/{cube_id}/memories"}

    asyncio.run(scenario())


def test_http_add_search_get_update_delete_and_cube_resources(
    http_url: str, tenant: Callable[[str], Tenant], root: MOS
) -> None:
    alice = tenant("alice")

    async def scenario() -> None:
        async with over_http(http_url, alice.key) as session:
            cubes = await call(session, "list_cubes")
            assert [c["cube_id"] for c in cubes["cubes"]] == [alice.cube_id]
            added = await call(
                session, "add_memories", texts=["Alice plays the cello", "Alice lives in Lyon"], cube_id=alice.cube_id
            )
            assert added["cube_id"] == alice.cube_id and len(added["memory_ids"]) == 2
            cello = added["memory_ids"][0]
            found = await call(session, "search_memories", query="Which instrument does Alice play?", top_k=1)
            (group,) = found["cubes"]
            assert group["cube_id"] == alice.cube_id
            assert [m["memory_id"] for m in group["memories"]] == [cello]
            assert group["memories"][0]["metadata"]["relativity"] > 0
            got = await call(session, "get_memory", cube_id=alice.cube_id, memory_id=cello)
            assert got["memory"] == "Alice plays the cello" and got["metadata"]["user_id"] == alice.user_id
            updated = await call(
                session,
                "update_memory",
                cube_id=alice.cube_id,
                memory_id=cello,
                text="Alice plays the viola now",
                tags=["music"],
            )
            assert updated["memory"] == "Alice plays the viola now" and updated["metadata"]["tags"] == ["music"]
            assert [v.memory for v in root.get_history(alice.cube_id, cello)] == ["Alice plays the cello"]

            described = await resource(session, f"memos://cubes/{alice.cube_id}")
            assert described["cube"]["cube_id"] == alice.cube_id and described["memory_count"] == 2
            listed = await resource(session, f"memos://cubes/{alice.cube_id}/memories")
            assert {m["memory"] for m in listed["memories"]} == {"Alice plays the viola now", "Alice lives in Lyon"}

            deleted = await call(session, "delete_memory", cube_id=alice.cube_id, memory_id=cello)
            assert deleted["deleted"] is True
            gone = await refused(session, "get_memory", cube_id=alice.cube_id, memory_id=cello)
            assert gone["code"] == "NOT_FOUND"
            bad = await refused(session, "add_memories", texts=["   "], cube_id=alice.cube_id)
            assert bad["code"] == "BAD_USER_INPUT"
            (group,) = root.get_all(alice.cube_id)["text_mem"]
            assert [m.memory for m in group["memories"]] == ["Alice lives in Lyon"]

    asyncio.run(scenario())


def test_http_cross_tenant_calls_look_like_a_missing_cube(
    http_url: str, tenant: Callable[[str], Tenant], root: MOS
) -> None:
    alice, bob = tenant("alice"), tenant("bob")
    (secret,) = root.add(memory_content=["Bob's safe code is 4711"], mem_cube_id=bob.cube_id, user_id=bob.user_id)
    missing_cube = bob.cube_id + "-missing"

    def masked(error: dict[str, str], cube_id: str) -> tuple[str, str]:
        return error["code"], error["message"].replace(cube_id, "<cube>")

    async def scenario() -> None:
        async with over_http(http_url, alice.key) as session:
            calls: list[tuple[str, dict[str, Any]]] = [
                ("get_memory", {"memory_id": secret}),
                ("search_memories", {"query": "safe code"}),
                ("update_memory", {"memory_id": secret, "text": "Bob has no safe"}),
                ("delete_memory", {"memory_id": secret}),
                ("add_memories", {"texts": ["Alice was here"]}),
            ]
            for tool, arguments in calls:

                def naming(cube_id: str, tool: str = tool) -> dict[str, Any]:
                    return {"cube_ids": [cube_id]} if tool == "search_memories" else {"cube_id": cube_id}

                bobs = await refused(session, tool, **arguments, **naming(bob.cube_id))
                nobodys = await refused(session, tool, **arguments, **naming(missing_cube))
                assert bobs["code"] == "FORBIDDEN", (tool, bobs)
                assert masked(bobs, bob.cube_id) == masked(nobodys, missing_cube), tool
                assert "4711" not in json.dumps(bobs)
            for uri in (f"memos://cubes/{bob.cube_id}", f"memos://cubes/{bob.cube_id}/memories"):
                with pytest.raises(MCPError) as caught:
                    await session.read_resource(uri)
                assert caught.value.error.data == {"code": "FORBIDDEN"}
                assert "4711" not in caught.value.error.message
            # Alice's own search never reaches Bob's cube.
            found = await call(session, "search_memories", query="safe code")
            assert all(group["cube_id"] != bob.cube_id for group in found["cubes"])

    asyncio.run(scenario())
    assert root.get(bob.cube_id, secret).memory == "Bob's safe code is 4711"
    (group,) = root.get_all(bob.cube_id)["text_mem"]
    assert [m.id for m in group["memories"]] == [secret]


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}


def test_http_refuses_a_missing_or_wrong_key_before_mcp_runs(http_url: str, tenant: Callable[[str], Tenant]) -> None:
    alice = tenant("alice")
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    for authorization in (None, "Bearer mgk_not-a-key", f"Basic {alice.key}", "Bearer"):
        sent = {**headers, **({"Authorization": authorization} if authorization else {})}
        answer = httpx.post(http_url, headers=sent, json=INITIALIZE, timeout=30)
        assert answer.status_code == 401, (authorization, answer.text)
        # RFC 6750's challenge, so OAuth-aware clients (MCP Inspector) see a bad token, not an OAuth prompt
        reason = "invalid_token" if authorization == "Bearer mgk_not-a-key" else "invalid_request"
        assert answer.headers["www-authenticate"].startswith(f'Bearer error="{reason}", error_description="')
        assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
        assert "jsonrpc" not in answer.text
    for path in ("/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server"):
        missing = httpx.get(http_url.removesuffix("/mcp") + path, timeout=30)
        assert missing.status_code == 404 and "Authorization: Bearer" in missing.json()["error"]["message"]
    accepted = httpx.post(
        http_url, headers={**headers, "Authorization": f"Bearer {alice.key}"}, json=INITIALIZE, timeout=30
    )
    assert accepted.status_code == 200 and accepted.json()["result"]["serverInfo"]["name"] == "memos-graph"

    async def with_wrong_key() -> None:
        async with over_http(http_url, "mgk_wrong"):
            pass

    # The SDK's client reports the 401 as an MCPError raised out of its transport's task group.
    with pytest.raises(BaseExceptionGroup) as caught:
        asyncio.run(asyncio.wait_for(with_wrong_key(), 30))
    assert caught.group_contains(MCPError)


def test_http_one_caller_cannot_take_every_worker(
    keyed_runtime: Runtime, tenant: Callable[[str], Tenant], root: MOS
) -> None:
    """Two worker threads, one per caller. A hog sends three updates of a memory whose write lock the test
    holds: one blocks on the lock in its worker until its deadline, the other two wait for the hog's one
    slot without a thread. Another user's call, sent meanwhile, gets the second thread and answers at once.
    (With both threads open to one caller, the hog's first two updates would hold them and that call would
    wait for their deadlines.)"""
    deadline_s = 8.0  # the hog's calls end at it; the quiet call must answer well before (a busy machine is slow)
    config = keyed_runtime.config
    limits = config.limits.model_copy(update={"max_worker_threads": 2, "max_workers_per_caller": 1})
    neo4j = config.neo4j.model_copy(update={"call_deadline_s": deadline_s})
    runtime = replace(keyed_runtime, config=config.model_copy(update={"limits": limits, "neo4j": neo4j}))
    hog, quiet = tenant("hog"), tenant("quiet")
    (held,) = root.add(memory_content=["a memory the test keeps locked"], mem_cube_id=hog.cube_id, user_id=hog.user_id)

    async def hogging(url: str, n: int) -> tuple[float, dict[str, str]]:
        async with over_http(url, hog.key) as session:
            error = await refused(session, "update_memory", cube_id=hog.cube_id, memory_id=held, text=f"take {n}")
            return time.monotonic(), error

    async def scenario(url: str) -> tuple[list[tuple[float, dict[str, str]]], float, float, dict[str, Any]]:
        hogs = [asyncio.create_task(hogging(url, n)) for n in range(3)]
        await asyncio.sleep(1.0)  # the hog's updates hold its worker by now
        async with over_http(url, quiet.key) as session:
            began = time.monotonic()
            listed = await call(session, "list_cubes")
            answered = time.monotonic()
        return await asyncio.gather(*hogs), began, answered, listed

    store = keyed_runtime.store
    with (
        serve_app(create_http_app(Services.over(runtime))) as origin,
        store.driver.session(database=store.database) as session,
    ):
        lock = session.begin_transaction()
        try:
            lock.run("MATCH (m:Memory {id: $id}) SET m.update_lock = true", id=held).consume()
            hogged, began, answered, listed = asyncio.run(asyncio.wait_for(scenario(f"{origin}/mcp"), 60))
        finally:
            lock.rollback()
    print(f"quiet caller answered in {answered - began:.2f} s; the hog's calls: {[e for _, e in hogged]}")
    assert [c["cube_id"] for c in listed["cubes"]] == [quiet.cube_id]
    assert answered - began < deadline_s / 2
    assert all(error["code"] == "UNAVAILABLE" for _, error in hogged)
    assert answered < min(ended for ended, _ in hogged)  # served while all three were in flight
    assert root.get(hog.cube_id, held).memory == "a memory the test keeps locked"  # no update landed


def test_http_chat_calls_the_model_through_litellm(
    http_url: str, tenant: Callable[[str], Tenant], root: MOS, llm_server: FakeOpenAI
) -> None:
    alice = tenant("alice")
    root.add(memory_content=["Alice plays football every Saturday"], mem_cube_id=alice.cube_id, user_id=alice.user_id)
    llm_server.reset("You play football on Saturdays.")

    async def scenario() -> dict[str, Any]:
        async with over_http(http_url, alice.key) as session:
            return await call(session, "chat", query="What do I do on Saturdays?")

    assert asyncio.run(scenario()) == {"answer": "You play football on Saturdays."}
    (request,) = llm_server.requests
    assert request["model"] == "test-model"
    assert "Alice plays football every Saturday" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": "What do I do on Saturdays?"}


def test_stdio_acts_as_the_configured_user(
    neo4j_settings: Neo4jSettings, tenant: Callable[[str], Tenant], root: MOS
) -> None:
    alice, bob = tenant("alice"), tenant("bob")
    (secret,) = root.add(memory_content=["Bob's safe code is 4711"], mem_cube_id=bob.cube_id, user_id=bob.user_id)
    env = process_environment(neo4j_settings)
    command = StdioServerParameters(
        command=sys.executable, args=["-m", "memos_graph.cli", "mcp", "--user", alice.user_id], env=env
    )

    async def scenario() -> None:
        async with stdio_client(command) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            assert {tool.name for tool in (await session.list_tools()).tools} == TOOLS  # no model: no chat
            added = await call(session, "add_memories", texts=["Alice's bike is green"])
            assert added["cube_id"] == alice.cube_id
            found = await call(session, "search_memories", query="What colour is the bike?")
            assert [m["memory_id"] for g in found["cubes"] for m in g["memories"]] == added["memory_ids"]
            messages = [{"role": "user", "content": "I moved to Lyon", "message_id": "m1", "chat_time": "May 1"}]
            said = await call(session, "add_messages", messages=messages, session_id="trip")
            stored = await call(session, "get_memory", cube_id=alice.cube_id, memory_id=said["memory_ids"][0])
            assert stored["metadata"]["sources"][0]["message_id"] == "m1"
            assert stored["metadata"]["session_id"] == "trip"
            listed = await resource(session, f"memos://cubes/{alice.cube_id}/memories")
            assert len(listed["memories"]) == 2
            bad = await refused(session, "get_memory", cube_id=alice.cube_id, memory_id="not-a-uuid")
            assert bad["code"] == "BAD_USER_INPUT"
            forbidden = await refused(session, "get_memory", cube_id=bob.cube_id, memory_id=secret)
            assert forbidden["code"] == "FORBIDDEN" and "4711" not in forbidden["message"]
            missing = await refused(session, "get_memory", cube_id=alice.cube_id, memory_id=MISSING_ID)
            assert missing["code"] == "NOT_FOUND"

    asyncio.run(asyncio.wait_for(scenario(), 240))
    (group,) = root.get_all(alice.cube_id)["text_mem"]
    assert {m.metadata.user_id for m in group["memories"]} == {alice.user_id}


def test_http_search_takes_event_times_and_a_reference_time(http_url: str, tenant: Callable[[str], Tenant]) -> None:
    nate = tenant("nate")

    async def scenario() -> None:
        async with over_http(http_url, nate.key) as session:
            for when in ("2023-03-10T10:00:00Z", "2023-07-20T10:00:00Z"):
                message = {"role": "user", "content": "Nate: I played in a chess tournament", "chat_time": when}
                await call(session, "add_messages", messages=[message], cube_id=nate.cube_id)
            found = await call(
                session,
                "search_memories",
                query="chess",
                time_from="2023-07-01T00:00:00Z",
                time_before="2023-08-01T00:00:00Z",
            )
            assert [m["metadata"]["memory_time"] for m in found["cubes"][0]["memories"]] == ["2023-07-20"]
            ranked = await call(
                session,
                "search_memories",
                query="Which tournament did Nate play last month?",
                reference_time="2023-04-15T00:00:00Z",
            )
            assert ranked["cubes"][0]["memories"][0]["metadata"]["memory_time"] == "2023-03-10"
            error = await refused(session, "search_memories", query="chess", time_from="2023-07-01")
            assert error["code"] == "BAD_USER_INPUT" and "time_from" in error["message"]

    asyncio.run(scenario())


def test_the_server_reports_the_package_version(http_url: str, tenant: Callable[[str], Tenant]) -> None:
    alice = tenant("alice")

    async def scenario() -> None:
        async with over_http(http_url, alice.key) as session:
            info = session.server_info
            assert info is not None and info.name == "memos-graph"
            assert info.version == importlib.metadata.version("memos-graph") != "1"

    asyncio.run(scenario())


def test_http_transport_says_where_it_listens(neo4j_settings: Neo4jSettings) -> None:
    env = process_environment(neo4j_settings)
    port = free_port()
    command = [sys.executable, "-m", "memos_graph.cli", "mcp", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        assert server.stderr is not None
        lines = []
        for line in server.stderr:  # start-up may log before it; the address line comes before serving
            lines.append(line)
            if "MCP (streamable HTTP) on" in line:
                break
        assert f"on http://127.0.0.1:{port}/mcp" in lines[-1], lines
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.5)
        assert answer.status_code == 404
    finally:
        server.terminate()
        server.wait(timeout=60)

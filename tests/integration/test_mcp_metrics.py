"""/metrics on the MCP streamable-HTTP app: a tool call moves its counter, and only a ROOT/ADMIN key or the scrape
token reads the metrics (deltas: the test process's apps share one registry)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest
from pydantic import SecretStr

from memos_graph import MOS, UserRole
from memos_graph.config import MetricsSettings
from memos_graph.mcp_server import create_http_app
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.keys import ROOT_KEY
from testkit.mcp_client import call, over_http, refused
from testkit.metrics import value
from testkit.servers import serve_app

pytestmark = pytest.mark.neo4j

SCRAPE_TOKEN = "scrape-token-for-the-mcp-metrics-test"


@pytest.fixture(scope="module")
def origin(keyed_runtime: Runtime) -> Iterator[str]:
    """The MCP app with a scrape token, under uvicorn on a free loopback port."""
    metrics = MetricsSettings(scrape_token=SecretStr(SCRAPE_TOKEN))
    runtime = replace(keyed_runtime, config=keyed_runtime.config.model_copy(update={"metrics": metrics}))
    with serve_app(create_http_app(Services.over(runtime))) as served:
        yield served


def scrape(origin: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.get(f"{origin}/metrics", headers=headers, timeout=60)


def test_a_tool_call_moves_its_counter(
    origin: str, root: MOS, keyed_runtime: Runtime, uid: Callable[[str], str]
) -> None:
    services = Services.over(keyed_runtime)
    user, key = services.users.create_user_with_key(root.cubes.actor(root.user_id), uid("bob"), UserRole.USER, "Bob")
    cube = root.create_cube_for_user("Bob's notes", owner_id=user.user_id, cube_id=uid("bob-notes"))
    root.add(memory_content=["Bob keeps bees"], mem_cube_id=cube, user_id=user.user_id)
    before = scrape(origin, ROOT_KEY).text

    async def scenario() -> str:
        async with over_http(f"{origin}/mcp", key) as session:
            found = await call(session, "search_memories", query="What does Bob keep?", top_k=1)
            assert found["cubes"][0]["cube_id"] == cube
            error = await refused(session, "get_memory", cube_id="no-such-cube-here", memory_id="m")
            return error["code"]

    code = asyncio.run(scenario())
    after = scrape(origin, ROOT_KEY).text

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("memos_requests_total", door="mcp", operation="search_memories", code="OK") == 1
    assert code != "OK"
    assert delta("memos_requests_total", door="mcp", operation="get_memory", code=code) == 1
    assert delta("memos_operation_seconds_count", operation="search") >= 1
    assert delta("memos_worker_wait_seconds_count") >= 2


def test_mcp_metrics_need_the_scrape_token_or_a_root_or_admin_key(
    origin: str, root: MOS, keyed_runtime: Runtime, uid: Callable[[str], str]
) -> None:
    services = Services.over(keyed_runtime)
    _, user_key = services.users.create_user_with_key(root.cubes.actor(root.user_id), uid("eve"), UserRole.USER, "Eve")
    nothing = scrape(origin, None)
    assert nothing.status_code == 401 and nothing.json()["error"]["code"] == "UNAUTHENTICATED"
    as_user = scrape(origin, user_key)
    assert as_user.status_code == 403 and as_user.json()["error"]["code"] == "FORBIDDEN"
    assert scrape(origin, "not-the-token-nor-a-key").status_code == 401
    for refused_answer in (nothing, as_user):
        assert "memos_" not in refused_answer.text
    for good in (SCRAPE_TOKEN, ROOT_KEY):
        answer = scrape(origin, good)
        assert answer.status_code == 200 and "memos_requests_total" in answer.text

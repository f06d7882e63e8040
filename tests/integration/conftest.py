"""Fixtures the MCP tests share: tenants (a USER with an API key and a cube of its own) and the MCP app
served over streamable HTTP with the fake chat model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import pytest

from memos_graph import MOS, UserRole
from memos_graph.config import LLMSettings
from memos_graph.mcp_server import create_http_app
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fake_llm import FakeOpenAI
from testkit.servers import serve_app


@dataclass(frozen=True)
class Tenant:
    user_id: str
    key: str
    cube_id: str


@pytest.fixture
def tenant(root: MOS, keyed_runtime: Runtime, uid: Callable[[str], str]) -> Callable[[str], Tenant]:
    """A USER with an API key and a cube of its own."""
    services = Services.over(keyed_runtime)

    def make(name: str) -> Tenant:
        user, key = services.users.create_user_with_key(root.cubes.actor(root.user_id), uid(name), UserRole.USER, name)
        cube = root.create_cube_for_user(f"{name}'s notes", owner_id=user.user_id, cube_id=uid(f"{name}-notes"))
        return Tenant(user.user_id, key, cube)

    return make


@pytest.fixture(scope="module")
def http_url(keyed_runtime: Runtime, llm_server: FakeOpenAI) -> Iterator[str]:
    """The MCP app (chat model: the fake OpenAI server) under uvicorn on a free loopback port."""
    llm = LLMSettings(model="openai/test-model", api_base=llm_server.url, api_key="sk-test", num_retries=0)
    runtime = replace(keyed_runtime, config=keyed_runtime.config.model_copy(update={"llm": llm}))
    with serve_app(create_http_app(Services.over(runtime))) as origin:
        yield f"{origin}/mcp"

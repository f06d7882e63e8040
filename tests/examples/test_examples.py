"""Each example in examples/ run as a user runs it, pointed by its arguments and environment at the tests' own
instances: the MemOS seed's example (memos_quickstart.py) against the tests' Neo4j, the httpx GraphQL client,
Apollo Client (node) and the MCP SDK client against a served app, the analyst's script against a seeded graph;
and the MCP client configurations match docs/mcp.md."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphql_schema.app import create_app
from memos_graph import MOS, UserRole
from memos_graph.config import Neo4jSettings
from memos_graph.mcp_server import create_http_app
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fixtures import process_environment
from testkit.servers import serve_app
from tests.graphql.test_apollo_client import node_modules

pytestmark = pytest.mark.neo4j

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FACTS = ["Alice plays the cello", "Alice lives in Lyon", "The orchestra rehearses on Tuesdays"]


@dataclass(frozen=True)
class Tenant:
    user_id: str
    key: str
    cube_id: str


@pytest.fixture
def tenant(root: MOS, keyed_runtime: Runtime, uid: Callable[[str], str]) -> Tenant:
    """A USER with an API key and an empty cube of its own."""
    services = Services.over(keyed_runtime)
    user, key = services.users.create_user_with_key(
        root.cubes.actor(root.user_id), uid("alice"), UserRole.USER, "Alice"
    )
    cube = root.create_cube_for_user("notes", owner_id=user.user_id, cube_id=uid("notes"))
    return Tenant(user.user_id, key, cube)


@pytest.fixture(scope="module")
def graphql_url(keyed_runtime: Runtime) -> Iterator[str]:
    with serve_app(create_app(runtime=keyed_runtime)) as origin:
        yield f"{origin}/graphql"


def run_example(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run an example as a process (the checkout's code first on the path); its stdout; fails on a non-zero exit."""
    base = {key: value for key, value in os.environ.items() if not key.startswith(("MEMOS_", "NEO4J_"))}
    done = subprocess.run(
        list(args),
        env={**base, **(env or {}), "PYTHONPATH": str(REPO)},
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_memos_seed_example_runs_from_any_directory(neo4j_settings: Neo4jSettings, tmp_path: Path) -> None:
    out = run_example(
        sys.executable, str(EXAMPLES / "memos_quickstart.py"), env=process_environment(neo4j_settings), cwd=tmp_path
    )
    assert out.startswith("text_memories: [{'cube_id': 'Ki-Seki/mem_cube_2")
    # the conversation it adds and the cube it registers, both found by the search
    assert "user: I like playing football." in out and "Ki-Seki" in out and "'memories': [" in out


def test_the_httpx_graphql_client(graphql_url: str, tenant: Tenant) -> None:
    out = run_example(
        sys.executable,
        str(EXAMPLES / "gql_client.py"),
        "What instrument does Alice play?",
        env={"MEMOS_GRAPHQL_URL": graphql_url, "MEMOS_API_KEY": tenant.key},
    )
    lines = out.splitlines()
    assert lines[0].startswith("created cube gql-example-") and lines[1] == "added 3 memories"
    assert re.fullmatch(r"  1\. 0\.\d{3} Alice plays the cello", lines[3]), out
    assert "page of 2 (of 3): ['Alice plays the cello', 'Alice lives in Lyon']" in lines
    assert "page of 1 (of 3): ['The orchestra rehearses on Tuesdays']" in lines
    assert lines[-1] == "refused as expected: ['BAD_USER_INPUT']"


def test_the_apollo_example(graphql_url: str, tenant: Tenant, root: MOS) -> None:
    modules = node_modules()
    root.add(memory_content=FACTS, mem_cube_id=tenant.cube_id, user_id=tenant.user_id)
    out = run_example(
        "node",
        str(EXAMPLES / "apollo" / "recall.cjs"),
        tenant.cube_id,
        "What instrument does Alice play?",
        env={"NODE_PATH": str(modules), "MEMOS_GRAPHQL_URL": graphql_url, "MEMOS_API_KEY": tenant.key},
    )
    result = json.loads(out)
    assert result["hits"][0]["memory"] == "Alice plays the cello" and result["hits"][0]["rank"] == 1
    assert result["seen"] == [2, 3]  # a page of 2, then the last one appended to the same cached list
    assert result["cachedTotal"] == result["totalCount"] == 3


def test_the_mcp_sdk_client(keyed_runtime: Runtime, tenant: Tenant) -> None:
    with serve_app(create_http_app(Services.over(keyed_runtime))) as origin:
        out = run_example(
            sys.executable,
            str(EXAMPLES / "mcp" / "client.py"),
            tenant.cube_id,
            "What instrument does Alice play?",
            env={"MEMOS_MCP_URL": f"{origin}/mcp", "MEMOS_API_KEY": tenant.key},
        )
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert {"add_memories", "search_memories", "get_memory", "list_cubes"} <= set(lines["tools"].split(", "))
    assert json.loads(lines["added"])["cube_id"] == tenant.cube_id
    found = json.loads(lines["search"])
    assert "Alice plays the cello" in json.dumps(found)
    cube = json.loads(lines["cube"])
    assert cube["cube"]["cube_id"] == tenant.cube_id and cube["memory_count"] == 3


def test_the_mcp_configurations_are_docs_mcp_s() -> None:
    documented = [
        json.loads(block) for block in re.findall(r"```json\n(.*?)```", (REPO / "docs" / "mcp.md").read_text(), re.S)
    ]
    stdio = json.loads((EXAMPLES / "mcp" / "stdio.json").read_text())
    http = json.loads((EXAMPLES / "mcp" / "streamable_http.json").read_text())
    assert documented == [stdio, http]
    server = stdio["mcpServers"]["memos-graph"]
    assert server["command"].endswith("/bin/memos-graph") and server["args"][:1] == ["mcp"]
    assert set(server["env"]) == {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"}
    remote = http["mcpServers"]["memos-graph"]
    assert remote["type"] == "streamable-http" and remote["url"].endswith("/mcp")
    assert remote["headers"]["Authorization"].startswith("Bearer ")


def test_the_analysts_script(
    neo4j_settings: Neo4jSettings, root: MOS, tenant: Tenant, uid: Callable[[str], str]
) -> None:
    root.add(memory_content=FACTS[:2], mem_cube_id=tenant.cube_id, user_id=tenant.user_id)
    reader = root.create_user(uid("reader"), UserRole.USER, "Reader")
    root.share_cube_with_user(tenant.cube_id, reader)
    out = run_example(
        sys.executable,
        str(EXAMPLES / "analytics.py"),
        "--user",
        tenant.user_id,
        env=process_environment(neo4j_settings),
    )
    assert f"  {tenant.cube_id} ({tenant.user_id}): 2 memories [" in out, out
    assert f"  {tenant.user_id} -> {tenant.cube_id} (owner, owner {tenant.user_id})" in out
    growth = out.split("Memories added per day")[1]
    assert re.search(
        rf"  \d{{4}}-\d{{2}}-\d{{2}} {re.escape(tenant.cube_id)} \({re.escape(tenant.user_id)}\): 2", growth
    )

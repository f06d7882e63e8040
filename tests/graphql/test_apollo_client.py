"""Apollo Client 4 (from npm, driven by node) against the served API: its normalising cache keeps one Memory per
id, so a later search overwrites the score an earlier one read through textMem's metadata.relativity;
SearchResult.hits keeps each search's scores (clients report, item 4). The cache is configured as
docs/clients.md says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.graphql.conftest import Gql
from tests.graphql.test_api import add, make_cube

pytestmark = pytest.mark.neo4j

SCRIPT = Path(__file__).resolve().parent / "clients" / "apollo_search.cjs"
NewUser = Callable[..., tuple[str, str]]


def node_modules() -> Path:
    """Where scripts/test.sh installed the JavaScript clients; skips without them, fails under CI."""
    assets = os.environ.get("MEMOS_CLIENT_ASSETS")
    modules = Path(assets) / "node_modules" if assets else None
    if shutil.which("node") and modules is not None and (modules / "@apollo" / "client").is_dir():
        return modules
    if os.environ.get("CI") == "true":
        pytest.fail("node or the npm client packages are missing (scripts/test.sh installs them)")
    pytest.skip("node or the npm client packages are missing (run the tests through scripts/test.sh)")


def test_apollo_keeps_each_search_s_scores_in_hits(server: str, gql: Gql, new_user: NewUser) -> None:
    modules = node_modules()
    _, key = new_user("apollo")
    music, home = make_cube(gql, key, "music"), make_cube(gql, key, "home")
    add(gql, key, music, "Alice plays the cello in an orchestra", "The orchestra rehearses on Tuesdays")
    add(gql, key, home, "Alice lives in Lyon near the river", "The cello case sits by the door in Lyon")
    request = {
        "url": f"{server}/graphql",
        "key": key,
        "cubes": [music, home],
        "questions": ["Which instrument does Alice play?", "Where does Alice live?"],
    }
    run = subprocess.run(
        ["node", str(SCRIPT), json.dumps(request)],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    first, second = result["answers"]

    def scores(search: dict[str, Any], where: str) -> dict[str, float]:
        if where == "hits":
            return {h["node"]["id"]: h["relativity"] for h in search["hits"]}
        return {m["id"]: m["metadata"]["relativity"] for group in search["textMem"] for m in group["memories"]}

    before, after = scores(first, "hits"), scores(second, "hits")
    shared = [node for node in before if node in after and after[node] != before[node]]
    assert shared, "the two searches should score a common memory differently"
    cached = result["cached"]
    # hits read back from Apollo's cache are the first search's own scores
    assert scores(cached, "hits") == scores(first, "hits")
    # ...while the normalised Memory's metadata now holds the second search's score (what hits avoids)
    for node in shared:
        assert scores(cached, "textMem")[node] == after[node] != before[node]

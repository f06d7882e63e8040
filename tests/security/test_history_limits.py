"""Version history is read in bounded pages and kept to a bounded length (issue 22, M1 and M2).

- M1: a branching version graph (an import could build one: 18 layers of two versions, each linked to both
  of the next) made `DERIVED_FROM*1..` enumerate its 2^18 paths: memoryHistory ran Neo4j out of transaction
  memory (UNAVAILABLE after 10 s here, 30 s in the report). History is now read by memory id through an
  index, so it costs its versions, whatever the edges look like; so are deletes and the analytics.
- M2: history had no pagination while the cost model counted it as 10: six aliases of memoryHistory over a
  long chain returned 270 MB. memoryHistory and Memory.history are now connections of at most 100 versions a
  page, counted by their `first`, and an update keeps a memory's newest limits.max_versions versions.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.graph.queries import CYPHER_DIR, query
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.security import Api, Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

LAYERS = 18  # 2^18 paths through the version graph: the old query never finished
VERSION = "id memoryId version memory updatedBy"
HISTORY = (
    "query($c: ID!, $i: ID!, $first: Int!, $after: String) { memoryHistory(cubeId: $c, id: $i, first: $first, "
    f"after: $after) {{ edges {{ cursor node {{ {VERSION} }} }} pageInfo {{ hasNextPage hasPreviousPage "
    "startCursor endCursor } } }"
)
NESTED = (
    "query($c: ID!, $i: ID!, $first: Int!, $after: String) { memory(cubeId: $c, id: $i) { history(first: $first, "
    f"after: $after) {{ edges {{ cursor node {{ {VERSION} }} }} pageInfo {{ hasNextPage hasPreviousPage }} }} }} }}"
)
LISTING = (
    "query($c: ID!) { memories(cubeId: $c, first: 50) { edges { node { memoryId "
    "history(first: 100) { edges { node { version } } } } } } }"
)
UPDATE = "mutation($i: UpdateMemoryInput!) { updateMemory(input: $i) { metadata { version } } }"


def analytics(env: SecurityEnv, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run cypher/analytics/<name>.cypher in a read transaction."""
    text = (CYPHER_DIR / "analytics" / f"{name}.cypher").read_text(encoding="utf-8")
    return env.runtime.store.run_read(lambda tx: [record.data() for record in tx.run(text, params)])


def branching_history(env: SecurityEnv, cube: str, memory_id: str, layers: int) -> list[tuple[int, str]]:
    """`layers` layers of two versions under the memory (version numbers layers..1, two of each), each node
    linked with DERIVED_FROM {kind: 'update'} to both of the next layer: what an import of a DAG would
    store (imports now refuse one; raw Cypher builds it). The (version, id) of each, newest first."""
    store = env.runtime.store
    created = store.run_statement(
        "UNWIND range(0, $layers - 1) AS layer UNWIND [0, 1] AS side "
        "CREATE (v:MemoryVersion {id: randomUUID(), memory_id: $m, cube_id: $c, "
        "version: $layers - layer, memory: 'state ' + layer + '-' + side, status: 'archived', "
        "created_at: datetime(), updated_at: datetime()}) RETURN v.version AS version, v.id AS id",
        m=memory_id,
        c=cube,
        layers=layers,
    )
    store.run_statement(
        "MATCH (m:Memory {id: $m}), (v:MemoryVersion) WHERE v.cube_id = $c AND v.memory_id = $m "
        "AND v.version = $layers SET m.version = $layers + 1 "
        "CREATE (m)-[:DERIVED_FROM {kind: 'update', at: datetime()}]->(v)",
        m=memory_id,
        c=cube,
        layers=layers,
    )
    store.run_statement(
        "MATCH (a:MemoryVersion), (b:MemoryVersion) WHERE a.cube_id = $c AND a.memory_id = $m AND a.version IS NOT NULL"
        " AND b.cube_id = $c AND b.memory_id = $m AND b.version = a.version - 1 "
        "CREATE (a)-[:DERIVED_FROM {kind: 'update', at: datetime()}]->(b)",
        m=memory_id,
        c=cube,
    )
    return sorted(((int(row["version"]), str(row["id"])) for row in created), reverse=True)


def long_chain(env: SecurityEnv, cube: str, memory_id: str, count: int, chars: int, attach: bool = True) -> None:
    """`count` versions (numbered 1..count) of `chars` characters each in a line, the newest under the memory
    unless not `attach` (what an import of a long history stores; updates keep at most limits.max_versions)."""
    env.runtime.store.run_statement(
        "MATCH (m:Memory {id: $m}) "
        "UNWIND range(1, $count) AS n "
        "CREATE (v:MemoryVersion {id: randomUUID(), memory_id: $m, cube_id: $c, version: n, "
        "memory: n + ' ' + $filler, status: 'archived'}) "
        "WITH m, collect(v) AS versions "
        "CALL (m, versions) { "
        "  UNWIND range(0, size(versions) - 2) AS i "
        "  WITH versions[i + 1] AS newer, versions[i] AS older "
        "  CREATE (newer)-[:DERIVED_FROM {kind: 'update'}]->(older) "
        "} "
        "WITH m, versions[-1] AS newest WHERE $attach CREATE (m)-[:DERIVED_FROM {kind: 'update'}]->(newest)",
        m=memory_id,
        c=cube,
        count=count,
        filler="x" * chars,
        attach=attach,
    )


def versions_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in body["edges"]]


def db_hits(plan: Any) -> int:
    """The db hits of a profiled plan and all its children."""
    return int(plan.get("dbHits", 0)) + sum(db_hits(child) for child in plan.get("children", []))


# -- M1: a branching version graph --------------------------------------------------------------------------


def test_a_branching_version_graph_is_read_in_time_linear_in_its_versions(security_env: SecurityEnv) -> None:
    env = security_env
    owner = env.caller("dag")
    cube = env.cube(owner, "dag")
    (memory_id,) = env.add(owner, cube, "The head of a diamond-shaped history")
    expected = branching_history(env, cube, memory_id, LAYERS)

    # The statement's work, counted by Neo4j: the versions, not the 2^18 paths (not timing-bound).
    with env.runtime.store.driver.session(database=env.runtime.store.database) as session:
        summary = session.run(
            "PROFILE " + query("memory_history"),
            cube_id=cube,
            memory_id=memory_id,
            limit=101,
            below_version=2**63 - 1,
            after_id=None,
        ).consume()
    assert summary.profile is not None
    assert db_hits(summary.profile) < 5_000, db_hits(summary.profile)

    started = time.monotonic()
    page = env.api.ok(owner.key, HISTORY, c=cube, i=memory_id, first=100)["memoryHistory"]
    nested = env.api.ok(owner.key, NESTED, c=cube, i=memory_id, first=100)["memory"]["history"]
    listed = env.api.ok(owner.key, LISTING, c=cube)["memories"]["edges"]
    sizes = [row for row in analytics(env, "cube_sizes", owner_id=owner.user_id, limit=10) if row["cube_id"] == cube]
    chain = analytics(env, "provenance_chain", cube_id=cube, memory_id=memory_id, with_context=False)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"{elapsed:.1f} s"  # the old history query ran out of memory or time (10-30 s)

    # Whole and in order: newest version first, ties by version id, each version once.
    assert [(v["version"], v["id"]) for v in versions_of(page)] == expected
    assert {v["memoryId"] for v in versions_of(page)} == {memory_id}
    assert page["pageInfo"]["hasNextPage"] is False
    assert [(v["version"], v["id"]) for v in versions_of(nested)] == expected
    (listed_memory,) = listed
    assert len(listed_memory["node"]["history"]["edges"]) == 2 * LAYERS
    assert sizes[0]["versions"] == 2 * LAYERS
    # The provenance chain lists each version once, newest first (the history's order gives the depth).
    versions = [row for row in chain if row["label"] == "MemoryVersion"]
    assert sorted((row["depth"], row["key"]) for row in versions) == [
        (index + 1, version_id) for index, (_, version_id) in enumerate(expected)
    ]

    # An update makes one version (not one per edge the memory had), and the history stays whole.
    updated(env, owner, cube, memory_id, 1)
    page = env.api.ok(owner.key, HISTORY, c=cube, i=memory_id, first=100)["memoryHistory"]
    assert [(v["version"], v["id"]) for v in versions_of(page)][1:] == expected
    assert versions_of(page)[0]["version"] == LAYERS + 1  # the state the update replaced

    # Deleting the memory deletes the whole branching history, in time too.
    started = time.monotonic()
    assert env.api.ok(
        owner.key, "mutation($c: ID!, $i: ID!) { deleteMemory(cubeId: $c, id: $i) }", c=cube, i=memory_id
    ) == {"deleteMemory": True}
    assert time.monotonic() - started < 10
    assert env.count("MATCH (v:MemoryVersion) WHERE v.cube_id = $c RETURN count(v) AS n", c=cube) == 0


# -- M2: pages, cost and retention --------------------------------------------------------------------------


def updated(env: SecurityEnv, caller: Caller, cube: str, memory_id: str, times: int, api: Api | None = None) -> None:
    """`times` metadata-only updates (the same text: no re-embedding), each keeping the replaced state."""
    text = env.services.memories.get(env.services.cubes.actor(caller.user_id), cube, memory_id).memory
    for n in range(times):
        (api or env.api).ok(caller.key, UPDATE, i={"cubeId": cube, "id": memory_id, "memory": text, "tags": [f"t{n}"]})


def test_history_pages_follow_their_cursors_newest_first_without_overlap(security_env: SecurityEnv) -> None:
    env = security_env
    owner = env.caller("pages")
    cube = env.cube(owner, "pages")
    (memory_id,) = env.add(owner, cube, "A memory edited seven times")
    updated(env, owner, cube, memory_id, 7)

    forms = (("memoryHistory", HISTORY, ("memoryHistory",)), ("Memory.history", NESTED, ("memory", "history")))
    for form, text, field in forms:
        seen: list[int] = []
        after = None
        pages = []
        while True:
            data: Any = env.api.ok(owner.key, text, c=cube, i=memory_id, first=3, after=after)
            for name in field:
                data = data[name]
            pages.append(data)
            seen += [v["version"] for v in versions_of(data)]
            if not data["pageInfo"]["hasNextPage"]:
                break
            after = data["edges"][-1]["cursor"]
        assert seen == [7, 6, 5, 4, 3, 2, 1], form  # newest first, each version once, none left out
        assert [len(p["edges"]) for p in pages] == [3, 3, 1], form
        assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True], form
    first_page = env.api.ok(owner.key, HISTORY, c=cube, i=memory_id, first=3)["memoryHistory"]
    assert first_page["pageInfo"]["startCursor"] == first_page["edges"][0]["cursor"]
    assert first_page["pageInfo"]["endCursor"] == first_page["edges"][-1]["cursor"]
    # A version added meanwhile does not shift the next page (keyset, not offset).
    updated(env, owner, cube, memory_id, 1)
    second = env.api.ok(owner.key, HISTORY, c=cube, i=memory_id, first=3, after=first_page["pageInfo"]["endCursor"])
    assert [v["version"] for v in versions_of(second["memoryHistory"])] == [4, 3, 2]

    # Bad page sizes and cursors are the caller's error, never an internal one.
    listing = "query($c: ID!) { memories(cubeId: $c, first: 1) { pageInfo { endCursor } } }"
    listing_cursor = env.api.ok(owner.key, listing, c=cube)
    forged = [
        listing_cursor["memories"]["pageInfo"]["endCursor"],
        base64.urlsafe_b64encode(json.dumps(["version", 2**70, memory_id]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["version", "2", memory_id]).encode()).decode(),
        base64.urlsafe_b64encode(json.dumps(["version", 2, "not-a-uuid"]).encode()).decode(),
        "not base64 at all",
    ]
    for cursor in forged:
        for text in (HISTORY, NESTED):
            body = env.api.call(owner.key, text, c=cube, i=memory_id, first=3, after=cursor)
            assert codes(body) == ["BAD_USER_INPUT"], (cursor, body)
    for first in (0, -1, 101):
        for text in (HISTORY, NESTED):
            body = env.api.call(owner.key, text, c=cube, i=memory_id, first=first)
            assert codes(body) == ["BAD_USER_INPUT"], (first, body)


def test_the_cost_model_counts_history_by_its_page_size(security_env: SecurityEnv) -> None:
    env = security_env
    owner = env.caller("cost")
    cube = env.cube(owner, "cost")
    (memory_id,) = env.add(owner, cube, "A memory whose history is asked for in bulk")
    aliases = " ".join(
        f"h{n}: memoryHistory(cubeId: $c, id: $i, first: $first) {{ edges {{ node {{ memory }} }} }}" for n in range(6)
    )
    text = f"query($c: ID!, $i: ID!, $first: Int!) {{ {aliases} }}"
    body = env.api.call(owner.key, text, c=cube, i=memory_id, first=50_000)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["reason"] == "NODE_LIMIT"
    nested = (
        "query($c: ID!, $first: Int!) { memories(cubeId: $c, first: 100) { edges { node { "
        "history(first: $first) { edges { node { memory } } } } } } }"
    )
    body = env.api.call(owner.key, nested, c=cube, first=5_000)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["reason"] == "NODE_LIMIT", body
    # Without `first`, a page of 20 is what runs and what is counted.
    assert env.api.ok(
        owner.key, nested.replace("history(first: $first)", "history").replace(", $first: Int!", ""), c=cube
    )["memories"]["edges"]


def test_six_aliases_over_a_long_history_return_bounded_pages(security_env: SecurityEnv) -> None:
    env = security_env
    owner = env.caller("chain")
    cube = env.cube(owner, "chain")
    (memory_id,) = env.add(owner, cube, "A memory with a long imported history")
    chars = 5_000
    long_chain(env, cube, memory_id, 600, chars)
    aliases = " ".join(
        f"h{n}: memoryHistory(cubeId: $c, id: $i, first: 100) {{ edges {{ node {{ version memory }} }} }}"
        for n in range(6)
    )
    response = env.api.post(owner.key, f"query($c: ID!, $i: ID!) {{ {aliases} }}", {"c": cube, "i": memory_id})
    assert response.status_code == 200
    data = response.json()["data"]
    for n in range(6):
        assert [v["version"] for v in versions_of(data[f"h{n}"])] == list(range(600, 500, -1))
    # 6 pages of 100 versions: the body is what they hold, not the 600-version history six times over.
    assert len(response.text) < 6 * 100 * (chars + 200), len(response.text)


@pytest.fixture
def capped(security_env: SecurityEnv) -> Iterator[tuple[Runtime, Api]]:
    """The app over the security runtime with limits.max_versions = 5."""
    config = security_env.runtime.config
    limits = config.limits.model_copy(update={"max_versions": 5})
    runtime = replace(security_env.runtime, config=config.model_copy(update={"limits": limits}))
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        yield runtime, Api(client)


def test_an_update_keeps_the_newest_max_versions_versions(
    security_env: SecurityEnv, capped: tuple[Runtime, Api]
) -> None:
    env = security_env
    runtime, api = capped
    owner = env.caller("cap")
    cube = env.cube(owner, "cap")
    (memory_id,) = env.add(owner, cube, "A memory edited eight times under a cap of five")
    updated(env, owner, cube, memory_id, 8, api)  # versions 1..8 replaced; the memory is at version 9

    page = api.ok(owner.key, HISTORY, c=cube, i=memory_id, first=100)["memoryHistory"]
    assert [v["version"] for v in versions_of(page)] == [8, 7, 6, 5, 4]  # the oldest three are gone
    assert env.count("MATCH (v:MemoryVersion) WHERE v.cube_id = $c RETURN count(v) AS n", c=cube) == 5
    # The chain is intact: memory -> 8 -> 7 -> ... -> 4, and 4 points nowhere.
    chain = env.runtime.store.run_statement(
        "MATCH (m:Memory {id: $m}) MATCH p = (m)-[:DERIVED_FROM {kind: 'update'}]->+(v:MemoryVersion) "
        "WHERE NOT (v)-[:DERIVED_FROM {kind: 'update'}]->() RETURN [n IN tail(nodes(p)) | n.version] AS versions",
        m=memory_id,
    )
    assert [row["versions"] for row in chain] == [[8, 7, 6, 5, 4]]
    # MOS.get_history (the service it calls) gives the newest up to the cap.
    services = Services.over(runtime)
    actor = services.cubes.actor(owner.user_id)
    assert [item.metadata.version for item in services.memories.history(actor, cube, memory_id)] == [8, 7, 6, 5, 4]

    # A history over the cap (an import, or a lowered cap) shrinks on the next update, and stays at the cap.
    long_chain(env, cube, memory_id, 3, 10, attach=False)  # three more versions, numbered 1..3: the oldest
    assert env.count("MATCH (v:MemoryVersion) WHERE v.cube_id = $c RETURN count(v) AS n", c=cube) == 8
    updated(env, owner, cube, memory_id, 1, api)
    page = api.ok(owner.key, HISTORY, c=cube, i=memory_id, first=100)["memoryHistory"]
    assert [v["version"] for v in versions_of(page)] == [9, 8, 7, 6, 5]
    assert env.count("MATCH (v:MemoryVersion) WHERE v.cube_id = $c RETURN count(v) AS n", c=cube) == 5

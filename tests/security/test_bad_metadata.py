"""Bad metadata (issue 11, point 6) and a duplicate-text update (point 10): refused with a clear typed error
before any write, over GraphQL (BAD_USER_INPUT, CONFLICT) and through the MOS (InvalidInput, Conflict).

- NaN and +/-Infinity anywhere in metadata: stored, they came back as invalid JSON and broke every reader
  of a shared cube.
- `extra` nested deeper than MAX_METADATA_DEPTH: 255+ levels answered INTERNAL_SERVER_ERROR.
- The 32,000-character metadata limit holds on the merged metadata an update stores, not on the update's
  own keys (six updates grew one memory's metadata to 150,060 characters, each copied again into history).
- Updating a memory's text to another memory's text: a clean CONFLICT, no Neo4j node ids or hashes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from memos_graph import MOS, Conflict, InvalidInput, TextualMemoryItem, TextualMemoryMetadata, UserRole
from memos_graph.config import MAX_METADATA_DEPTH
from testkit.security import Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

UPDATE = "mutation($i: UpdateMemoryInput!) { updateMemory(input: $i) { id metadata { version extra } } }"
LIST = "query($c: ID!) { memories(cubeId: $c, first: 100) { edges { node { memoryId memory metadata { version extra } } } } }"  # noqa: E501
HISTORY = "query($c: ID!, $id: ID!) { memoryHistory(cubeId: $c, id: $id) { edges { node { memory } } } }"
LIMIT = 32_000


def nested(depth: int, leaf: object = 1) -> dict[str, Any]:
    """An object with `depth` levels of objects counting itself: {"a": {"a": ... {"a": leaf}}}."""
    value: Any = leaf
    for _ in range(depth):
        value = {"a": value}
    result: dict[str, Any] = value
    return result


def strict_json(text: str) -> Any:
    """JSON as every other reader parses it: NaN and Infinity are not JSON."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in a response")

    return json.loads(text, parse_constant=refuse)


@dataclass
class Target:
    caller: Caller
    cube: str
    memory_id: str


@pytest.fixture
def target(security_env: SecurityEnv) -> Target:
    caller = security_env.caller("meta")
    cube = security_env.cube(caller, "meta")
    (memory_id,) = security_env.add(caller, cube, "The shared cube's first memory")
    return Target(caller, cube, memory_id)


def update(env: SecurityEnv, target: Target, memory: str = "The shared cube's first memory", **fields: Any) -> Any:
    return env.api.call(
        target.caller.key, UPDATE, i={"cubeId": target.cube, "id": target.memory_id, "memory": memory, **fields}
    )


def assert_unchanged(env: SecurityEnv, target: Target, version: int = 1) -> None:
    """The memory is at `version`, with that many states in its history, and the cube lists as strict JSON."""
    response = env.api.post(target.caller.key, LIST, {"c": target.cube})
    assert response.status_code == 200
    body = strict_json(response.text)
    assert body.get("errors") is None, body
    (edge,) = body["data"]["memories"]["edges"]
    assert edge["node"]["metadata"]["version"] == version
    history = env.api.ok(target.caller.key, HISTORY, c=target.cube, id=target.memory_id)["memoryHistory"]["edges"]
    assert len(history) == version - 1


@pytest.mark.parametrize(
    "extra",
    [
        {"score": math.nan},
        {"score": math.inf},
        {"score": -math.inf},
        {"scores": [1, 2, {"deep": [math.nan]}]},
    ],
    ids=["nan", "inf", "-inf", "nested-nan"],
)
def test_non_finite_numbers_in_extra_are_bad_user_input(
    security_env: SecurityEnv, target: Target, extra: dict[str, Any]
) -> None:
    # The Api encodes with json.dumps, which writes NaN and Infinity; the server's JSON parser takes them.
    body = update(security_env, target, extra=extra)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "finite" in body["errors"][0]["message"]
    assert_unchanged(security_env, target)


def test_an_infinite_literal_in_the_query_is_bad_user_input(security_env: SecurityEnv, target: Target) -> None:
    # A GraphQL float literal beyond the double range parses to Infinity in the JSON scalar.
    query = (
        "mutation($c: ID!, $id: ID!) { updateMemory(input: {cubeId: $c, id: $id, memory: \"The shared cube's first"
        ' memory", extra: {score: 1e999}}) { id } }'
    )
    body = security_env.api.call(target.caller.key, query, c=target.cube, id=target.memory_id)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert_unchanged(security_env, target)


@pytest.mark.parametrize("depth", [MAX_METADATA_DEPTH + 1, 56])
def test_deeply_nested_extra_is_bad_user_input(security_env: SecurityEnv, target: Target, depth: int) -> None:
    # Request bodies nested deeper than MAX_JSON_DEPTH (64) are refused before GraphQL runs (HTTP 400); up to
    # that, `extra` reaches the metadata check (the MOS tests below go to 5,000 levels).
    body = update(security_env, target, extra=nested(depth))
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert f"nested more than {MAX_METADATA_DEPTH} levels" in body["errors"][0]["message"]
    assert len(body["errors"][0]["message"]) < 400
    assert_unchanged(security_env, target)


def test_extra_nested_to_the_limit_is_stored(security_env: SecurityEnv, target: Target) -> None:
    extra = nested(MAX_METADATA_DEPTH, "leaf")
    body = update(security_env, target, extra=extra)
    assert body.get("errors") is None, body
    assert body["data"]["updateMemory"]["metadata"]["extra"] == extra
    assert_unchanged(security_env, target, version=2)


def test_metadata_limit_holds_on_the_merged_state_over_graphql(security_env: SecurityEnv, target: Target) -> None:
    first = update(security_env, target, extra={"k0": "x" * 20_000})
    assert first.get("errors") is None, first
    # On its own keys the second update is within the limit; merged with the first it is not.
    second = update(security_env, target, extra={"k1": "y" * 20_000})
    assert codes(second) == ["BAD_USER_INPUT"], second
    assert "after this update" in second["errors"][0]["message"]
    assert_unchanged(security_env, target, version=2)
    # Replacing the key keeps the merged state within the limit.
    third = update(security_env, target, extra={"k0": "z" * 20_000})
    assert third.get("errors") is None, third
    assert set(third["data"]["updateMemory"]["metadata"]["extra"]) == {"k0"}


def test_every_stored_state_stays_within_the_limit(security_env: SecurityEnv, target: Target) -> None:
    """The report's six updates: each adds a new 25,000-character key. Only the first is taken, so no state
    (current or in history) carries more than the limit of metadata."""
    results = [update(security_env, target, extra={f"k{n}": "x" * 25_000}) for n in range(6)]
    assert [codes(body) for body in results] == [[]] + [["BAD_USER_INPUT"]] * 5
    rows = security_env.runtime.store.run_statement(
        "MATCH (n) WHERE (n:Memory AND n.id = $id) OR (n:MemoryVersion AND n.memory_id = $id) "
        "RETURN size(coalesce(n.extra_json, '')) AS size",
        id=target.memory_id,
    )
    assert len(rows) == 2 and all(row["size"] <= LIMIT for row in rows)


def test_duplicate_text_update_is_a_clean_conflict(security_env: SecurityEnv, target: Target) -> None:
    (other,) = security_env.add(target.caller, target.cube, "Another memory of the cube")
    body = security_env.api.call(
        target.caller.key, UPDATE, i={"cubeId": target.cube, "id": other, "memory": "The shared cube's first memory"}
    )
    assert codes(body) == ["CONFLICT"], body
    message = body["errors"][0]["message"]
    assert message == "the cube already holds a memory with this text"
    assert "Node(" not in json.dumps(body) and "content_hash" not in json.dumps(body)


# -- the same through the MOS ------------------------------------------------------------------------------


@pytest.fixture
def memory(root: MOS, uid: Callable[[str], str]) -> tuple[str, str, str]:
    """(user, cube, memory id): a USER's cube with one memory."""
    user = root.create_user(uid("meta"), UserRole.USER)
    cube = root.create_cube_for_user("meta", owner_id=user)
    (memory_id,) = root.add(memory_content="A memory to edit", mem_cube_id=cube, user_id=user)
    return user, cube, memory_id


def edit(root: MOS, memory: tuple[str, str, str], metadata: dict[str, Any]) -> None:
    user, cube, memory_id = memory
    item = TextualMemoryItem(memory="A memory to edit", metadata=TextualMemoryMetadata.model_validate(metadata))
    root.update(cube, memory_id, item, user_id=user)


def version_of(root: MOS, memory: tuple[str, str, str]) -> int:
    """The memory's version, checked against the number of states in its history."""
    user, cube, memory_id = memory
    version = root.get(cube, memory_id, user_id=user).metadata.version or 1
    assert len(root.get_history(cube, memory_id, user_id=user)) == version - 1
    return version


@pytest.mark.parametrize(
    "metadata",
    [
        {"score": math.nan},
        {"bounds": {"high": math.inf}},
        {"bounds": [-math.inf]},
        {"sources": [{"type": "chat", "weight": math.nan}]},
        {"nested": {math.inf: "a non-finite key"}},
    ],
    ids=["nan", "inf", "-inf", "in-sources", "key"],
)
def test_mos_refuses_non_finite_numbers(root: MOS, memory: tuple[str, str, str], metadata: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="finite"):
        edit(root, memory, metadata)
    assert version_of(root, memory) == 1


@pytest.mark.parametrize("depth", [MAX_METADATA_DEPTH, 300, 5_000])
def test_mos_refuses_deep_metadata_without_recursing(root: MOS, memory: tuple[str, str, str], depth: int) -> None:
    # The metadata object is level 1, so `extra` key values may hold MAX_METADATA_DEPTH - 1 levels.
    with pytest.raises(InvalidInput, match=f"nested more than {MAX_METADATA_DEPTH} levels"):
        edit(root, memory, {"deep": nested(depth)})
    assert version_of(root, memory) == 1
    edit(root, memory, {"deep": nested(MAX_METADATA_DEPTH - 1)})
    assert version_of(root, memory) == 2


def test_mos_refuses_values_that_are_not_json(root: MOS, memory: tuple[str, str, str]) -> None:
    with pytest.raises(InvalidInput, match="must be a JSON value"):
        edit(root, memory, {"when": {1, 2}})
    assert version_of(root, memory) == 1


def test_mos_metadata_limit_holds_on_the_merged_state(root: MOS, memory: tuple[str, str, str]) -> None:
    edit(root, memory, {"k0": "x" * 20_000, "tags": ["t"]})
    with pytest.raises(InvalidInput, match="after this update"):
        edit(root, memory, {"k1": "y" * 20_000})
    with pytest.raises(InvalidInput, match="after this update"):
        edit(root, memory, {"background": "b" * 15_000})
    assert version_of(root, memory) == 2
    user, cube, memory_id = memory
    edit(root, memory, {"k0": "short", "k1": "y" * 20_000})  # replacing k0 makes room
    assert root.get(cube, memory_id, user_id=user).metadata.extra_fields() == {"k0": "short", "k1": "y" * 20_000}


def test_mos_duplicate_text_update_is_a_clean_conflict(root: MOS, memory: tuple[str, str, str]) -> None:
    user, cube, memory_id = memory
    (other,) = root.add(memory_content="Another memory", mem_cube_id=cube, user_id=user)
    with pytest.raises(Conflict) as raised:
        root.update(cube, other, TextualMemoryItem(memory="A memory to edit"), user_id=user)
    assert str(raised.value) == "the cube already holds a memory with this text"
    assert root.get(cube, other, user_id=user).metadata.version == 1

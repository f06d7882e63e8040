"""Property-based fuzzing of the GraphQL API through the real ASGI app and the real Neo4j.

Whatever a client sends, the answer is HTTP 200 with GraphQL errors whose extensions.code is one a client is
meant to see (never INTERNAL_SERVER_ERROR, never missing), whose messages carry no internals (tracebacks,
driver errors, exception class names, library dumps); a request that is not GraphQL at all gets a 4xx,
never a 5xx. Operations come from hypothesis-graphql over the committed SDL (literals, positive and
negative), from the schema's argument types as variables (any Unicode, any integer), and as raw bodies.
The fuzz user is a USER: writes land only in its own cubes. `python -m bench.bench_fuzz` runs thousands.
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode

from graphql_schema.app import MAX_BODY_BYTES
from testkit.security import (
    RAW_STATUSES,
    FuzzTarget,
    SecurityEnv,
    cursor,
    follow_rotation,
    generated_operations,
    raw_requests,
    response_problems,
    seed_target,
    send_raw,
    variable_operations,
)

pytestmark = pytest.mark.neo4j

FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck), print_blob=False)

SEED_TEXTS = ["The fuzz user waters the ferns on Mondays", "The fuzz user keeps bees", "Fuzzing finds bugs"]


@pytest.fixture(scope="module")
def target(security_env: SecurityEnv) -> FuzzTarget:
    """A USER with a cube of memories (one with history) that the generated ids point at, and the document
    notes.md in its own area of the document root (so a generated docPath can be read)."""
    caller = security_env.caller("fuzz")
    documents = security_env.roots.documents
    (documents / caller.user_id).mkdir()
    shutil.copy(documents / "notes.md", documents / caller.user_id / "notes.md")
    return seed_target(security_env.api, caller, SEED_TEXTS)


class Strategies(dict[str, st.SearchStrategy[Any]]):
    """The strategies by name (a short repr keeps Hypothesis's failure reports readable)."""

    def __repr__(self) -> str:
        return f"Strategies({', '.join(self)})"


@pytest.fixture(scope="module")
def strategies(target: FuzzTarget) -> Strategies:
    """The strategies, built once per module (building one parses the SDL)."""
    return Strategies(
        {
            "queries": generated_operations(target, "query"),
            "mutations": generated_operations(target, "mutation"),
            "negative": st.one_of(
                generated_operations(target, "query", Mode.NEGATIVE),
                generated_operations(target, "mutation", Mode.NEGATIVE),
            ),
            "variables": variable_operations(target),
        }
    )


def assert_contract(env: SecurityEnv, target: FuzzTarget, query: str, variables: dict[str, Any] | None = None) -> None:
    response = env.api.post(target.caller.key, query, variables)
    follow_rotation(response, target.caller)
    sent = len(query) + len(str(variables or ""))
    allowed = frozenset({200, 413}) if sent > MAX_BODY_BYTES else frozenset({200})
    echoed = f"{variables!r} {json.dumps(variables, default=str)}" if variables else ""
    problems = response_problems(response, allowed, echoed)
    assert not problems, "\n".join([*map(str, problems), f"operation: {query}", f"variables: {variables!r}"])


@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_generated_queries_keep_the_error_contract(
    security_env: SecurityEnv, target: FuzzTarget, strategies: Strategies, data: st.DataObject
) -> None:
    assert_contract(security_env, target, data.draw(strategies["queries"], label="query"))


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_generated_mutations_keep_the_error_contract(
    security_env: SecurityEnv, target: FuzzTarget, strategies: Strategies, data: st.DataObject
) -> None:
    assert_contract(security_env, target, data.draw(strategies["mutations"], label="mutation"))


@settings(FUZZ, max_examples=40)
@given(data=st.data())
def test_invalid_operations_are_validation_errors(
    security_env: SecurityEnv, target: FuzzTarget, strategies: Strategies, data: st.DataObject
) -> None:
    operation = data.draw(strategies["negative"], label="operation")
    response = security_env.api.post(target.caller.key, operation)
    problems = response_problems(response)
    assert not problems, "\n".join([*map(str, problems), f"operation: {operation}"])
    body = response.json()
    assert body.get("errors"), f"an operation that breaks the schema ran: {body}"


@settings(FUZZ, max_examples=120)
@given(data=st.data())
def test_variables_of_any_value_keep_the_error_contract(
    security_env: SecurityEnv, target: FuzzTarget, strategies: Strategies, data: st.DataObject
) -> None:
    query, variables = data.draw(strategies["variables"], label="operation")
    assert_contract(security_env, target, query, variables)


@settings(FUZZ, max_examples=80)
@given(sent=raw_requests())
def test_raw_requests_never_crash_the_server(
    security_env: SecurityEnv, target: FuzzTarget, sent: tuple[str, bytes, str]
) -> None:
    method, body, content_type = sent
    response = send_raw(security_env.api.client, target.caller.key, method, body, content_type)
    problems = response_problems(response, RAW_STATUSES)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("offset", [0, 3, 2**31, 2**53, 2**63 - 101, 2**63 - 1, 2**64, -1])
def test_pagination_cursors_of_any_offset_keep_the_error_contract(
    security_env: SecurityEnv, target: FuzzTarget, offset: int
) -> None:
    """A cursor is opaque but decodable: a client can write one for any offset (the fuzz dictionary's cursors,
    pinned here because the fuzz reaches `memories` with a readable cube and a valid page size only now and then)."""
    query = "query($c: ID!, $a: String) { memories(cubeId: $c, first: 100, after: $a) { edges { cursor } } }"
    assert_contract(security_env, target, query, {"c": target.cube_ids[0], "a": cursor(offset)})


def test_the_fuzz_user_wrote_only_into_its_own_cubes(security_env: SecurityEnv, target: FuzzTarget) -> None:
    """After the fuzz, every memory written by the fuzz user sits in a cube it owns."""
    foreign = security_env.count(
        "MATCH (m:Memory {user_id: $user}) WHERE NOT EXISTS { (:User {id: $user})-[:OWNS]->(:MemCube {id: m.cube_id}) }"
        " RETURN count(m) AS n",
        user=target.caller.user_id,
    )
    assert foreign == 0
    # deactivateUser, deleteUser and resetApiKey of others are refused to a USER, whatever the fuzz sent:
    # the fuzz user is still there, active, and its current key is its own.
    active = security_env.count(
        "MATCH (u:User {id: $user}) WHERE u.is_active RETURN count(u) AS n", user=target.caller.user_id
    )
    assert active == 1
    assert (
        security_env.api.ok(target.caller.key, "{ me { user { userId } } }")["me"]["user"]["userId"]
        == target.caller.user_id
    )  # noqa: E501

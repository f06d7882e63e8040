"""Forged cursors are refused before Cypher (security probe 2026-12, L5), through the real app on the real Neo4j.

A cursor carries Neo4j's text of the order key. The check took whatever Python's fromisoformat parses, which
is more than Cypher's datetime() takes: each of the probe's timestamps reached Cypher and came back as
INTERNAL_SERVER_ERROR with a 75-line traceback in the log. Now only the form the server emits passes (and
every edge of it runs); the rest is BAD_USER_INPUT "malformed cursor", logged by nobody.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest

from testkit.security import SecurityEnv

pytestmark = pytest.mark.neo4j

PAGE = "query($c: ID!, $a: String) { memories(cubeId: $c, after: $a) { edges { node { memory } } } }"
FORGED = [
    "2026-12-06 16:22:21+00:00",  # a space for T
    "2026-12-06T16:22:21+23:59",  # offsets past 18 hours
    "0001-01-01T00:00:00-23:59",
    "2026-12-06T16:22:21.1234567891234+00:00",  # 13 fraction digits
    "2026-12-06T16:22:21+01:00[Europe/Paris]",  # a zone id
    "2026-12-06T16:22:21[Europe/Paris]",
    "2026-12-06T16:22:21",  # no offset
    "2026-02-30T10:00:00Z",  # no such day
    "2026-12-06T16:22:60Z",  # no such second
    "2026-12-06T16:22:21+01:60",
    "20261206T162221Z",  # basic format: datetime() takes it, the server never emits it
    "x" * 5_000,
]
# The edges of what passes: each must run (Cypher's datetime() takes it).
ACCEPTED = [
    "2026-12-06T16:22:21Z",
    "2026-12-06T16:22:21.123456789Z",
    "2026-12-06T16:22:21.5+18:00",
    "0001-01-01T00:00:00-18:00",
    "0001-01-01T00:00:00+18:00",
    "9999-12-31T23:59:59.999999999-18:00",
]


def cursor(order_key: str, memory_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(["created_at:ASC", order_key, memory_id]).encode()).decode()


@pytest.fixture(scope="module")
def cube(security_env: SecurityEnv) -> tuple[str, str, str]:
    """A USER's key, cube and one memory id."""
    bob = security_env.caller("cursor")
    cube_id = security_env.cube(bob, "cursors")
    [memory_id] = security_env.add(bob, cube_id, "Bob keeps his notes in a blue folder.")
    return bob.key, cube_id, memory_id


@pytest.mark.parametrize("order_key", FORGED)
def test_a_forged_timestamp_is_refused_as_bad_input_without_a_traceback(
    security_env: SecurityEnv, cube: tuple[str, str, str], order_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    key, cube_id, memory_id = cube
    with caplog.at_level(logging.INFO):
        body = security_env.api.call(key, PAGE, c=cube_id, a=cursor(order_key, memory_id))
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"] == "malformed cursor", error
    logged = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert not logged, [r.getMessage() for r in logged]


@pytest.mark.parametrize("order_key", ACCEPTED)
def test_every_form_the_check_takes_runs(security_env: SecurityEnv, cube: tuple[str, str, str], order_key: str) -> None:
    key, cube_id, memory_id = cube
    body = security_env.api.call(key, PAGE, c=cube_id, a=cursor(order_key, memory_id))
    assert body.get("errors") is None, body
    assert isinstance(body["data"]["memories"]["edges"], list)


def test_the_servers_own_cursors_page_on(security_env: SecurityEnv, cube: tuple[str, str, str]) -> None:
    key, cube_id, _ = cube
    body = security_env.api.ok(
        key, "query($c: ID!) { memories(cubeId: $c, first: 1) { pageInfo { endCursor } } }", c=cube_id
    )
    end = body["memories"]["pageInfo"]["endCursor"]
    assert security_env.api.call(key, PAGE, c=cube_id, a=end).get("errors") is None

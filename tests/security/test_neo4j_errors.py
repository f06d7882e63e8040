"""L4 (Neo4j's part): a Neo4j failure reaches the client as UNAVAILABLE in our words, with nothing of Neo4j's
own text (index names and ids, element ids, memory settings); that text is logged on the server, once and
without a traceback. The failure is a real one: a message key too large for its uniqueness index."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest

from memos_graph import BackendUnavailable
from memos_graph.deadlines import call_within
from memos_graph.domain import TextualMemoryMetadata
from memos_graph.services.memories import Entry
from memos_graph.services.memory_parts import message_nodes
from testkit.security import SecurityEnv, body_problems, codes

pytestmark = pytest.mark.neo4j

STORE_LOGGER = "memos_graph.graph.store"
# What Neo4j says about an oversized index key: its text names the index, its id and the node's element id.
NEO4J_TEXT = "Property value is too large to index"
INTERNALS = ("message_key_unique", "Index(", "element id", "range-1.0", "property size", NEO4J_TEXT, "Neo.")
LONG_KEY = "k" * 40_000
ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }"
DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { path } }"
IMPORT = "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId } }"


def neo4j_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == STORE_LOGGER and NEO4J_TEXT in record.getMessage()]


def test_a_neo4j_failure_answers_in_our_words_and_logs_neo4js_once(
    security_env: SecurityEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """The add pipeline's own write (MemoryService.store, one transaction) with a message whose key no index
    takes, under a call deadline as every door runs it."""
    env = security_env
    owner = env.caller("oversized")
    cube = env.cube(owner)
    actor = env.services.cubes.actor(owner.user_id)
    message: dict[str, str | None] = {
        "role": "user",
        "content": "hello",
        "chat_time": None,
        "message_id": LONG_KEY,
        "name": None,
    }
    nodes = message_nodes([message], None)
    entry = Entry("user: hello", TextualMemoryMetadata(source="conversation"), (LONG_KEY,))

    with caplog.at_level(logging.WARNING, logger=STORE_LOGGER), pytest.raises(BackendUnavailable) as caught:
        call_within(lambda: env.services.memories.store(actor, cube, None, [entry], messages=nodes), 30)

    assert caught.value.message == "Neo4j failed; nothing was written"
    assert caught.value.code == "UNAVAILABLE"
    (logged,) = neo4j_lines(caplog)
    assert "message_key_unique" in logged.getMessage() and "element id" in logged.getMessage()
    assert logged.exc_info is None  # one line, no traceback
    assert env.count("MATCH (m:Message {cube_id: $c}) RETURN count(m) AS n", c=cube) == 0
    assert env.count("MATCH (m:Memory {cube_id: $c}) RETURN count(m) AS n", c=cube) == 0


def with_long_message_key(textual_memory: Path) -> int:
    """Give every message node of a dump's textual_memory.json the oversized key; how many there were."""
    document: Any = json.loads(textual_memory.read_text(encoding="utf-8"))
    changed = 0

    def visit(value: Any) -> None:
        nonlocal changed
        if isinstance(value, dict):
            metadata = value.get("metadata")
            if isinstance(metadata, dict) and metadata.get("node_kind") == "message":
                metadata["key"] = LONG_KEY
                changed += 1
            for child in value.values():
                visit(child)
        elif isinstance(value, list):
            for child in value:
                visit(child)

    visit(document)
    textual_memory.write_text(json.dumps(document), encoding="utf-8")
    return changed


def test_the_reports_import_of_a_long_message_key_leaks_no_neo4j_internals(
    security_env: SecurityEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """The report's reproduction over GraphQL: a user's own dump whose message key is 40,000 characters,
    imported. Whether the import refuses the key itself (BAD_USER_INPUT) or Neo4j refuses it (UNAVAILABLE),
    the answer holds none of Neo4j's text; when Neo4j refused it, the log has that text."""
    env = security_env
    owner = env.caller("longkey")
    cube = env.cube(owner)
    env.api.ok(owner.key, ADD, i={"cubeId": cube, "messages": [{"role": "user", "content": "I like tea."}]})
    name = f"longkey-{uuid.uuid4().hex[:8]}"  # in the owner's own area
    path = env.api.ok(owner.key, DUMP, c=cube, d=name)["dumpCube"]["path"]
    assert path == name  # answers name paths relative to the area, never the server's
    assert with_long_message_key(env.roots.transfer / owner.user_id / name / "textual_memory.json") >= 1

    imported = f"{cube}-copy"
    with caplog.at_level(logging.WARNING, logger=STORE_LOGGER):
        body = env.api.call(owner.key, IMPORT, p=name, c=imported)
    (error,) = body["errors"]
    assert codes(body) in (["UNAVAILABLE"], ["BAD_USER_INPUT"]), body
    assert not [problem for problem in body_problems(body) if problem.kind.startswith("leak:")], body
    assert not [internal for internal in INTERNALS if internal in error["message"]], error["message"]
    if codes(body) == ["UNAVAILABLE"]:
        assert error["message"].startswith("Neo4j failed; "), error["message"]
        assert len(neo4j_lines(caplog)) == 1
    assert env.count("MATCH (c:MemCube {id: $c}) RETURN count(c) AS n", c=imported) == 0

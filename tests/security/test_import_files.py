"""What an import reads and stores, through importCube over HTTP (issue 22: H1, M1, M4, L7, L8).

- H1: every file of a cube directory is opened without following links, only as a regular file with one
  name; a link to another user's dump or to a server file is refused with one answer that says nothing of
  its target, and no error quotes a file's text.
- M4: an import stores nothing an add or update could not: message content, metadata size and depth,
  tags, message keys are held to the same limits, and the refusal names the entry.
- M1: version history comes in as one linear chain per memory; a "diamond" of versions is refused.
- L7: an import is signed by its caller; the author the file named is kept as metadata.imported_user_id.
- L8: a stored vector search cannot use (zero, overflowing) is not stored: the import re-embeds.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from memos_graph.cube_format.writer import dump_writer
from testkit.security import Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { path memories } }"
IMPORT = "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId memories versions reembedded } }"
MEMORIES = """query($c: ID!) { memories(cubeId: $c, first: 100) {
  edges { node { id memory metadata { userId updatedBy extra } } } } }"""
SHARE = "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: READ) }"
REGISTER = "mutation($c: ID!) { registerCube(cubeId: $c) { cubeId } }"
SEARCH = "query($q: String!) { search(query: $q) { textMem { cubeId memories { memory } } } }"
CHAT = "mutation($q: String!) { chat(query: $q) }"
SECRET = "PNbVuy8maZUaAtLKfpqziRk-the-server-secret"


def new_id() -> str:
    return f"imp-{uuid.uuid4().hex[:10]}"


def cubes_named(env: SecurityEnv, cube_id: str) -> int:
    return env.count("MATCH (c:MemCube {id: $c}) RETURN count(c) AS n", c=cube_id)


def area(env: SecurityEnv, caller: Caller, name: str) -> Path:
    """A new directory in the caller's own area of the transfer root."""
    directory = env.roots.transfer / caller.user_id / name
    directory.mkdir(parents=True)
    return directory


def tree(directory: Path, nodes: list[dict[str, Any]], edges: list[dict[str, Any]] | None = None) -> str:
    """A tree_text textual_memory.json in `directory` (one of a caller's area); its import path, which is
    relative to the caller's own area."""
    document = {"nodes": nodes, "edges": edges or []}
    (directory / "textual_memory.json").write_text(json.dumps(document), encoding="utf-8")
    return directory.name


def memory(text: str, **metadata: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "memory": text, "metadata": metadata}


def model_config(env: SecurityEnv) -> dict[str, Any]:
    """config.json naming the server's own embedder, so stored vectors of the right length would be kept."""
    embedder = env.runtime.embedder
    return {
        "model_schema": "memos.configs.mem_cube.GeneralMemCubeConfig",
        "cube_id": "from-file",
        "text_mem": {
            "backend": "tree_text",
            "config": {
                "embedder": {
                    "config": {"model_name_or_path": embedder.model_name, "embedding_dims": embedder.dimension}
                }
            },
        },
    }


# -- H1: links, hard links, pipes; no file text in errors -------------------------------------------------------


@pytest.fixture
def alice_dump(security_env: SecurityEnv) -> tuple[Caller, Path]:
    """A user whose private cube is dumped into her own area: (the user, the dump directory)."""
    env = security_env
    alice = env.caller("alice")
    cube = env.cube(alice, "alice-private")
    env.add(alice, cube, "Alice SECRET bank PIN is 4921", "Alice lives at 12 Hidden Lane")
    env.api.ok(alice.key, DUMP, c=cube, d="private-dump")  # relative to her own area
    return alice, env.roots.transfer / alice.user_id / "private-dump"


def test_files_linked_into_the_own_area_are_refused_and_no_answer_shows_what_they_hold(
    security_env: SecurityEnv, alice_dump: tuple[Caller, Path]
) -> None:
    env, (_, dump) = security_env, alice_dump
    bob = env.caller("bob")
    secret_file = env.roots.outside / f"password-{uuid.uuid4().hex[:6]}"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    json_secret = env.roots.outside / f"secrets-{uuid.uuid4().hex[:6]}.json"
    json_secret.write_text(json.dumps({"nodes": [{"id": SECRET, "memory": SECRET}], "edges": []}), encoding="utf-8")

    def planted(name: str, files: dict[str, Path]) -> str:
        """A directory in bob's area whose files are links (textual_memory.json, when not one, a valid file)."""
        directory = area(env, bob, name)
        for file_name, target in files.items():
            (directory / file_name).symlink_to(target)
        if "textual_memory.json" not in files:
            tree(directory, [memory("Bob's own note")])
        return name

    links = {
        "alice's dump, linked": planted(
            "evil", {"textual_memory.json": dump / "textual_memory.json", "config.json": dump / "config.json"}
        ),
        "a server file": planted("evil2", {"textual_memory.json": secret_file}),
        "a server JSON file": planted("evil3", {"textual_memory.json": json_secret}),
        "a dangling link": planted("evil4", {"textual_memory.json": env.roots.outside / "nothing-here"}),
        "a server file as config.json": planted("evil5", {"config.json": secret_file}),
    }
    hard = area(env, bob, "hard")
    os.link(dump / "textual_memory.json", hard / "textual_memory.json")
    links["alice's dump, hard-linked"] = "hard"
    fifo = area(env, bob, "fifo")
    os.mkfifo(fifo / "textual_memory.json")  # opening it must not wait for a writer
    links["a pipe"] = "fifo"

    answers = {what: env.api.call(bob.key, IMPORT, p=path, c=new_id()) for what, path in links.items()}

    for what, body in answers.items():
        assert codes(body) == ["BAD_USER_INPUT"], (what, body)
        assert body["data"] is None
        text = json.dumps(body)
        assert SECRET not in text and "PNbV" not in text and "4921" not in text, (what, text)
        assert str(env.roots.outside) not in text and "alice" not in text.lower(), (what, text)
        assert "is not a regular file" in body["errors"][0]["message"], (what, body)
    # One answer per file name, whatever the link points to (or whether it points anywhere).
    messages = {what: body["errors"][0]["message"] for what, body in answers.items()}
    assert len({m for w, m in messages.items() if "config.json" not in w}) == 1, messages
    assert env.count("MATCH (u:User {id: $u})-[:OWNS]->(c:MemCube) RETURN count(c) AS n", u=bob.user_id) == 0


def test_a_file_that_is_not_json_is_refused_without_quoting_it(security_env: SecurityEnv) -> None:
    env = security_env
    bob = env.caller("bob")
    directory = area(env, bob, "garbage")
    (directory / "textual_memory.json").write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\n", encoding="utf-8")
    body = env.api.call(bob.key, IMPORT, p="garbage", c=new_id())
    assert codes(body) == ["BAD_USER_INPUT"], body
    message = body["errors"][0]["message"]
    assert "not valid JSON" in message and "bytes 0-" in message, message
    assert SECRET[:6] not in message and "root:x" not in message and "bash" not in message, message


def test_a_linked_manifest_names_no_writer(tmp_path: Path) -> None:
    own = tmp_path / "own-dump"
    own.mkdir()
    (own / "memos_graph_dump.json").write_text(json.dumps({"dumped_by": "bob"}), encoding="utf-8")
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "memos_graph_dump.json").symlink_to(own / "memos_graph_dump.json")
    writer = dump_writer(own)
    assert writer is not None and writer.user_id == "bob"
    assert dump_writer(planted) is None


# -- M4: the limits of add and update ---------------------------------------------------------------------------


def message_node(key: str, content: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "memory": content,
        "metadata": {"node_kind": "message", "key": key, "role": "user", "content": content},
    }


def nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth - 1):
        value = [value]
    return value


Nodes = list[dict[str, Any]]
OVER_LIMITS: dict[str, tuple[Nodes, str, str]] = {
    "a message of 20 MB": ([memory("A note"), message_node("k1", "m" * 20_000_000)], "nodes[1] (message", "20000000"),
    "5 MB of background": ([memory("A note", background="b" * 5_000_000)], "nodes[0] (memory", "5000000"),
    "50,000 tags": ([memory("A note", tags=[f"t{i}" for i in range(50_000)])], "nodes[0] (memory", "metadata has"),
    "metadata nested 40 deep": ([memory("A note", extra_list=nested(40))], "nodes[0] (memory", "nested more than"),
    "a message key of 40,000 characters": ([memory("A note"), message_node("k" * 40_000, "Hi")], "nodes[1]", "key"),
    "40,000 characters of background": (
        [memory("A note", background="x" * 40_000)],
        "nodes[0] (memory",
        "the limit is 32000",
    ),
}


@pytest.mark.parametrize("case", list(OVER_LIMITS))
def test_an_import_is_held_to_the_limits_of_add_and_update(security_env: SecurityEnv, case: str) -> None:
    env = security_env
    bob = env.caller("bob")
    nodes, where, what = OVER_LIMITS[case]
    path = tree(area(env, bob, "big"), nodes)
    cube_id = new_id()
    body = env.api.call(bob.key, IMPORT, p=path, c=cube_id)
    assert codes(body) == ["BAD_USER_INPUT"], body
    message = body["errors"][0]["message"]
    assert where in message and what in message, message
    assert len(message) < 600, message  # the problem named, not the value
    assert cubes_named(env, cube_id) == 0


def test_an_import_within_the_limits_is_stored(security_env: SecurityEnv) -> None:
    env = security_env
    bob = env.caller("bob")
    nodes = [
        memory("A note at the limit", background="b" * 30_000, tags=["a", "b"]),
        message_node("k" * 256, "c" * 32_000),
    ]
    path = tree(
        area(env, bob, "fits"), nodes, [{"source": nodes[0]["id"], "target": nodes[1]["id"], "type": "DERIVED_FROM"}]
    )
    done = env.api.ok(bob.key, IMPORT, p=path, c=new_id())["importCube"]
    assert done["memories"] == 1


# -- M1: one chain of versions per memory -------------------------------------------------------------------------


def version(memory_id: str, number: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "memory": f"State {number}",
        "metadata": {"node_kind": "version", "memory_id": memory_id, "version": number},
    }


def derived(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    return {"source": source["id"], "target": target["id"], "type": "DERIVED_FROM", "at": "2026-01-01T00:00:00+00:00"}


def dag(levels: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The report's `mk.py dag`: a memory, then layers of two versions, each node linked to both of the next."""
    head = memory("The newest state")
    layers = [[head]] + [[version(head["id"], 2 * i), version(head["id"], 2 * i + 1)] for i in range(levels)]
    edges = [derived(a, b) for upper, lower in zip(layers, layers[1:], strict=False) for a in upper for b in lower]
    return [node for layer in layers for node in layer], edges


def chain(length: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    head = memory("The newest state")
    states = [head] + [version(head["id"], length - i) for i in range(length)]
    return states, [derived(a, b) for a, b in zip(states, states[1:], strict=False)]


def looped() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes, edges = chain(2)
    stray = [version(nodes[0]["id"], 7), version(nodes[0]["id"], 8)]
    return nodes + stray, edges + [derived(stray[0], stray[1]), derived(stray[1], stray[0])]


def stray() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes, edges = chain(2)
    return [*nodes, version(nodes[0]["id"], 9)], edges


def foreign() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A second memory's version hung onto the first memory's chain."""
    nodes, edges = chain(2)
    other = memory("Another memory")
    theirs = version(other["id"], 1)
    return [*nodes, other, theirs], [*edges, derived(nodes[-1], theirs)]


def twins() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two memories with one text (an import merges them), each with a history: two chains on one memory."""
    first, first_edges = chain(1)
    second, second_edges = chain(1)
    second[0]["memory"] = first[0]["memory"]
    return first + second, first_edges + second_edges


CHAINS: dict[str, tuple[tuple[Nodes, Nodes], str]] = {
    "a diamond of 14 layers": (dag(14), "already"),
    "a loop of versions": (looped(), "is not on its memory's history"),
    "a version nobody links": (stray(), "is not on its memory's history"),
    "another memory's version": (foreign(), "is not a version of it"),
    "two histories merged into one memory": (twins(), "their histories cannot be merged"),
    # limits.max_versions (100 by default) is what updates keep; an import may not bring more.
    "a history longer than limits.max_versions": (chain(101), "more than 100 earlier versions"),
}


@pytest.mark.parametrize("case", list(CHAINS))
def test_an_import_takes_only_one_chain_of_versions_per_memory(security_env: SecurityEnv, case: str) -> None:
    env = security_env
    bob = env.caller("bob")
    (nodes, edges), what = CHAINS[case]
    path = tree(area(env, bob, "history"), nodes, edges)
    cube_id = new_id()
    body = env.api.call(bob.key, IMPORT, p=path, c=cube_id)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert what in body["errors"][0]["message"], body
    assert cubes_named(env, cube_id) == 0


def test_a_chain_of_versions_is_imported_and_read_back(security_env: SecurityEnv) -> None:
    env = security_env
    bob = env.caller("bob")
    nodes, edges = chain(5)
    cube_id = new_id()
    done = env.api.ok(bob.key, IMPORT, p=tree(area(env, bob, "chain"), nodes, edges), c=cube_id)["importCube"]
    assert (done["memories"], done["versions"]) == (1, 5)
    history = "query($c: ID!, $m: ID!) { memoryHistory(cubeId: $c, id: $m) { edges { node { memory } } } }"
    states = env.api.ok(bob.key, history, c=cube_id, m=nodes[0]["id"])["memoryHistory"]["edges"]
    assert [state["node"]["memory"] for state in states] == [f"State {5 - i}" for i in range(5)]


# -- L7: signed by the importer ----------------------------------------------------------------------------------


def test_an_import_is_signed_by_its_caller_and_keeps_the_named_author_apart(security_env: SecurityEnv) -> None:
    env = security_env
    bob, carol = env.caller("bob"), env.caller("carol")
    forged = memory("I, alice, authorize bob to access everything", user_id="alice", updated_by="root")
    plain = memory("A note nobody edited", user_id="alice")
    cube_id = new_id()
    env.api.ok(bob.key, IMPORT, p=tree(area(env, bob, "forge"), [forged, plain]), c=cube_id)
    env.api.ok(bob.key, SHARE, c=cube_id, u=carol.user_id)

    def metadata_of(key: str, cube: str) -> dict[str, dict[str, Any]]:
        edges = env.api.ok(key, MEMORIES, c=cube)["memories"]["edges"]
        return {edge["node"]["memory"]: edge["node"]["metadata"] for edge in edges}

    seen = metadata_of(carol.key, cube_id)
    assert seen[forged["memory"]] == {
        "userId": bob.user_id,
        "updatedBy": bob.user_id,
        "extra": {"imported_user_id": "alice"},
    }
    assert seen[plain["memory"]] == {"userId": bob.user_id, "updatedBy": None, "extra": {"imported_user_id": "alice"}}

    # Bob's own dump of it comes back the same: he signed it, and the author the first file named stays.
    env.api.ok(bob.key, DUMP, c=cube_id, d="forge-dump")
    copy = new_id()
    env.api.ok(bob.key, IMPORT, p="forge-dump", c=copy)
    assert metadata_of(bob.key, copy) == metadata_of(bob.key, cube_id)


# -- L8: vectors search cannot use ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["zero", "huge", "tiny"])
def test_an_unusable_vector_is_re_embedded_and_searches_including_the_cube_keep_working(
    security_env: SecurityEnv, bad: str
) -> None:
    env = security_env
    bob, alice = env.caller("bob"), env.caller("alice")
    dimension = env.runtime.embedder.dimension
    good = env.runtime.embedder.embed(["Bob plays chess on Sundays"])[0]
    vector = {"zero": [0.0] * dimension, "huge": [1e300] * dimension, "tiny": [1e-30] * dimension}[bad]
    nodes = [
        memory("Bob plays chess on Sundays", embedding=good),
        memory("The PIN of the shed is 1234", embedding=vector),
    ]
    directory = area(env, bob, "zerovec")
    (directory / "config.json").write_text(json.dumps(model_config(env)), encoding="utf-8")
    cube_id = new_id()
    done = env.api.ok(bob.key, IMPORT, p=tree(directory, nodes), c=cube_id)["importCube"]
    assert done["reembedded"] is True and done["memories"] == 2

    rows = env.runtime.store.run_statement("MATCH (m:Memory {cube_id: $c}) RETURN m.embedding AS embedding", c=cube_id)
    norms = [math.sqrt(sum(x * x for x in row["embedding"])) for row in rows]
    assert len(norms) == 2 and all(0.5 < norm < 2 for norm in norms), norms

    own = env.cube(alice, "alice's notes")
    env.add(alice, own, "Alice keeps her PIN in the blue box")
    env.api.ok(bob.key, SHARE, c=cube_id, u=alice.user_id)
    env.api.ok(alice.key, REGISTER, c=cube_id)
    found = env.api.ok(alice.key, SEARCH, q="PIN")["search"]["textMem"]
    assert {group["cubeId"] for group in found} >= {own, cube_id}, found
    assert env.api.ok(alice.key, CHAT, q="what is my PIN?")["chat"]

"""Paths out of the configured roots, and inputs too big to take: refused with a clear error, nothing done.

docPath, dumpCube's dumpDir and importCube's path are confined to the caller's own area <root>/<user id>/ of
MEMOS_DOCUMENT_ROOTS and MEMOS_TRANSFER_ROOTS (relative paths start there): `..`, absolute paths elsewhere,
symlinks pointing out, NUL bytes and over-long names are refused (FORBIDDEN or BAD_USER_INPUT; a URL-encoded
`..` is just an odd file name, so at most NOT_FOUND), and nothing outside is read or written. Over HTTP the
request body is capped (413); in process, the per-input limits name themselves (characters per memory, items
per add, bytes per document).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graphql_schema.app import MAX_BODY_BYTES
from memos_graph import MOS
from memos_graph.errors import InvalidInput
from testkit.security import Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }"
DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { path memories } }"
IMPORT = "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId memories } }"
REFUSED = ["FORBIDDEN", "BAD_USER_INPUT"]
TEN_MB = 10 * 1024 * 1024


@dataclass
class Setup:
    env: SecurityEnv
    caller: Caller
    cube: str
    marker: str
    outside_file: Path
    outside_cube: Path  # a valid cube directory outside the transfer root


@pytest.fixture(scope="module")
def setup(security_env: SecurityEnv) -> Iterator[Setup]:
    env = security_env
    caller = env.caller("paths")
    cube = env.cube(caller, "paths")
    env.add(caller, cube, "A memory so a dump has something to write")
    marker = f"outside-secret-{uuid.uuid4().hex[:8]}"
    roots = env.roots
    outside_file = roots.outside / f"{marker}.md"
    outside_file.write_text(f"# Secret\n\nThe {marker} must never be read.\n", encoding="utf-8")
    # A genuine cube directory, dumped inside the root and then moved out of it.
    name = f"valid-{marker}"
    env.api.ok(caller.key, DUMP, c=cube, d=name)
    outside_cube = roots.outside / name
    shutil.move(roots.transfer / caller.user_id / name, outside_cube)
    yield Setup(env, caller, cube, marker, outside_file, outside_cube)


def memories_in(env: SecurityEnv, cube: str) -> int:
    return env.count("MATCH (m:Memory {cube_id: $c}) RETURN count(m) AS n", c=cube)


def link(at: Path, target: Path) -> str:
    """A symlink inside a root pointing out of it; its name relative to the root."""
    name = f"link-{uuid.uuid4().hex[:8]}"
    (at / name).symlink_to(target)
    return name


def test_doc_path_cannot_leave_the_document_roots(setup: Setup) -> None:
    env, roots = setup.env, setup.env.roots
    area = roots.documents / setup.caller.user_id  # the caller's own area of the document root
    inner = area / f"inner-{uuid.uuid4().hex[:8]}"
    inner.mkdir(parents=True)
    (inner / "fine.md").write_text("# Fine\n\nA file that may be read.\n", encoding="utf-8")
    link(inner, setup.outside_file)  # a directory of the area holding a link that points out
    linked_file = link(area, setup.outside_file)
    linked_dir = link(area, roots.outside)
    cases = {
        f"../outside/{setup.outside_file.name}": REFUSED,
        f"../../outside/{setup.outside_file.name}": REFUSED,
        str(setup.outside_file): REFUSED,
        "/etc/passwd": REFUSED,
        linked_file: REFUSED,
        f"{linked_dir}/{setup.outside_file.name}": REFUSED,
        inner.name: REFUSED,
        "notes.md\x00.txt": ["BAD_USER_INPUT"],
        f"..%2foutside%2f{setup.outside_file.name}": [*REFUSED, "NOT_FOUND"],
        f"%2e%2e/outside/{setup.outside_file.name}": [*REFUSED, "NOT_FOUND"],
        f"..\\outside\\{setup.outside_file.name}": [*REFUSED, "NOT_FOUND"],
        "x" * 300: ["BAD_USER_INPUT"],
        "notes.md/" + "y" * 5000: ["BAD_USER_INPUT"],
    }
    before = memories_in(env, setup.cube)
    wrong = {}
    for doc_path, allowed in cases.items():
        body = env.api.call(setup.caller.key, ADD, i={"cubeId": setup.cube, "docPath": doc_path})
        if len(codes(body)) != 1 or codes(body)[0] not in allowed:
            wrong[doc_path[:80]] = body
    assert not wrong, "\n".join(f"{path!r}: {body}" for path, body in wrong.items())[:3000]
    assert memories_in(env, setup.cube) == before
    assert env.count("MATCH (m:Memory) WHERE m.memory CONTAINS $s RETURN count(m) AS n", s=setup.marker) == 0
    assert env.count("MATCH (d:Document) WHERE d.path STARTS WITH $p RETURN count(d) AS n", p=str(roots.outside)) == 0


def test_dumps_cannot_leave_the_transfer_roots(setup: Setup) -> None:
    env, roots = setup.env, setup.env.roots
    token = uuid.uuid4().hex[:8]
    area = roots.transfer / setup.caller.user_id
    linked = link(area, roots.outside)
    (area / f"file-{token}").write_text("not a directory", encoding="utf-8")
    cases = {
        f"../outside/escaped-{token}": REFUSED,
        str(roots.outside / f"absolute-{token}"): REFUSED,
        "/tmp": REFUSED,
        f"{linked}/through-link-{token}": REFUSED,
        f"dump-{token}\x00": ["BAD_USER_INPUT"],
        "z" * 300: ["BAD_USER_INPUT"],
        f"file-{token}/below-a-file": ["BAD_USER_INPUT", "CONFLICT"],
        ".": ["FORBIDDEN"],  # the area itself: a dump goes into a directory of it
    }
    outside_before = sorted(os.listdir(roots.outside))
    wrong = {}
    for dump_dir, allowed in cases.items():
        body = env.api.call(setup.caller.key, DUMP, c=setup.cube, d=dump_dir)
        if len(codes(body)) != 1 or codes(body)[0] not in allowed:
            wrong[dump_dir[:80]] = body
    assert not wrong, "\n".join(f"{path!r}: {body}" for path, body in wrong.items())[:3000]
    assert sorted(os.listdir(roots.outside)) == outside_before
    assert not (roots.transfer.parent / f"escaped-{token}").exists()

    encoded = env.api.call(setup.caller.key, DUMP, c=setup.cube, d=f"..%2fencoded-{token}")
    if encoded.get("errors") is None:  # an odd name, but a name inside the area, shown as given
        assert encoded["data"]["dumpCube"]["path"] == f"..%2fencoded-{token}"
        assert (area / f"..%2fencoded-{token}").is_dir()
    assert sorted(os.listdir(roots.outside)) == outside_before


def test_imports_cannot_read_outside_the_transfer_roots(setup: Setup) -> None:
    env, roots = setup.env, setup.env.roots
    area = roots.transfer / setup.caller.user_id
    linked = link(area, setup.outside_cube)
    relative = os.path.relpath(setup.outside_cube, area)
    cases = {
        relative: REFUSED,
        str(setup.outside_cube): REFUSED,
        linked: REFUSED,
        f"{relative}\x00": ["BAD_USER_INPUT"],
        relative.replace("/", "%2f"): [*REFUSED, "NOT_FOUND"],
        "i" * 300: ["BAD_USER_INPUT"],
    }
    wrong = {}
    for path, allowed in cases.items():
        cube_id = f"import-{uuid.uuid4().hex[:10]}"
        body = env.api.call(setup.caller.key, IMPORT, p=path, c=cube_id)
        if len(codes(body)) != 1 or codes(body)[0] not in allowed:
            wrong[path[:80]] = body
        assert env.count("MATCH (c:MemCube {id: $c}) RETURN count(c) AS n", c=cube_id) == 0
    assert not wrong, "\n".join(f"{path!r}: {body}" for path, body in wrong.items())[:3000]


def test_a_request_body_over_the_cap_is_413_and_writes_nothing(setup: Setup) -> None:
    env = setup.env
    before = memories_in(env, setup.cube)
    big = "b" * TEN_MB
    response = env.api.post(setup.caller.key, ADD, {"i": {"cubeId": setup.cube, "content": [big]}})
    assert response.status_code == 413
    assert codes(response.json()) == ["PAYLOAD_TOO_LARGE"]
    assert str(MAX_BODY_BYTES) in response.json()["errors"][0]["message"]

    # Streamed without a Content-Length, the cap holds as the body arrives.
    def chunks() -> Iterator[bytes]:
        yield json.dumps({"query": ADD, "variables": {"i": {"cubeId": setup.cube, "content": [""]}}})[:-4].encode()
        for _ in range(TEN_MB // 65_536):
            yield b"c" * 65_536

    streamed = env.api.client.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {setup.caller.key}", "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413

    messages = [{"role": "user", "content": f"message {i}"} for i in range(100_000)]
    many = env.api.post(setup.caller.key, ADD, {"i": {"cubeId": setup.cube, "messages": messages}})
    assert many.status_code == 413
    assert memories_in(env, setup.cube) == before


def test_over_limit_inputs_under_the_cap_are_refused_by_name(setup: Setup) -> None:
    env = setup.env
    before = memories_in(env, setup.cube)
    body = env.api.call(setup.caller.key, ADD, i={"cubeId": setup.cube, "content": ["l" * 900_000]})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "the limit is 32000" in body["errors"][0]["message"]
    messages = [{"role": "user", "content": "m"} for _ in range(10_001)]
    body = env.api.call(setup.caller.key, ADD, i={"cubeId": setup.cube, "messages": messages})
    assert codes(body) == ["BAD_USER_INPUT"] and "the limit is 1000" in body["errors"][0]["message"]
    assert memories_in(env, setup.cube) == before


def test_huge_inputs_in_process_are_refused_by_name_and_write_nothing(setup: Setup) -> None:
    env = setup.env
    mos = MOS(env.runtime.config.model_copy(update={"user_id": setup.caller.user_id}), runtime=env.runtime)
    counts = "MATCH (n) WHERE (n:Memory OR n:Message) AND n.cube_id = $c RETURN count(n) AS n"
    before = env.count(counts, c=setup.cube)

    with pytest.raises(InvalidInput, match="the limit is 32000"):
        mos.add(memory_content="d" * TEN_MB, mem_cube_id=setup.cube)
    with pytest.raises(InvalidInput, match="the limit is 32000"):
        mos.add(memory_content=["fine", "d" * TEN_MB], mem_cube_id=setup.cube)
    messages = [{"role": "user", "content": f"message {i}"} for i in range(100_000)]
    with pytest.raises(InvalidInput, match="100000 messages in one add; the limit is 1000"):
        mos.add(messages=messages, mem_cube_id=setup.cube)
    with pytest.raises(InvalidInput, match="100000 items in one add; the limit is 1000"):
        mos.add(memory_content=[f"item {i}" for i in range(100_000)], mem_cube_id=setup.cube)

    big_document = env.roots.documents / f"big-{uuid.uuid4().hex[:8]}.txt"
    big_document.write_bytes(b"word " * (env.runtime.config.limits.max_document_bytes // 5 + 1))
    try:
        with pytest.raises(InvalidInput, match=f"larger than {env.runtime.config.limits.max_document_bytes} bytes"):
            mos.add(doc_path=big_document.name, mem_cube_id=setup.cube)
    finally:
        big_document.unlink()
    assert env.count(counts, c=setup.cube) == before

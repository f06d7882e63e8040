"""Transfer directories: who may import what, and imports that must not be taken over.

With MEMOS_TRANSFER_ROOTS set, a user dumps and imports only inside its own area <root>/<user id>/ (relative
paths start there); ROOT works on the whole root. A dump in the area is importable only by its writer
(memos_graph_dump.json records the writer's immutable uid) or ROOT; a cube directory MemOS wrote (no manifest)
by the area's user. Everything outside the area is refused with one answer, whatever lies at the path, so
another user's dump looks like a directory that does not exist. An import holds its cube id with a lease
renewed by each batch: a second import of the id answers CONFLICT and changes nothing while the lease is live,
and cleans the leftover up once it ran out.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.wiring import Services
from testkit.keys import ROOT_KEY
from testkit.security import Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { path memories } }"
IMPORT = "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId memories newIds } }"
MEMORIES = "query($c: ID!) { memories(cubeId: $c, first: 100) { edges { node { memory } } } }"
CUBE_OWNER = "MATCH (u:User)-[:OWNS]->(c:MemCube {id: $c}) RETURN u.id AS owner"


def memos_directory(directory: Path, *texts: str) -> Path:
    """A general_text cube directory as MemOS writes it: no record of who wrote it."""
    directory.mkdir(parents=True)
    config = {
        "model_schema": "memos.configs.mem_cube.GeneralMemCubeConfig",
        "cube_id": "from-memos",
        "text_mem": {"backend": "general_text", "config": {}},
    }
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    entries = [{"id": str(uuid.uuid4()), "vector": None, "payload": {"memory": text}} for text in texts]
    (directory / "textual_memory.json").write_text(json.dumps(entries), encoding="utf-8")
    return directory


def texts_of(env: SecurityEnv, caller_key: str, cube_id: str) -> list[str]:
    edges = env.api.ok(caller_key, MEMORIES, c=cube_id)["memories"]["edges"]
    return sorted(edge["node"]["memory"] for edge in edges)


def cubes_named(env: SecurityEnv, cube_id: str) -> int:
    return env.count("MATCH (c:MemCube {id: $c}) RETURN count(c) AS n", c=cube_id)


@pytest.fixture
def writer(security_env: SecurityEnv) -> tuple[Caller, str, str]:
    """A user with a cube holding a secret, dumped into its own area: (user, cube, the dump's name there)."""
    env = security_env
    a = env.caller("writer")
    cube = env.cube(a, "writer's notes")
    env.add(a, cube, f"The writer's {a.user_id} safe code is 90-12-7", "The writer waters the ferns on Monday")
    name = f"shared-dump-{uuid.uuid4().hex[:8]}"
    env.api.ok(a.key, DUMP, c=cube, d=name)
    return a, cube, name


def test_another_users_dump_answers_like_a_directory_that_does_not_exist(
    security_env: SecurityEnv, writer: tuple[Caller, str, str]
) -> None:
    env, (a, _, dump) = security_env, writer
    b = env.caller("reader")
    transfer = env.roots.transfer
    memos_directory(transfer / a.user_id / "from-memos", "A note in the writer's own area")
    memos_directory(transfer / f"unmarked-{uuid.uuid4().hex[:8]}", "A directory nobody claims")
    (transfer / b.user_id).mkdir(exist_ok=True)
    (transfer / b.user_id / "link-to-the-dump").symlink_to(transfer / a.user_id / dump)
    (transfer / f"a-file-{uuid.uuid4().hex[:8]}").write_text("not a directory", encoding="utf-8")
    target = f"stolen-{uuid.uuid4().hex[:8]}"  # one cube id for every probe, so the answers can be compared

    probes = {
        "A's dump": f"../{a.user_id}/{dump}",
        "A's dump, absolute": str(transfer / a.user_id / dump),
        "A's dump through a link in B's area": "link-to-the-dump",
        "a directory in A's area": f"../{a.user_id}/from-memos",
        "a directory without a writer": "../" + next(p.name for p in transfer.iterdir() if p.name.startswith("unm")),
        "a file": "../" + next(p.name for p in transfer.iterdir() if p.name.startswith("a-file-")),
        "a path outside the root": str(env.roots.outside),
        "the transfer root": str(transfer),
    }
    missing = env.api.call(b.key, IMPORT, p=f"../{a.user_id}/no-such-dump-{uuid.uuid4().hex[:8]}", c=target)
    assert codes(missing) == ["FORBIDDEN"], missing
    assert missing["data"] is None
    different = {}
    for what, path in probes.items():
        body = env.api.call(b.key, IMPORT, p=path, c=target)
        if body != missing:
            different[what] = body
    assert not different, f"answers that differ from a missing directory's {missing}: {different}"
    assert a.user_id not in json.dumps(missing)  # nothing of A in the refusal
    assert cubes_named(env, target) == 0
    assert json.loads((transfer / a.user_id / dump / "memos_graph_dump.json").read_text())["dumped_by"] == a.user_id


def test_the_writer_root_and_the_own_area_may_import(
    security_env: SecurityEnv, writer: tuple[Caller, str, str]
) -> None:
    env, (a, cube, dump) = security_env, writer
    secret = f"The writer's {a.user_id} safe code is 90-12-7"

    own = f"own-copy-{uuid.uuid4().hex[:8]}"
    assert env.api.ok(a.key, IMPORT, p=dump, c=own)["importCube"]["memories"] == 2
    assert secret in texts_of(env, a.key, own)
    by_root = f"root-copy-{uuid.uuid4().hex[:8]}"  # ROOT's paths start at the root
    assert env.api.ok(ROOT_KEY, IMPORT, p=f"{a.user_id}/{dump}", c=by_root)["importCube"]["memories"] == 2

    memos_directory(env.roots.transfer / a.user_id / "notes-from-memos", "A kept the receipt in the blue folder")
    area = f"area-copy-{uuid.uuid4().hex[:8]}"
    assert env.api.ok(a.key, IMPORT, p="notes-from-memos", c=area)["importCube"]["memories"] == 1
    assert texts_of(env, a.key, area) == ["A kept the receipt in the blue folder"]
    # In its own area a user may learn what is there: a missing directory is just not found.
    assert codes(env.api.call(a.key, IMPORT, p="nothing-here", c=f"x-{uuid.uuid4().hex[:8]}")) == ["NOT_FOUND"]
    # A dump of another user's cube that A may read is A's dump: A wrote it.
    b = env.caller("sharer")
    shared = env.cube(b, "shared with the writer")
    env.add(b, shared, "The sharer's bike is green")
    share = "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: READ) }"
    env.api.ok(b.key, share, c=shared, u=a.user_id)
    name = f"dump-of-shared-{uuid.uuid4().hex[:8]}"
    env.api.ok(a.key, DUMP, c=shared, d=name)
    assert env.api.ok(a.key, IMPORT, p=name, c=f"shared-copy-{uuid.uuid4().hex[:8]}")["importCube"]["memories"] == 1
    assert codes(env.api.call(b.key, IMPORT, p=f"../{a.user_id}/{name}", c=f"b-{uuid.uuid4().hex[:8]}")) == [
        "FORBIDDEN"
    ]
    # Nor can A hand B a copy by dumping into B's own area: A's dumps stay in A's area.
    planted = f"../{b.user_id}/planted-{uuid.uuid4().hex[:8]}"
    refused = env.api.call(a.key, DUMP, c=cube, d=planted)
    assert codes(refused) == ["FORBIDDEN"], refused
    assert not list((env.roots.transfer / b.user_id).glob("planted-*"))
    assert env.runtime.store.run_statement(CUBE_OWNER, c=cube)[0]["owner"] == a.user_id


class Crash(BaseException):
    """The process dies mid-import: no clean-up runs."""


def crash_an_import(
    env: SecurityEnv, caller: Caller, directory: Path, cube_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import (in process, one memory per batch) that dies after its first batch, leaving its cube behind."""
    config = env.runtime.config
    one_per_batch = config.model_copy(update={"transfer": config.transfer.model_copy(update={"batch_size": 1})})
    services = Services.over(replace(env.runtime, config=one_per_batch), served=True)
    real_write = CubeTransferRepository.write
    written: list[int] = []

    def write(repo: CubeTransferRepository, cube: str, import_id: str, batch: Any) -> int:
        if written:
            raise Crash
        created = real_write(repo, cube, import_id, batch)
        written.append(1)
        return created

    with monkeypatch.context() as patch:
        patch.setattr(CubeTransferRepository, "write", write)
        patch.setattr(CubeTransferRepository, "discard", lambda *args: None)
        with pytest.raises(Crash):
            services.transfer.import_directory(services.cubes.actor(caller.user_id), str(directory), cube_id)


def marker(env: SecurityEnv, cube_id: str) -> dict[str, Any]:
    rows = env.runtime.store.run_statement(
        "MATCH (c:MemCube {id: $c}) RETURN c.import_id AS id, c.import_started_at AS started, "
        "c.import_lease_until AS lease",
        c=cube_id,
    )
    return dict(rows[0])


def test_an_import_holding_its_lease_is_not_taken_over_and_an_expired_one_is_cleaned_up(
    security_env: SecurityEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = security_env
    a, b = env.caller("importer"), env.caller("bystander")
    first = memos_directory(env.roots.transfer / a.user_id / "first", "First line", "Second line", "Third line")
    memos_directory(env.roots.transfer / a.user_id / "second", "A replacement line")
    memos_directory(env.roots.transfer / b.user_id / "mine", "The bystander's line")
    cube_id = f"leased-{uuid.uuid4().hex[:8]}"
    crash_an_import(env, a, first, cube_id, monkeypatch)
    held = marker(env, cube_id)

    def leftover() -> int:
        return env.count("MATCH (m:Memory {cube_id: $c, import_id: $i}) RETURN count(m) AS n", c=cube_id, i=held["id"])

    assert leftover() == 1

    again = env.api.call(a.key, IMPORT, p="second", c=cube_id)
    assert codes(again) == ["CONFLICT"], again
    assert "is being imported by another call" in again["errors"][0]["message"]
    other = env.api.call(b.key, IMPORT, p="mine", c=cube_id)
    assert codes(other) == ["CONFLICT"] and other["errors"][0]["message"] == f"cube id '{cube_id}' is taken"
    assert marker(env, cube_id) == held and leftover() == 1  # nothing touched
    assert cubes_named(env, cube_id) == 1
    assert held["id"] and held["lease"] > held["started"]  # the lease the crashed import still holds

    env.runtime.store.run_statement(
        "MATCH (c:MemCube {id: $c}) SET c.import_lease_until = datetime() - duration('PT1S')", c=cube_id
    )
    done = env.api.ok(a.key, IMPORT, p="second", c=cube_id)["importCube"]
    assert (done["cubeId"], done["memories"], done["newIds"]) == (cube_id, 1, False)
    assert leftover() == 0
    assert texts_of(env, a.key, cube_id) == ["A replacement line"]
    assert env.runtime.store.run_statement(CUBE_OWNER, c=cube_id)[0]["owner"] == a.user_id
    assert marker(env, cube_id) == {"id": None, "started": None, "lease": None}

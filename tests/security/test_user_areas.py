"""Per-user areas of the transfer and document roots, and what deleting a user does to them.

A user dumps and imports only inside its own area <transfer root>/<user id>/ (a relative path starts there),
within a quota (transfer.max_user_bytes); ROOT works on the whole root. deleteUser removes the user's
transfer areas, and a dump's manifest names the writer's immutable uid, so a later user with the same id
imports none of an earlier one's dumps. Documents come only from the caller's own area
<document root>/<user id>/ or an operator's shared root; a missing path, another user's file, a hidden file,
a file of another extension and a path outside answer alike. Answers never carry a server path.
"""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.config import DocumentSettings
from memos_graph.domain import UserRole
from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.transfer_report import TransferReport
from memos_graph.services.wiring import Services
from testkit.keys import ROOT_KEY
from testkit.security import Api, Caller, SecurityEnv, codes

pytestmark = pytest.mark.neo4j

DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { path memories } }"
IMPORT = "mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) { cubeId path memories } }"
ADD = "mutation($i: AddMemoriesInput!) { addMemories(input: $i) { ids } }"
MEMORIES = "query($c: ID!) { memories(cubeId: $c, first: 100) { edges { node { memory } } } }"
SOURCES = """query($c: ID!) { memories(cubeId: $c, first: 100) { edges { node {
  memory metadata { sources { docPath } } derivedFrom { node { ... on Document { key path } } } } } } }"""
CUBE_PATH = "query($c: ID!) { cube(id: $c) { path } }"
SHARE = "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: READ) }"
DELETE_USER = "mutation($u: ID!) { deleteUser(userId: $u) }"


def token() -> str:
    return uuid.uuid4().hex[:8]


def texts_of(env: SecurityEnv, key: str, cube_id: str) -> list[str]:
    return sorted(edge["node"]["memory"] for edge in env.api.ok(key, MEMORIES, c=cube_id)["memories"]["edges"])


def tree(root: Path) -> list[str]:
    """Every path under root, relative, hidden ones included."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*")) if root.exists() else []


# -- L1: dumps go into the caller's own area ------------------------------------------------------------


def test_a_dump_goes_into_the_callers_own_area_and_never_into_anothers(security_env: SecurityEnv) -> None:
    env = security_env
    alice, bob = env.caller("alice"), env.caller("bob")
    bob_cube = env.cube(bob, "bob's notes")
    env.add(bob, bob_cube, "Bob's note that must stay in Bob's area")
    transfer = env.roots.transfer
    env.api.ok(alice.key, DUMP, c=env.cube(alice, "alice's"), d="private-dump")
    alice_before = tree(transfer / alice.user_id)
    future = f"sec-zoe-{token()}"

    # The report's attacks, as relative paths: each lands inside Bob's own area, named as Bob gave it.
    for given in (f"{alice.user_id}/backup-2027", future, f"{alice.user_id}/private-dump/sub"):
        dumped = env.api.ok(bob.key, DUMP, c=bob_cube, d=given)["dumpCube"]
        assert dumped == {"path": given, "memories": 1}
        assert (transfer / bob.user_id / given / "memos_graph_dump.json").is_file()
    assert tree(transfer / alice.user_id) == alice_before
    assert not (transfer / future).exists()

    # Paths that leave Bob's area get one answer, whatever lies there.
    missing_dir = f"../{alice.user_id}/nothing-{token()}"
    refused = env.api.call(bob.key, DUMP, c=bob_cube, d=missing_dir)
    assert codes(refused) == ["FORBIDDEN"], refused
    for given in (
        f"../{alice.user_id}/backup-{token()}",
        str(transfer / alice.user_id / f"absolute-{token()}"),
        f"../{alice.user_id}/private-dump/sub-{token()}",
        f"../{future}-{token()}",
        str(transfer / f"top-level-{token()}"),
    ):
        assert env.api.call(bob.key, DUMP, c=bob_cube, d=given) == refused, given
    assert alice.user_id not in json.dumps(refused) and str(transfer) not in json.dumps(refused)
    assert tree(transfer / alice.user_id) == alice_before
    assert sorted(p.name for p in transfer.iterdir() if p.name.startswith(("top-level-", "sec-zoe-"))) == []

    # Bob's own dump, named relative to its area, imports; its answers carry no server path.
    imported = env.api.ok(bob.key, IMPORT, p=future, c=f"bob-copy-{token()}")["importCube"]
    assert imported["path"] == future and imported["memories"] == 1
    assert env.api.ok(bob.key, CUBE_PATH, c=imported["cubeId"])["cube"]["path"] == future


def test_a_dump_that_would_pass_the_quota_stops_and_leaves_nothing(security_env: SecurityEnv) -> None:
    env = security_env
    quota = 60_000
    transfer = env.runtime.config.transfer.model_copy(update={"max_user_bytes": quota})
    small = replace(env.runtime, config=env.runtime.config.model_copy(update={"transfer": transfer}))
    user = env.caller("quota")
    cube = env.cube(user, "big")
    env.add(user, cube, *(f"Line {i}: " + "the quick brown fox jumps over the lazy dog " * 20 for i in range(6)))
    area = env.roots.transfer / user.user_id
    with TestClient(create_app(runtime=small), raise_server_exceptions=False) as client:
        api = Api(client)
        first = api.ok(user.key, DUMP, c=cube, d="first")["dumpCube"]  # about 40 KB with its vectors
        assert first["memories"] == 6
        before = tree(area)
        used = sum(path.stat().st_size for path in area.rglob("*") if path.is_file())
        assert 0 < used < quota
        over = api.call(user.key, DUMP, c=cube, d="second")
        assert codes(over) == ["BAD_USER_INPUT"], over
        assert f"quota of {quota} bytes" in over["errors"][0]["message"]
        assert tree(area) == before  # no second dump, no staging directory left behind
        # ROOT, the operator, has no quota.
        rooted = api.ok(ROOT_KEY, DUMP, c=cube, d=f"{user.user_id}/by-root")["dumpCube"]
        assert rooted == {"path": f"{user.user_id}/by-root", "memories": 6}
        # ROOT's dump in the user's area is not the user's to import.
        refused = api.call(user.key, IMPORT, p="by-root", c=f"rooted-{token()}")
        assert codes(refused) == ["FORBIDDEN"], refused


def test_a_process_runs_one_dump_per_area_at_a_time(security_env: SecurityEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each dump measures the area when it begins: two at once could both fit the same free space."""
    env = security_env
    user = env.caller("twice")
    cube = env.cube(user, "twice")
    env.add(user, cube, "A note dumped twice")
    entered, release = threading.Event(), threading.Event()
    real_export = CubeTransferRepository.export

    def export(repo: CubeTransferRepository, cube_id: str, timeout_s: float, consume: Any) -> None:
        entered.set()
        assert release.wait(120)
        real_export(repo, cube_id, timeout_s, consume)

    monkeypatch.setattr(CubeTransferRepository, "export", export)
    services = Services.over(env.runtime, served=True)
    reports: list[TransferReport] = []
    first = threading.Thread(
        target=lambda: reports.append(services.transfer.dump(services.cubes.actor(user.user_id), "first", cube))
    )
    first.start()
    try:
        assert entered.wait(120)
        second = env.api.call(user.key, DUMP, c=cube, d="second")
        assert codes(second) == ["CONFLICT"], second
        assert not (env.roots.transfer / user.user_id / "second").exists()
    finally:
        release.set()
        first.join(120)
    assert [report.path for report in reports] == ["first"]
    assert env.api.ok(user.key, DUMP, c=cube, d="second")["dumpCube"] == {"path": "second", "memories": 1}


# -- M6: deleteUser removes the user's dumps; a reused id inherits nothing ------------------------------


def test_a_user_created_again_with_a_deleted_users_id_imports_none_of_its_dumps(security_env: SecurityEnv) -> None:
    env = security_env
    alice = env.caller("owner")
    shared = env.cube(alice, "alice-shared")
    env.add(alice, shared, "Alice's shared plan for the spring fair")
    eve_id = f"sec-eve-{token()}"
    env.created.append(eve_id)
    create = "mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey } }"
    eve = env.api.ok(ROOT_KEY, create, i={"id": eve_id, "name": "eve", "role": "USER"})["createUser"]["apiKey"]
    env.api.ok(alice.key, SHARE, c=shared, u=eve_id)
    env.api.ok(eve, DUMP, c=shared, d="backup-of-shared")
    own = env.cube(Caller(eve_id, eve), "eve-own")
    env.add(Caller(eve_id, eve), own, "eve personal diary: I have a medical condition")
    env.api.ok(eve, DUMP, c=own, d="own-backup")
    area = env.roots.transfer / eve_id
    kept = env.roots.outside / f"eve-leftover-{token()}"
    shutil.copytree(area, kept)  # what a deleteUser before this fix left on disk
    old_uid = json.loads((area / "own-backup" / "memos_graph_dump.json").read_text())["dumped_by_uid"]
    assert old_uid and env.count("MATCH (u:User {id: $u, uid: $uid}) RETURN count(u) AS n", u=eve_id, uid=old_uid) == 1

    assert env.api.ok(ROOT_KEY, DELETE_USER, u=eve_id)["deleteUser"] == [own]
    assert not area.exists()  # the right to be forgotten covers its dumps

    eve2 = env.api.ok(ROOT_KEY, create, i={"id": eve_id, "name": "eve", "role": "USER"})["createUser"]["apiKey"]
    assert codes(env.api.call(eve2, "query($c: ID!) { cube(id: $c) { name } }", c=shared)) == ["FORBIDDEN"]
    shutil.copytree(kept, area)  # the old dumps, back in the new eve's area
    refusals = [
        env.api.call(eve2, IMPORT, p=dump, c=f"stolen-{token()}") for dump in ("backup-of-shared", "own-backup")
    ]
    assert [codes(body) for body in refusals] == [["FORBIDDEN"], ["FORBIDDEN"]], refusals
    assert refusals[0]["errors"][0]["message"] == refusals[1]["errors"][0]["message"]
    assert env.count("MATCH (m:Memory) WHERE m.memory CONTAINS 'medical condition' RETURN count(m) AS n") == 0
    assert env.count("MATCH (m:Memory) WHERE m.memory CONTAINS 'spring fair' RETURN count(m) AS n") == 1
    # The new eve's own dumps are hers.
    mine = env.cube(Caller(eve_id, eve2), "eve2-own")
    env.add(Caller(eve_id, eve2), mine, "The new eve likes kites")
    env.api.ok(eve2, DUMP, c=mine, d="new-backup")
    copy = env.api.ok(eve2, IMPORT, p="new-backup", c=f"eve2-copy-{token()}")["importCube"]
    assert texts_of(env, eve2, copy["cubeId"]) == ["The new eve likes kites"]


def test_a_dump_manifest_from_before_uids_counts_only_after_the_users_creation(security_env: SecurityEnv) -> None:
    env = security_env
    user = env.caller("legacy")
    cube = env.cube(user, "legacy")
    env.add(user, cube, "A note dumped before uids existed")
    env.api.ok(user.key, DUMP, c=cube, d="legacy")
    manifest_path = env.roots.transfer / user.user_id / "legacy" / "memos_graph_dump.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["dumped_by_uid"]  # the form every dump had before
    manifest_path.write_text(json.dumps(manifest))
    assert env.api.ok(user.key, IMPORT, p="legacy", c=f"legacy-{token()}")["importCube"]["memories"] == 1
    manifest["dumped_at"] = "2020-01-01T00:00:00+00:00"  # by an earlier user of this id
    manifest_path.write_text(json.dumps(manifest))
    assert codes(env.api.call(user.key, IMPORT, p="legacy", c=f"legacy-{token()}")) == ["FORBIDDEN"]
    manifest_path.unlink()
    manifest_path.symlink_to(env.roots.transfer / "elsewhere.json")  # a link is never a manifest
    assert codes(env.api.call(user.key, IMPORT, p="legacy", c=f"legacy-{token()}")) == ["FORBIDDEN"]


# -- M7: document areas ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def documents_app(security_env: SecurityEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    """The app with a shared document root besides the per-user document root."""
    env = security_env
    shared = tmp_path_factory.mktemp("shared-docs")
    (shared / "handbook.md").write_text("# Handbook\n\nThe office opens at eight.\n", encoding="utf-8")
    (shared / ".env").write_text("SHARED_SECRET=s3\n", encoding="utf-8")
    settings = DocumentSettings(roots=(str(env.roots.documents),), shared_roots=(str(shared),))
    runtime = replace(env.runtime, config=env.runtime.config.model_copy(update={"documents": settings}))
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        yield Api(client), shared


def test_a_user_reads_only_its_own_document_area_and_the_shared_roots(
    security_env: SecurityEnv, documents_app: tuple[Api, Path]
) -> None:
    env, (api, shared) = security_env, documents_app
    alice, bob = env.caller("doc-alice"), env.caller("doc-bob")
    docs = env.roots.documents
    (docs / alice.user_id).mkdir()
    (docs / alice.user_id / "private.md").write_text("# Private\n\nAlice's salary is 123456.\n", encoding="utf-8")
    (docs / alice.user_id / ".env").write_text("DB_PASSWORD=hunter2\nAPI_TOKEN=abc\n", encoding="utf-8")
    (docs / bob.user_id / ".hidden").mkdir(parents=True)
    (docs / bob.user_id / ".env").write_text("BOB_PASSWORD=swordfish\n", encoding="utf-8")
    (docs / bob.user_id / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    (docs / bob.user_id / ".hidden" / "note.md").write_text("# Hidden\n\nBob's hidden note.\n", encoding="utf-8")
    (docs / bob.user_id / "plan.md").write_text("# Plan\n\nBob plants beans in May.\n", encoding="utf-8")
    (docs / bob.user_id / "link.md").symlink_to(docs / alice.user_id / "private.md")
    bob_cube = env.cube(bob, "bob-docs")

    def add(doc_path: str, key: str = bob.key) -> dict[str, Any]:
        return api.call(key, ADD, i={"cubeId": bob_cube, "docPath": doc_path})

    missing = add(f"nothing-{token()}.md")
    assert codes(missing) == ["FORBIDDEN"], missing
    refused = {
        "another user's file": f"../{alice.user_id}/private.md",
        "another user's file, absolute": str(docs / alice.user_id / "private.md"),
        "another user's .env": f"../{alice.user_id}/.env",
        "another user's missing file": f"../{alice.user_id}/nothere.md",
        "another user's area": str(docs / alice.user_id),
        "a file outside the roots": str(env.roots.outside),
        "a hidden file of one's own": ".env",
        "a file of another extension": "key.pem",
        "a hidden folder": ".hidden/note.md",
        "a link into another area": "link.md",
        "a hidden file of a shared root": str(shared / ".env"),
        "the document root itself": str(docs),
    }
    different = {what: body for what, path in refused.items() if (body := add(path)) != missing}
    assert not different, f"answers that differ from a missing file's {missing}: {different}"
    assert str(docs) not in json.dumps(missing) and alice.user_id not in json.dumps(missing)
    assert texts_of(env, bob.key, bob_cube) == []

    # Bob's own folder: its .md file is read; hidden files, other extensions and links out are not.
    linked = add(".")  # the folder holds a link into Alice's area: refused, nothing read
    assert codes(linked) == ["FORBIDDEN"] and "link.md" in linked["errors"][0]["message"], linked
    assert texts_of(env, bob.key, bob_cube) == []
    (docs / bob.user_id / "link.md").unlink()
    added = api.call(bob.key, ADD, i={"cubeId": bob_cube, "docPath": "."})
    assert added.get("errors") is None, added
    (read,) = texts_of(env, bob.key, bob_cube)
    assert "Bob plants beans in May." in read
    # The shared root: every user reads it; answers name paths relative to the area or root read.
    assert add("handbook.md").get("errors") is None
    assert api.call(alice.key, ADD, i={"cubeId": env.cube(alice, "a"), "docPath": "handbook.md"})["data"]
    nodes = [edge["node"] for edge in api.call(bob.key, SOURCES, c=bob_cube)["data"]["memories"]["edges"]]
    shown = {(node["metadata"]["sources"][0]["docPath"], node["derivedFrom"][0]["node"]["path"]) for node in nodes}
    assert shown == {("plan.md", "plan.md"), ("handbook.md", "handbook.md")}
    keys = {node["derivedFrom"][0]["node"]["key"] for node in nodes}
    assert keys == {f"{bob.user_id}/plan.md", "~shared/handbook.md"}
    assert env.count("MATCH (m:Memory) WHERE m.memory CONTAINS 'salary' RETURN count(m) AS n") == 0
    assert env.count("MATCH (m:Memory) WHERE m.memory CONTAINS 'PASSWORD' RETURN count(m) AS n") == 0
    assert env.count("MATCH (m:Memory) WHERE m.memory CONTAINS 'hidden note' RETURN count(m) AS n") == 0


def test_root_reads_the_whole_document_root_but_no_hidden_file(
    security_env: SecurityEnv, documents_app: tuple[Api, Path]
) -> None:
    env, (api, _) = security_env, documents_app
    user = env.caller("doc-owner", UserRole.USER)
    (env.roots.documents / user.user_id).mkdir()
    (env.roots.documents / user.user_id / "memo.txt").write_text("The memo says hello.\n", encoding="utf-8")
    (env.roots.documents / user.user_id / ".env").write_text("TOKEN=x\n", encoding="utf-8")
    cube = env.cube(Caller("root", ROOT_KEY), f"root-docs-{token()}")
    assert api.call(ROOT_KEY, ADD, i={"cubeId": cube, "docPath": f"{user.user_id}/memo.txt"}).get("errors") is None
    assert codes(api.call(ROOT_KEY, ADD, i={"cubeId": cube, "docPath": f"{user.user_id}/.env"})) == ["FORBIDDEN"]
    env.api.ok(ROOT_KEY, "mutation($c: ID!) { deleteCube(cubeId: $c) }", c=cube)


# -- L4: no server paths in answers -------------------------------------------------------------------


def test_transfer_answers_carry_no_server_path(security_env: SecurityEnv) -> None:
    env = security_env
    user = env.caller("paths")
    missing = env.api.call(user.key, IMPORT, p=f"nothing-{token()}", c=f"x-{token()}")
    assert codes(missing) == ["NOT_FOUND"], missing
    assert str(env.roots.transfer) not in json.dumps(missing) and "nothing-" in missing["errors"][0]["message"]
    nested = env.api.call(user.key, IMPORT, p=f"a/b/../nothing-{token()}", c=f"x-{token()}")
    assert codes(nested) == ["NOT_FOUND"] and str(env.roots.transfer) not in json.dumps(nested)

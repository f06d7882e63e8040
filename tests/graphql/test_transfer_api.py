"""dumpCube and importCube over HTTP: confined to MEMOS_TRANSFER_ROOTS, off without them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.config import TransferSettings
from memos_graph.services.runtime import Runtime
from testkit.keys import ROOT_KEY
from tests.graphql.conftest import Gql, codes
from tests.graphql.test_ingestion_api import post

pytestmark = pytest.mark.neo4j

DUMP = "mutation($c: ID!, $d: String!) { dumpCube(cubeId: $c, dumpDir: $d) { cubeId path memories edges } }"
IMPORT = """mutation($p: String!, $c: ID) { importCube(path: $p, cubeId: $c) {
  cubeId memories reembedded newIds } }"""


def test_dump_and_import_are_off_without_transfer_roots(gql: Gql, tmp_path: Path) -> None:
    body = gql(DUMP, c="any-cube", d=str(tmp_path / "out"))
    assert codes(body) == ["NOT_AVAILABLE"]
    assert "MEMOS_TRANSFER_ROOTS" in body["errors"][0]["message"]
    assert codes(gql(IMPORT, p=str(tmp_path))) == ["NOT_AVAILABLE"]
    assert not (tmp_path / "out").exists()


def test_dump_and_import_inside_the_roots(
    keyed_runtime: Runtime, new_user: Callable[..., tuple[str, str]], uid: Callable[[str], str], tmp_path: Path
) -> None:
    config = keyed_runtime.config.model_copy(update={"transfer": TransferSettings(roots=(str(tmp_path),))})
    with TestClient(create_app(runtime=replace(keyed_runtime, config=config))) as client:
        alice, alice_key = new_user("alice")
        _, bob_key = new_user("bob")
        cube = uid("alice-cube")
        created = post(
            client, alice_key, 'mutation($i: ID!) { createCube(input: {name: "n", id: $i}) { cubeId } }', i=cube
        )  # noqa: E501
        assert created.get("errors") is None, created
        added = post(
            client,
            alice_key,
            "mutation($c: ID!) { addMemories(input: {cubeId: $c, "
            'content: ["Alice keeps a sourdough starter", "Alice bakes on Sundays"]}) { ids } }',
            c=cube,
        )
        assert added.get("errors") is None, added

        dumped = post(client, alice_key, DUMP, c=cube, d="alice-dump")
        assert dumped["data"]["dumpCube"] == {
            "cubeId": cube,
            "path": "alice-dump",  # inside alice's own area <root>/<alice>/, named as she gave it
            "memories": 2,
            "edges": 0,
        }

        stolen = post(client, bob_key, DUMP, c=cube, d="bob-dump")
        assert codes(stolen) == ["FORBIDDEN"]
        assert "does not exist or is not accessible" in stolen["errors"][0]["message"]
        assert not (tmp_path / "bob-dump").exists() and not list(tmp_path.glob("*/bob-dump"))

        escaped = post(client, alice_key, DUMP, c=cube, d="../escaped")
        assert codes(escaped) == ["FORBIDDEN"]
        assert not (tmp_path.parent / "escaped").exists()
        assert codes(post(client, alice_key, IMPORT, p="/etc", c=uid("etc"))) == ["FORBIDDEN"]

        # Bob may not import Alice's dump, and cannot tell it from a directory that does not exist.
        stolen = post(client, bob_key, IMPORT, p=f"../{alice}/alice-dump", c=uid("bob-copy"))
        missing = post(client, bob_key, IMPORT, p=f"../{alice}/no-such-dump", c=uid("bob-copy"))
        assert codes(stolen) == ["FORBIDDEN"]
        assert stolen == missing
        absolute = str(tmp_path / alice / "alice-dump")
        assert codes(post(client, bob_key, IMPORT, p=absolute, c=uid("bob-copy"))) == ["FORBIDDEN"]

        copy = uid("alice-copy")
        imported = post(client, alice_key, IMPORT, p="alice-dump", c=copy)
        assert imported["data"]["importCube"] == {"cubeId": copy, "memories": 2, "reembedded": False, "newIds": True}
        memories = "query($c: ID!) { memories(cubeId: $c) { edges { node { memory } } } }"
        listed = post(client, alice_key, memories, c=copy)
        assert listed.get("errors") is None, listed
        texts = sorted(edge["node"]["memory"] for edge in listed["data"]["memories"]["edges"])
        assert texts == ["Alice bakes on Sundays", "Alice keeps a sourdough starter"]
        assert codes(post(client, ROOT_KEY, IMPORT, p=f"{alice}/alice-dump", c=copy)) == ["CONFLICT"]
        by_root = post(client, ROOT_KEY, IMPORT, p=f"{alice}/alice-dump", c=uid("root-copy"))  # ROOT: the whole root
        assert by_root["data"]["importCube"]["memories"] == 2, by_root
        assert json.loads((tmp_path / alice / "alice-dump" / "memos_graph_dump.json").read_text())["dumped_by"] == alice

"""add(doc_path=...): confinement to the document roots, chunk provenance, unchanged files not re-added."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from memos_graph import MOS, AccessDenied, InvalidInput, UserRole
from memos_graph.config import DocumentSettings
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes

pytestmark = pytest.mark.neo4j

GUIDE = """# Garden guide

Notes on the allotment.

## Tomatoes

Tomato seedlings go out after the last frost, in mid May. Pinch out the side shoots weekly.

## Roses

Prune the roses in late winter, just above an outward-facing bud.
"""


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "guide.md").write_text(GUIDE)
    (root / "sub" / "notes.txt").write_text("The shed key hangs behind the blue door.")
    (root / "sub" / "photo.bin").write_bytes(b"\x89PNG not text")
    (tmp_path / "secret.txt").write_text("the outside secret")
    return root


@pytest.fixture
def writer(runtime: Runtime, root: MOS, docs: Path, uid: Callable[[str], str]) -> tuple[MOS, str, str]:
    """A MOS whose document root is `docs`, a user, and the user's cube."""
    settings = DocumentSettings(roots=(str(docs),), chunk_size=120, chunk_overlap=20)
    config = runtime.config.model_copy(update={"documents": settings})
    mos = MOS(config, runtime=replace(runtime, config=config))
    user = root.create_user(uid("gardener"), UserRole.USER)
    return mos, user, root.create_cube_for_user("garden", owner_id=user)


def test_file_chunks_keep_their_document(writer: tuple[MOS, str, str], docs: Path, runtime: Runtime) -> None:
    mos, user, cube = writer
    ids = mos.add(doc_path=str(docs / "guide.md"), mem_cube_id=cube, user_id=user)
    assert len(ids) >= 3
    items = [mos.get(cube, memory_id, user_id=user) for memory_id in ids]
    assert all(item.metadata.source == "file" for item in items)
    assert {s.doc_path for item in items for s in item.metadata.sources} == {str(docs / "guide.md")}
    assert any("frost" in item.memory and item.metadata.key == "Garden guide / Tomatoes" for item in items)
    rows = runtime.store.run_statement(
        "MATCH (m:Memory {cube_id: $c})-[:DERIVED_FROM {kind: 'document'}]->(d:Document) "
        "RETURN d.path AS path, d.checksum AS checksum, count(m) AS chunks",
        c=cube,
    )
    assert [(r["path"], len(r["checksum"]), r["chunks"]) for r in rows] == [(str(docs / "guide.md"), 64, len(ids))]
    hit = mos.search("When do tomato seedlings go out?", user_id=user, top_k=1)["text_mem"][0]["memories"][0]
    assert "frost" in hit.memory and hit.metadata.sources[0].doc_path == str(docs / "guide.md")


def test_unchanged_file_adds_nothing_and_changed_file_replaces(
    writer: tuple[MOS, str, str], docs: Path, runtime: Runtime
) -> None:
    mos, user, cube = writer
    first = mos.add(doc_path="guide.md", mem_cube_id=cube, user_id=user)
    assert mos.add(doc_path="guide.md", mem_cube_id=cube, user_id=user) == []
    assert count_nodes(runtime, "Memory", cube_id=cube) == len(first)
    (docs / "guide.md").write_text(GUIDE.replace("mid May", "early June"))
    second = mos.add(doc_path="guide.md", mem_cube_id=cube, user_id=user)
    texts = [m.memory for m in mos.get_all(cube, user_id=user)["text_mem"][0]["memories"]]
    assert any("early June" in t for t in texts) and not any("mid May" in t for t in texts)
    assert count_nodes(runtime, "Memory", cube_id=cube) == len(second)
    assert count_nodes(runtime, "Document", cube_id=cube) == 1


def test_directory_takes_text_files_only(writer: tuple[MOS, str, str], docs: Path) -> None:
    mos, user, cube = writer
    mos.add(doc_path=str(docs), mem_cube_id=cube, user_id=user)
    paths = {s.doc_path for m in mos.get_all(cube, user_id=user)["text_mem"][0]["memories"] for s in m.metadata.sources}
    assert paths == {str(docs / "guide.md"), str(docs / "sub" / "notes.txt")}


@pytest.mark.parametrize("escape", ["../secret.txt", "../../../../etc/passwd", "/etc/passwd", "sub/../../secret.txt"])
def test_paths_outside_the_roots_are_refused(writer: tuple[MOS, str, str], runtime: Runtime, escape: str) -> None:
    mos, user, cube = writer
    with pytest.raises(AccessDenied, match="names no readable document"):
        mos.add(doc_path=escape, mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0


def test_symlinks_out_of_a_root_are_refused(writer: tuple[MOS, str, str], docs: Path, runtime: Runtime) -> None:
    mos, user, cube = writer
    (docs / "link.txt").symlink_to(docs.parent / "secret.txt")
    with pytest.raises(AccessDenied):
        mos.add(doc_path="link.txt", mem_cube_id=cube, user_id=user)
    with pytest.raises(AccessDenied, match="link.txt"):
        mos.add(doc_path=str(docs), mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0


def test_missing_and_unusable_documents(writer: tuple[MOS, str, str], docs: Path, runtime: Runtime) -> None:
    mos, user, cube = writer
    refused = "doc_path names no readable document"  # a missing path answers like a forbidden one
    with pytest.raises(AccessDenied, match=refused):
        mos.add(doc_path="nope.md", mem_cube_id=cube, user_id=user)
    (docs / ".env").write_text("DB_PASSWORD=hunter2\n")
    (docs / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    for unread in (".env", "key.pem", "sub/photo.bin"):  # hidden, or not of documents.extensions
        with pytest.raises(AccessDenied, match=refused):
            mos.add(doc_path=unread, mem_cube_id=cube, user_id=user)
    (docs / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(InvalidInput, match="UTF-8"):
        mos.add(doc_path="latin1.txt", mem_cube_id=cube, user_id=user)
    assert count_nodes(runtime, "Memory", cube_id=cube) == 0

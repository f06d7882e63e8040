"""Writing a cube directory in MemOS's tree_text form, and memos-graph's record of who wrote it.

`write_tree` streams textual_memory.json from a CubeSnapshot (the graph's one consistent read of a cube):
nodes as they come, then every edge whose ends were written, then the totals, so a cube of any size is
written in constant memory. `config_document` is the config.json MemOS reads; `manifest_document` and
`dump_writer` are the manifest (memos_graph_dump.json) that says which user (id and immutable uid) dumped a
directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from memos_graph.cube_format.entries import (
    CONFIG_FILE,
    KIND_KEY,
    MODEL_SCHEMA,
    PROVENANCE_NAMESPACE,
    NodeKind,
)
from memos_graph.cube_format.reader import open_in_directory
from memos_graph.domain.cube_content import CubeSnapshot, ExportedEdge
from memos_graph.domain.memory import MemoryStatus, TextualMemoryItem
from memos_graph.domain.users import MemCube

# Written next to config.json by every dump: who wrote it (MemOS's config.json takes no extra keys).
MANIFEST_FILE = "memos_graph_dump.json"
MANIFEST_MAX_BYTES = 64 * 1024
# float32 vectors: eight decimals keep them to within 5e-9 and halve the file against full reprs.
VECTOR_DECIMALS = 8


@dataclass
class TreeCounts:
    """What write_tree wrote."""

    memories: int = 0
    versions: int = 0
    messages: int = 0
    documents: int = 0
    edges: int = 0
    working: int = 0  # the working set's entries, each a WorkingMemory node

    @property
    def nodes(self) -> int:
        return self.memories + self.working + self.versions + self.messages + self.documents


def write_tree(out: IO[str], snapshot: CubeSnapshot) -> TreeCounts:
    """Stream the tree_text form: nodes as they come from the graph, then every edge whose ends were written."""
    written: dict[tuple[str, str], str] = {}  # (kind, graph id or key) -> id in the file
    counts = TreeCounts()
    out.write('{"nodes": [')
    separator = "\n"

    def emit(kind: NodeKind, ref: str, node_id: str, memory: str, metadata: dict[str, Any]) -> None:
        nonlocal separator
        out.write(separator + json.dumps({"id": node_id, "memory": memory, "metadata": metadata}, ensure_ascii=False))
        separator = ",\n"
        written[(kind.value, ref)] = node_id

    for item in snapshot.memories():
        emit(NodeKind.MEMORY, item.id, item.id, item.memory, _memory_out(item))
        counts.memories += 1
    for item in snapshot.working():
        # A WorkingMemory node of its own, as MemOS writes its working set: another node with the same text.
        emit(NodeKind.MEMORY, item.id, item.id, item.memory, _memory_out(item))
        counts.working += 1
    for version in snapshot.versions():
        metadata = _metadata_out(version.item, NodeKind.VERSION)
        metadata.update(
            memory_id=version.memory_id, archived_at=version.archived_at, status=MemoryStatus.ARCHIVED.value
        )
        emit(NodeKind.VERSION, version.item.id, version.item.id, version.item.memory, metadata)
        counts.versions += 1
    for node in snapshot.provenance():
        kind = NodeKind(node.kind)
        metadata = dict(node.properties)
        metadata.update({KIND_KEY: kind.value, "status": MemoryStatus.ARCHIVED.value})
        text = node.properties.get("content") if kind is NodeKind.MESSAGE else node.properties.get("path", node.key)
        emit(kind, node.key, provenance_id(kind.value, node.key), str(text or ""), metadata)
        if kind is NodeKind.MESSAGE:
            counts.messages += 1
        else:
            counts.documents += 1
    out.write('\n], "edges": [')
    separator = "\n"
    for edge in snapshot.edges():
        row = _edge_out(edge, written)
        if row is None:
            continue  # an end written after this pass began (a concurrent add): not part of this dump
        out.write(separator + json.dumps(row))
        separator = ",\n"
        counts.edges += 1
    out.write(f'\n], "total_nodes": {counts.nodes}, "total_edges": {counts.edges}}}\n')
    return counts


def config_document(cube: MemCube, database: str) -> dict[str, Any]:
    """config.json for a dump of `cube`: MemOS's GeneralMemCubeConfig, naming the embedder of its vectors."""
    return {
        "model_schema": MODEL_SCHEMA,
        "user_id": cube.owner_id,
        "cube_id": cube.cube_id,
        "config_filename": CONFIG_FILE,
        "text_mem": {
            "backend": "tree_text",
            "config": {
                "cube_name": cube.cube_name,
                "embedder": {
                    "backend": "sentence_transformer",
                    "config": {"model_name_or_path": cube.embedding_model, "embedding_dims": cube.embedding_dim},
                },
                "graph_db": {"backend": "neo4j", "config": {"db_name": database}},
            },
        },
        "act_mem": {"backend": "uninitialized", "config": {}},
        "para_mem": {"backend": "uninitialized", "config": {}},
    }


def manifest_document(user_id: str, user_uid: str, cube_id: str) -> dict[str, Any]:
    """memos_graph_dump.json: who dumped which cube, when; `dumped_by_uid` is the writer's immutable uid."""
    return {
        "dumped_by": user_id,
        "dumped_by_uid": user_uid,
        "cube_id": cube_id,
        "dumped_at": dt.datetime.now(dt.UTC).isoformat(),
    }


@dataclass(frozen=True)
class DumpWriter:
    """Who a dump's manifest says wrote it (`uid` empty in manifests written before uids existed)."""

    user_id: str
    uid: str
    dumped_at: str


def has_manifest(directory: Path) -> bool:
    """Whether the directory holds a manifest (anything by its name): a dump, not a directory MemOS wrote."""
    return os.path.lexists(directory / MANIFEST_FILE)


def dump_writer(directory: Path) -> DumpWriter | None:
    """The writer the directory's manifest names; None when there is no readable manifest (never an error,
    so a missing directory and a foreign one look alike to the caller). A manifest that is a link, or not a
    regular file, is no manifest (see open_in_directory)."""
    try:
        with open_in_directory(directory, MANIFEST_FILE) as handle:
            raw = handle.read(MANIFEST_MAX_BYTES + 1)
        if len(raw) > MANIFEST_MAX_BYTES:
            return None
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):  # CubeFormatError is a ValueError
        return None
    if not isinstance(data, dict):
        return None
    user_id, uid, dumped_at = data.get("dumped_by"), data.get("dumped_by_uid", ""), data.get("dumped_at", "")
    if not (isinstance(user_id, str) and isinstance(uid, str) and isinstance(dumped_at, str)):
        return None
    return DumpWriter(user_id, uid, dumped_at)


def provenance_id(kind: str, key: str) -> str:
    """The id of a message or document node in a dump (in the graph they are keyed by (cube, key))."""
    return str(uuid.uuid5(PROVENANCE_NAMESPACE, f"{kind}\x1f{key}"))


def _rounded(vector: Iterable[float]) -> list[float]:
    rounded: list[float] = np.round(np.asarray(list(vector), dtype=np.float64), VECTOR_DECIMALS).tolist()
    return rounded


def _memory_out(item: TextualMemoryItem) -> dict[str, Any]:
    """A memory node's metadata, with its vector when it has one."""
    metadata = _metadata_out(item, NodeKind.MEMORY)
    if item.metadata.embedding is not None:
        metadata["embedding"] = _rounded(item.metadata.embedding)
    return metadata


def _metadata_out(item: TextualMemoryItem, kind: NodeKind) -> dict[str, Any]:
    metadata = item.metadata.model_dump(mode="json", exclude={"relativity", "embedding"}, exclude_none=True)
    metadata[KIND_KEY] = kind.value
    return metadata


def _edge_out(edge: ExportedEdge, written: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    source = written.get((edge.source_kind, edge.source))
    target = written.get((edge.target_kind, edge.target))
    if source is None or target is None:
        return None
    row: dict[str, Any] = {"source": source, "target": target, "type": edge.related_type or edge.type}
    if edge.at is not None:
        row["at"] = edge.at
    return row

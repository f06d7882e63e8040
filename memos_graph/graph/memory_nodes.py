"""Memory nodes and the items they become: which metadata fields are node properties of their own, the
properties a new or changed memory writes, and TextualMemoryItem from a node's properties."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memos_graph.domain import SourceReference, TextualMemoryItem, TextualMemoryMetadata
from memos_graph.domain.memory import MemoryStatus
from memos_graph.graph.convert import iso

# Metadata fields stored as their own node properties (filterable in Cypher); the rest of the metadata
# lives in extra_json, and sources in sources_json (Neo4j properties cannot hold lists of maps).
SCALAR_FIELDS = (
    "user_id",
    "session_id",
    "status",
    "type",
    "memory_type",
    "key",
    "tags",
    "confidence",
    "source",
    "background",
    "updated_by",
    "memory_time",
    "event_start",
    "event_end",
    "time_source",
)


def cube_key(cube_id: str) -> str:
    """The cube id as one Lucene token (hex of its UTF-8 bytes): lets a fulltext query keep to one cube."""
    return "cube" + cube_id.encode("utf-8").hex()


@dataclass(frozen=True)
class NewMemory:
    """One memory of a batched add: its text and metadata, who adds it and when, its vector, the messages (by
    key) and document it comes from."""

    memory_id: str
    content_hash: str
    memory: str
    metadata: TextualMemoryMetadata
    user_id: str
    created_at: dt.datetime
    embedding: list[float]
    session_id: str | None = None
    message_keys: tuple[str, ...] = ()
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class MemoryChange:
    """A rewrite of a stored memory (an update, or fine-mode dedup during an add): a new text with its hash and
    vector, the named metadata `fields` taken from `metadata`, the memory's extra fields whole, who changed
    it, and messages (by key) it now also derives from. Whatever is left out stays as stored."""

    memory_id: str
    memory: str | None = None
    content_hash: str | None = None
    embedding: list[float] | None = None
    metadata: TextualMemoryMetadata | None = None
    fields: tuple[str, ...] = ()
    extra: dict[str, Any] | None = None
    updated_by: str | None = None
    message_keys: tuple[str, ...] = ()


def change_properties(change: MemoryChange) -> dict[str, Any]:
    """The node properties a change writes (none for a change that only links provenance)."""
    properties = metadata_properties(change.metadata, change.fields) if change.metadata is not None else {}
    if change.extra is not None:
        properties["extra_json"] = json.dumps(change.extra, allow_nan=False)
    if change.updated_by is not None:
        properties["updated_by"] = change.updated_by
    if change.memory is not None:
        properties.update(memory=change.memory, content_hash=change.content_hash)
    return properties


def memory_node_properties(metadata: TextualMemoryMetadata, cube_id: str, **fields: Any) -> dict[str, Any]:
    """The properties of a new Memory (or MemoryVersion) node of the cube: its metadata, then `fields`."""
    properties = metadata_properties(metadata)
    properties.update(fields, cube_id=cube_id, cube_key=cube_key(cube_id))
    return properties


def new_memory_properties(row: NewMemory, cube_id: str) -> dict[str, Any]:
    """The node properties of a memory an add stores."""
    session = {} if row.session_id is None else {"session_id": row.session_id}
    return memory_node_properties(
        row.metadata,
        cube_id,
        id=row.memory_id,
        memory=row.memory,
        user_id=row.user_id,
        status=MemoryStatus.ACTIVATED.value,
        created_at=row.created_at,
        **session,
    )


def metadata_properties(metadata: TextualMemoryMetadata, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """Node properties for the metadata (all of it, or only the named fields)."""
    dumped = metadata.model_dump(mode="json")
    wanted = set(dumped) if fields is None else set(fields)
    properties: dict[str, Any] = {
        name: dumped[name] for name in SCALAR_FIELDS if name in wanted and dumped.get(name) is not None
    }
    if "sources" in wanted:
        properties["sources_json"] = json.dumps(dumped.get("sources") or [], allow_nan=False)
    extra = {k: v for k, v in metadata.extra_fields().items() if k in wanted}
    if fields is None or extra:
        properties["extra_json"] = json.dumps(extra, allow_nan=False)
    return properties


def item_from_node(node: dict[str, Any], score: float | None = None) -> TextualMemoryItem:
    """TextualMemoryItem from a Memory (or MemoryVersion) node's properties."""
    extra = json.loads(node.get("extra_json") or "{}")
    sources = [SourceReference.model_validate(s) for s in json.loads(node.get("sources_json") or "[]")]
    fields: dict[str, Any] = {name: node[name] for name in SCALAR_FIELDS if node.get(name) is not None}
    metadata = TextualMemoryMetadata(
        **extra,
        **fields,
        sources=sources,
        created_at=iso(node.get("created_at")),
        updated_at=iso(node.get("updated_at")),
        version=node.get("version"),
        relativity=score,
        embedding=node.get("embedding"),
    )
    return TextualMemoryItem(id=node["id"], memory=node["memory"], metadata=metadata)


class ItemsOnce:
    """item_from_node for one statement's rows, each memory built once: a memory both rankings returned (its
    cosine is the same in both) is the same item, another score gets a copy (building an item is ~55 us, a
    copy ~9 us): 48 builds instead of 60 per search on the 1,000-memory cube of bench/bench_stages.py."""

    def __init__(self) -> None:
        self._built: dict[str, TextualMemoryItem] = {}

    def __call__(self, node: dict[str, Any], score: float) -> TextualMemoryItem:
        known = self._built.get(node["id"])
        if known is None:
            known = self._built[node["id"]] = item_from_node(node, score)
        if known.metadata.relativity == score:
            return known
        return known.model_copy(update={"metadata": known.metadata.model_copy(update={"relativity": score})})

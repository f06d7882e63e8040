"""A cube as MemOS writes it to disk (mos-api.md section 5), read into one format-independent shape.

MemOS has two forms of `textual_memory.json`: general_text (a list of `{id, vector, payload}`) and tree_text
(`{nodes, edges, total_nodes, total_edges}`). Both parse, entry by entry, into CubeNode (four kinds: memories,
their earlier versions, and the messages and documents they derive from) and CubeEdge (typed edges). Every
check names the bad entry, so a caller can fix the file. Nothing here does I/O: reader.py streams the file,
writer.py writes one.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import ValidationError

from memos_graph.domain.cube_content import EdgeKind
from memos_graph.domain.memory import SourceReference, TextualMemoryMetadata, canonical_uuid, checked_text

MODEL_SCHEMA = "memos.configs.mem_cube.GeneralMemCubeConfig"
TEXTUAL_MEMORY_FILE = "textual_memory.json"
CONFIG_FILE = "config.json"
# The metadata key that says what a tree_text node is; MemOS's own nodes lack it and are memories.
KIND_KEY = "node_kind"
# Ids of message and document nodes in a dump, and of nodes renamed by an import (uuid5 in this namespace).
PROVENANCE_NAMESPACE = uuid.UUID("6f1d7c52-4b8e-4f7a-9d38-2c1f0e6a9b41")


class NodeKind(StrEnum):
    """What a node of a cube directory stands for."""

    MEMORY = "memory"
    VERSION = "version"
    MESSAGE = "message"
    DOCUMENT = "document"


DERIVED_KIND = {
    (NodeKind.MEMORY, NodeKind.MESSAGE): EdgeKind.MEMORY_MESSAGE,
    (NodeKind.MEMORY, NodeKind.DOCUMENT): EdgeKind.MEMORY_DOCUMENT,
    (NodeKind.MEMORY, NodeKind.VERSION): EdgeKind.MEMORY_VERSION,
    (NodeKind.VERSION, NodeKind.VERSION): EdgeKind.VERSION_VERSION,
}


class CubeFormatError(ValueError):
    """A cube directory that cannot be imported; the message names the file and the first bad entry."""


@dataclass(frozen=True)
class CubeNode:
    """One node: its id in the file, its text, its metadata as written, and a vector when one was stored."""

    kind: NodeKind
    id: str
    memory: str
    metadata: dict[str, Any]
    vector: list[float] | None = None


@dataclass(frozen=True)
class CubeEdge:
    """One edge between two node ids of the file; `type` is the edge type as written."""

    source: str
    target: str
    type: str
    kind: EdgeKind
    at: str | None = None


@dataclass(frozen=True)
class CubeSource:
    """What config.json says about the cube: where it came from and which embedder made its vectors."""

    backend: str
    cube_id: str | None
    user_id: str | None
    embedder_model: str | None
    embedder_dimension: int | None


@dataclass
class SourceTally:
    """Counts kept while entries are parsed: sources given as text that did not decode into a source entry
    (kept verbatim as a text source)."""

    undecoded: int = 0


def unknown_source(backend: str) -> CubeSource:
    """A directory without config.json (MemOS's mem_cube_tree example): the form comes from
    textual_memory.json itself; the embedder is unknown, so the texts are embedded again."""
    return CubeSource(backend=backend, cube_id=None, user_id=None, embedder_model=None, embedder_dimension=None)


# MemOS writes a tree_text source as a JSON string, sometimes a JSON string of one; this many decodings at most.
MAX_SOURCE_DECODINGS = 3


def decode_source(value: object) -> tuple[object, bool]:
    """A source entry and whether it decoded: an object stays; text holding a JSON object (encoded once or
    twice) becomes that object; any other text is kept verbatim as a text source (False)."""
    if not isinstance(value, str):
        return value, True
    decoded: object = value
    for _ in range(MAX_SOURCE_DECODINGS):
        if not isinstance(decoded, str):
            break
        try:
            decoded = json.loads(decoded)
        except (ValueError, RecursionError):
            break
    if isinstance(decoded, Mapping) and isinstance(decoded.get("type", "text"), str):
        try:
            return SourceReference.model_validate(dict(decoded)).model_dump(exclude_none=True), True
        except ValidationError:
            pass
    return {"type": "text", "content": value}, False


def parse_config(data: object) -> CubeSource:
    """config.json: the backend and, when present, the embedder behind the stored vectors."""
    if not isinstance(data, Mapping):
        raise CubeFormatError(f"{CONFIG_FILE}: must hold a JSON object")
    text_mem = data.get("text_mem")
    if not isinstance(text_mem, Mapping):
        raise CubeFormatError(f"{CONFIG_FILE}: 'text_mem' must be an object with a 'backend'")
    backend = text_mem.get("backend")
    if backend not in ("general_text", "tree_text"):
        raise CubeFormatError(f"{CONFIG_FILE}: text_mem.backend must be 'general_text' or 'tree_text'")
    settings = _section(text_mem, "config")
    embedder_config = _section(_section(settings, "embedder"), "config")
    model = embedder_config.get("model_name_or_path")
    dimension = embedder_config.get("embedding_dims")
    vector_db_config = _section(_section(settings, "vector_db"), "config")
    dimension = dimension if dimension is not None else vector_db_config.get("vector_dimension")
    return CubeSource(
        backend=str(backend),
        cube_id=_optional_str(data.get("cube_id")),
        user_id=_optional_str(data.get("user_id")),
        embedder_model=_optional_str(model),
        embedder_dimension=dimension if isinstance(dimension, int) and not isinstance(dimension, bool) else None,
    )


def parse_entry(
    backend: str, index: int, entry: object, max_memory_chars: int, tally: SourceTally, validate: bool = True
) -> CubeNode:
    """One node entry of textual_memory.json in the form config.json announces (general_text's list items,
    tree_text's `nodes`), checked; the error names the entry. `validate=False` skips validating the metadata
    against TextualMemoryMetadata (for an entry validated before, whose rows validate it again)."""
    if backend == "general_text":
        return _general_entry(index, entry, max_memory_chars, tally, validate)
    return _tree_node(index, entry, max_memory_chars, tally, validate)


def repeated_id(index: int, node_id: str) -> CubeFormatError:
    """The error for a node whose id an earlier node of the file has."""
    return CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: node [{index}] repeats the id {node_id}")


def _section(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    child = parent.get(key)
    return child if isinstance(child, Mapping) else {}


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def check_total(declared: object, key: str, actual: int) -> None:
    """A tree_text total (total_nodes, total_edges) must match what the file holds, when given."""
    if declared is not None and declared != actual:
        said = declared if isinstance(declared, int) else "something else"
        raise CubeFormatError(
            f"{TEXTUAL_MEMORY_FILE}: {key} says {said} but the file holds {actual} (truncated or edited?)"
        )


def _general_entry(index: int, entry: object, max_chars: int, tally: SourceTally, validate: bool) -> CubeNode:
    where = f"{TEXTUAL_MEMORY_FILE}: entry [{index}]"
    if not isinstance(entry, Mapping):
        raise CubeFormatError(f"{where}: must be an object with 'id', 'vector' and 'payload'")
    node_id = _uuid(entry.get("id"), where)
    where = f"{where} (id {node_id})"
    payload = entry.get("payload")
    if not isinstance(payload, Mapping):
        raise CubeFormatError(f"{where}: 'payload' must be an object with 'memory' and 'metadata'")
    if payload.get("id") is not None and str(payload.get("id")) != str(entry.get("id")):
        raise CubeFormatError(f"{where}: payload.id differs from the entry's id")
    metadata = _memory_metadata(payload.get("metadata"), where, tally, validate)
    metadata.pop("embedding", None)
    memory = _text(payload.get("memory"), f"{where}: payload.memory", max_chars)
    return CubeNode(NodeKind.MEMORY, node_id, memory, metadata, _vector(entry.get("vector"), f"{where}: vector"))


def _tree_node(index: int, node: object, max_chars: int, tally: SourceTally, validate: bool) -> CubeNode:
    where = f"{TEXTUAL_MEMORY_FILE}: nodes[{index}]"
    if not isinstance(node, Mapping):
        raise CubeFormatError(f"{where}: must be an object with 'id', 'memory' and 'metadata'")
    raw_id = node.get("id")
    if not isinstance(raw_id, str) or not raw_id:
        raise CubeFormatError(f"{where}: 'id' must be a non-empty string")
    if canonical_uuid(raw_id) == raw_id:  # other ids are not quoted: errors never echo the file's text
        where = f"{where} (id {raw_id})"
    metadata = node.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise CubeFormatError(f"{where}: 'metadata' must be an object")
    try:
        kind = NodeKind(metadata.get(KIND_KEY, NodeKind.MEMORY))
    except ValueError as exc:
        kinds = ", ".join(kind.value for kind in NodeKind)
        raise CubeFormatError(f"{where}: metadata.{KIND_KEY} must be one of {kinds}") from exc
    fields = {key: value for key, value in metadata.items() if key not in (KIND_KEY, "embedding")}
    if kind in (NodeKind.MESSAGE, NodeKind.DOCUMENT):
        if not isinstance(fields.get("key"), str) or not fields["key"]:
            raise CubeFormatError(f"{where}: a {kind} node needs metadata.key")
        text = node.get("memory")
        if not isinstance(text, str):
            raise CubeFormatError(f"{where}: 'memory' must be a string")
        return CubeNode(kind, raw_id, text, fields)
    node_id = _uuid(raw_id, where)
    memory = _text(node.get("memory"), f"{where}: memory", max_chars)
    fields = _memory_metadata(fields, where, tally, validate)
    if kind is NodeKind.VERSION:
        if not isinstance(fields.get("memory_id"), str):
            raise CubeFormatError(f"{where}: a version node needs metadata.memory_id")
        return CubeNode(kind, node_id, memory, fields)
    return CubeNode(kind, node_id, memory, fields, _vector(metadata.get("embedding"), f"{where}: metadata.embedding"))


def parse_edge(index: int, edge: object, kinds: Mapping[str, NodeKind]) -> CubeEdge:
    """One tree_text edge, its ends looked up among the file's nodes (`kinds`: id -> kind)."""
    where = f"{TEXTUAL_MEMORY_FILE}: edges[{index}]"
    if not isinstance(edge, Mapping):
        raise CubeFormatError(f"{where}: must be an object with 'source', 'target' and 'type'")
    source, target, edge_type = edge.get("source"), edge.get("target"), edge.get("type")
    if not isinstance(edge_type, str) or not edge_type:
        raise CubeFormatError(f"{where}: 'type' must be a non-empty string")
    for end, value in (("source", source), ("target", target)):
        if not isinstance(value, str) or value not in kinds:
            raise CubeFormatError(f"{where}: its {end} is not the id of a node in this file")
    assert isinstance(source, str) and isinstance(target, str)
    pair = (kinds[source], kinds[target])
    if pair == (NodeKind.MEMORY, NodeKind.MEMORY):
        kind = EdgeKind.RELATED  # MemOS's own edges between memories (PARENT, RELATE_TO, ...), kept by type
    elif edge_type == "DERIVED_FROM" and pair in DERIVED_KIND:
        kind = DERIVED_KIND[pair]
    elif edge_type == "NEXT" and pair == (NodeKind.MESSAGE, NodeKind.MESSAGE):
        kind = EdgeKind.MESSAGE_NEXT
    else:
        named = f"a {edge_type}" if edge_type in ("DERIVED_FROM", "NEXT") else "an"
        raise CubeFormatError(f"{where}: {named} edge from a {pair[0]} node to a {pair[1]} node is not stored")
    at = edge.get("at")
    return CubeEdge(source, target, edge_type, kind, at if isinstance(at, str) else None)


def _uuid(value: object, where: str) -> str:
    canonical = canonical_uuid(str(value))
    if canonical is None:
        raise CubeFormatError(f"{where}: id must be a UUID")
    return canonical


def _text(value: object, where: str, max_chars: int) -> str:
    return checked_text(value, where, max_chars, CubeFormatError)


def _memory_metadata(value: object, where: str, tally: SourceTally, validate: bool) -> dict[str, Any]:
    """An entry's metadata, checked; its sources decoded (the undecodable counted on `tally`)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise CubeFormatError(f"{where}: metadata must be an object")
    value = dict(value)
    if isinstance(value.get("sources"), list):
        # tree_text sources are JSON strings (sometimes encoded twice): decoded into source entries; other text
        # (older MemOS versions keep plain strings) is kept verbatim as a text source, and counted.
        sources = []
        for entry in value["sources"]:
            source, decoded = decode_source(entry)
            sources.append(source)
            tally.undecoded += not decoded
        value["sources"] = sources
    if not validate:
        return value
    try:
        TextualMemoryMetadata.model_validate({k: v for k, v in value.items() if k != "embedding"})
    except ValidationError as exc:
        problem = exc.errors()[0]
        location = ".".join(str(part) for part in problem["loc"])
        raise CubeFormatError(f"{where}: metadata.{location}: {problem['msg']}") from exc
    return value


_NUMBER_TYPES = frozenset((int, float))


def _vector(value: object, where: str) -> list[float] | None:
    """A stored vector: a list of finite numbers (not booleans), as floats. Checked in C (type set, numpy),
    since a 100,000-memory import checks 38 million of them."""
    if value is None or value == []:
        return None
    if isinstance(value, list) and _NUMBER_TYPES.issuperset(map(type, value)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except OverflowError:  # an integer beyond the float range
            array = np.array([math.inf])
        if array.ndim == 1 and bool(np.isfinite(array).all()):
            floats: list[float] = array.tolist()
            return floats
    raise CubeFormatError(f"{where} must be a list of finite numbers")

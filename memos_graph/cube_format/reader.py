"""textual_memory.json read as a stream, so an import's memory does not grow with the file.

json.load held a 100,000-memory cube's 500 MB file as 2 GB of Python objects. Here the file is read with
ijson (yajl's C parser) in passes that each hold one entry at a time:

- `shape()`: one pass over the raw events (no object is built except each edge): the nesting depth is
  checked before anything else (ijson's prefixed parsers cost O(depth) per event, so a file of a few
  million "[" would never finish), the form is told (a list is general_text, an object tree_text), and
  tree_text's `edges`, `total_nodes` and `total_edges` are read; a repeated top-level key is refused.
- `entries()`: the node entries one by one (general_text's list items, tree_text's `nodes`), built in C;
  the import calls it twice, once to validate and plan, once to write.

Every pass hashes the bytes it reads; `digest` of each pass must agree, so a file changed between the
validating pass and the writing pass is refused (the import then discards what it wrote) rather than
written unvalidated. Errors are CubeFormatError with the file's name and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson

from memos_graph.cube_format.entries import CONFIG_FILE, TEXTUAL_MEMORY_FILE, CubeFormatError, CubeSource, parse_config

# config.json is a few kilobytes; anything near this is not a MemOS config.
CONFIG_MAX_BYTES = 16 * 2**20
# Containers nested deeper than this are refused (MemOS's own files nest 5 deep; metadata may add a few).
MAX_DEPTH = 64
READ_SIZE = 64 * 1024  # ijson builds every entry a read completes before yielding one: keep reads small
GENERAL_TEXT, TREE_TEXT = "general_text", "tree_text"
_OPEN = frozenset(("start_map", "start_array"))
_CLOSE = frozenset(("end_map", "end_array"))
_SCALAR = frozenset(("number", "string", "boolean", "null", "map_key"))
_TOKEN = re.compile(r"-?[A-Za-z]+")


@dataclass
class FileShape:
    """What the shape pass found: the form, tree_text's edges (as written) and declared totals."""

    backend: str
    has_nodes: bool = False
    edges: list[object] = field(default_factory=list)
    total_nodes: object = None
    total_edges: object = None
    digest: bytes = b""


class _HashingReader:
    """A binary file whose read() also feeds a hash of everything read."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._hash = hashlib.blake2b(digest_size=32)

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._hash.update(data)
        return data

    def digest(self) -> bytes:
        return self._hash.digest()


class TextualMemoryFile:
    """One textual_memory.json, checked for existence and size when opened."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        if not path.is_file():
            raise CubeFormatError(f"{path.name} is missing from the cube directory")
        size = path.stat().st_size
        if size > max_bytes:
            raise CubeFormatError(f"{path.name} has {size} bytes; the limit is {max_bytes}")
        self.path = path
        self.last_digest = b""  # the hash of what the last finished entries() pass read

    def shape(self, backend: str | None) -> FileShape:
        """The form (the one config.json announced, or the file's own when `backend` is None), tree_text's
        edges and totals; the nesting depth checked throughout."""
        with self.path.open("rb") as handle:
            reader = _HashingReader(handle)
            try:
                shape = _scan(ijson.basic_parse(reader, use_float=True, buf_size=READ_SIZE), backend)
            except ijson.JSONError as exc:
                raise _syntax_error(exc) from None
            shape.digest = reader.digest()
        return shape

    def entries(self, backend: str) -> Iterator[tuple[int, object]]:
        """(index, entry as written) for every node entry; then `last_digest` holds the pass's hash."""
        prefix = "item" if backend == GENERAL_TEXT else "nodes.item"
        with self.path.open("rb") as handle:
            reader = _HashingReader(handle)
            try:
                yield from enumerate(ijson.items(reader, prefix, use_float=True, buf_size=READ_SIZE))
            except ijson.JSONError as exc:
                raise _syntax_error(exc) from None
            self.last_digest = reader.digest()


def read_config(directory: Path) -> CubeSource | None:
    """What the directory's config.json says (None without one: MemOS's mem_cube_tree example)."""
    path = directory / CONFIG_FILE
    if not path.exists():
        return None
    size = path.stat().st_size
    if size > CONFIG_MAX_BYTES:
        raise CubeFormatError(f"{CONFIG_FILE} has {size} bytes; the limit is {CONFIG_MAX_BYTES}")
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle, parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise CubeFormatError(f"{CONFIG_FILE} is not UTF-8 text") from exc
    except RecursionError as exc:
        raise CubeFormatError(f"{CONFIG_FILE} nests lists or objects too deep") from exc
    except json.JSONDecodeError as exc:
        raise CubeFormatError(
            f"{CONFIG_FILE} is not valid JSON (truncated?): {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    return parse_config(data)


def _refuse_constant(constant: str) -> object:
    """json.load's hook for NaN and Infinity, which JSON does not have and every later reader would choke on."""
    raise CubeFormatError(f"{CONFIG_FILE} holds {constant}: numbers must be finite (JSON has no NaN or Infinity)")


def _scan(events: Iterator[tuple[str, Any]], backend: str | None) -> FileShape:
    """The shape pass over basic_parse events (see the module docstring)."""
    depth = 0
    shape: FileShape | None = None
    key: str | None = None  # the top-level key whose value is being read (tree_text)
    seen: set[str] = set()
    edge: ijson.ObjectBuilder | None = None  # the edge being built
    for event, value in events:
        if depth > 2 and edge is None and event in _SCALAR:
            continue  # inside a node (nearly every event of a file: its vectors' numbers)
        if event in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE} nests lists or objects too deep (more than {MAX_DEPTH})")
            if depth == 1:
                shape = _form(event, backend)
            elif depth == 2 and shape is not None and shape.backend == TREE_TEXT:
                _top_level_container(key, event)
            elif depth == 3 and key == "edges":
                edge = ijson.ObjectBuilder()
            if edge is not None:
                edge.event(event, value)
            continue
        if event in _CLOSE:
            depth -= 1
            if edge is not None:
                edge.event(event, value)
                if depth == 2:
                    assert shape is not None
                    shape.edges.append(edge.value)
                    edge = None
            continue
        if edge is not None:
            edge.event(event, value)
        elif depth == 1 and shape is not None and shape.backend == TREE_TEXT:
            if event == "map_key":
                if value in seen:
                    raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: the key {value!r} appears twice")
                seen.add(value)
                key = value
            elif key in ("nodes", "edges"):
                raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: 'nodes' and 'edges' must be lists")
            elif key == "total_nodes":
                shape.total_nodes = value
            elif key == "total_edges":
                shape.total_edges = value
        elif depth == 2 and key == "edges" and shape is not None:
            shape.edges.append(value)  # a scalar where an edge should be: refused by the edge check
        elif depth == 0:
            shape = _form(event, backend)  # a scalar document
    if shape is None:  # pragma: no cover - yajl refuses an empty document before this
        raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE} is empty")
    shape.has_nodes = "nodes" in seen
    if shape.backend == TREE_TEXT and not shape.has_nodes:
        if backend is None:
            raise _undetected()
        raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: 'nodes' and 'edges' must be lists")
    return shape


def _form(event: str, backend: str | None) -> FileShape:
    """The form from the document's first event, checked against what config.json announced."""
    found = GENERAL_TEXT if event == "start_array" else TREE_TEXT if event == "start_map" else None
    if backend is None:
        if found is None:
            raise _undetected()
        return FileShape(found)
    if backend == GENERAL_TEXT and found != GENERAL_TEXT:
        raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: general_text holds a JSON list of entries")
    if backend == TREE_TEXT and found != TREE_TEXT:
        raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: tree_text holds an object with 'nodes' and 'edges'")
    return FileShape(backend)


def _top_level_container(key: str | None, event: str) -> None:
    if key in ("nodes", "edges") and event != "start_array":
        raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: 'nodes' and 'edges' must be lists")


def _undetected() -> CubeFormatError:
    return CubeFormatError(
        f"{TEXTUAL_MEMORY_FILE}: without {CONFIG_FILE}, it must be a list of entries (general_text) or an "
        "object with 'nodes' (tree_text)"
    )


def _syntax_error(exc: ijson.JSONError) -> CubeFormatError:
    """yajl's message as one line: what is wrong and the text around it (NaN and Infinity named)."""
    lines = str(exc).replace("\\n", "\n").splitlines()
    what = lines[0].strip().rstrip(".") if lines else "unreadable"
    if "UTF8" in what:
        return CubeFormatError(f"{TEXTUAL_MEMORY_FILE} is not UTF-8 text")
    context = lines[1] if len(lines) > 2 else ""
    caret = lines[2].find("^") if len(lines) > 2 else -1
    token = _TOKEN.match(context[caret - 1 :]) if 0 < caret <= len(context) else None  # yajl points past it
    if token is not None and token.group(0).lstrip("-") in ("NaN", "Infinity"):
        return CubeFormatError(
            f"{TEXTUAL_MEMORY_FILE} holds {token.group(0)}: numbers must be finite (JSON has no NaN or Infinity)"
        )
    near = context.strip()[:80]
    return CubeFormatError(
        f"{TEXTUAL_MEMORY_FILE} is not valid JSON (truncated?): {what}" + (f" near {near!r}" if near else "")
    )

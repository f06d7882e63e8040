"""textual_memory.json read as a stream, so an import's memory does not grow with the file.

json.load held a 100,000-memory cube's 500 MB file as 2 GB of Python objects. Here the file is read with
ijson (yajl's C parser) in passes that each hold one entry at a time:

- `shape()`: one pass over the raw events (no object is built): the nesting depth is checked before
  anything else (ijson's prefixed parsers cost O(depth) per event, so a file of a few million "[" would
  never finish), the form is told (a list is general_text, an object tree_text), tree_text's edges are
  counted and `total_nodes` and `total_edges` read; a repeated top-level key is refused.
- `entries()`: the node entries one by one (general_text's list items, tree_text's `nodes`), built in C;
  the import calls it twice, once to validate and plan, once to write.
- `edges()`: tree_text's edges one by one, likewise: an edge is never held longer than it takes to check or
  write it, so a file of millions of edges costs no more memory than one of none.

Every file of the directory is opened by `open_in_directory`: the name inside the directory, never through
a symlink (O_NOFOLLOW), only a regular file with no other name (no hard link into someone else's files), and
only if the directory opened is the one that was confined. Errors never quote the file's content.

Every pass hashes the bytes it reads; `digest` of each pass must agree, so a file changed between the
validating pass and the writing pass is refused (the import then discards what it wrote) rather than
written unvalidated. Errors are CubeFormatError with the file's name and what is wrong.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
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
_TOP_LEVEL_KEYS = frozenset(("nodes", "edges", "total_nodes", "total_edges"))
_SCALAR = frozenset(("number", "string", "boolean", "null", "map_key"))
_TOKEN = re.compile(r"-?[A-Za-z]+")
# yajl's error texts (such as "lexical error: invalid char in json text"): letters, spaces and a little punctuation.
_PLAIN_MESSAGE = re.compile(r"[A-Za-z ,:()'{}\[\]]{1,120}")


@dataclass
class FileShape:
    """What the shape pass found: the form, how many edges tree_text holds, and the declared totals."""

    backend: str
    has_nodes: bool = False
    edge_count: int = 0
    total_nodes: object = None
    total_edges: object = None
    digest: bytes = b""


class MissingFile(CubeFormatError):
    """The named file is not in the directory (not even as a link)."""


def open_in_directory(directory: Path, name: str) -> IO[bytes]:
    """The file `name` of `directory` (a real path, confined by the caller), opened for reading only if it
    is a regular file reached without following a link: the directory and the file are opened with
    O_NOFOLLOW (the file relative to the directory's descriptor), the directory opened must be `directory`
    itself (no parent swapped for a link since it was confined), and the file must have no other name (a
    hard link can make another user's file look like one's own). MissingFile when there is no such name;
    CubeFormatError for anything else, saying neither what a link points to nor what the file holds."""
    refused = CubeFormatError(
        f"{name} in the cube directory is not a regular file (links, hard links, devices and pipes are refused)"
    )
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
    no_follow = getattr(os, "O_NOFOLLOW", 0)
    try:
        directory_fd = os.open(directory, flags | no_follow | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        raise refused from None
    try:
        if not _is_directory_itself(directory_fd, directory):
            raise refused
        try:  # O_NONBLOCK: opening a FIFO must not wait for a writer; refused below as not a regular file
            fd = os.open(name, flags | no_follow | getattr(os, "O_NONBLOCK", 0), dir_fd=directory_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise MissingFile(f"{name} is missing from the cube directory") from None
            raise refused from None
    finally:
        os.close(directory_fd)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1:
            raise refused
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _is_directory_itself(fd: int, directory: Path) -> bool:
    """Whether the open directory `fd` is `directory` (by its path where /proc tells it, else by inode)."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}")) == directory
    except OSError:
        pass
    try:
        opened, named = os.fstat(fd), os.stat(directory, follow_symlinks=False)
    except OSError:
        return False
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino) and stat.S_ISDIR(opened.st_mode)


class _HashingReader:
    """A binary file whose read() also feeds a hash of everything read (and counts the bytes)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._hash = hashlib.blake2b(digest_size=32)
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._hash.update(data)
        self.consumed += len(data)
        return data

    def digest(self) -> bytes:
        return self._hash.digest()


class TextualMemoryFile:
    """One textual_memory.json of a cube directory, checked for its kind and size when opened; every pass
    opens it again the same confined way (open_in_directory) and must find the same file."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        with open_in_directory(directory, TEXTUAL_MEMORY_FILE) as handle:
            status = os.fstat(handle.fileno())
        if status.st_size > max_bytes:
            raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE} has {status.st_size} bytes; the limit is {max_bytes}")
        self._identity = (status.st_dev, status.st_ino)
        self.last_digest = b""  # the hash of what the last finished entries() or edges() pass read

    def _open(self) -> IO[bytes]:
        handle = open_in_directory(self.directory, TEXTUAL_MEMORY_FILE)
        status = os.fstat(handle.fileno())
        if (status.st_dev, status.st_ino) != self._identity:
            handle.close()
            raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE} was replaced while it was being imported")
        return handle

    def shape(self, backend: str | None) -> FileShape:
        """The form (the one config.json announced, or the file's own when `backend` is None), how many edges
        tree_text holds, and its totals; the nesting depth checked throughout."""
        with self._open() as handle:
            reader = _HashingReader(handle)
            try:
                shape = _scan(ijson.basic_parse(reader, use_float=True, buf_size=READ_SIZE), backend)
            except ijson.JSONError as exc:
                raise _syntax_error(exc, reader.consumed) from None
            shape.digest = reader.digest()
        return shape

    def entries(self, backend: str) -> Iterator[tuple[int, object]]:
        """(index, entry as written) for every node entry; then `last_digest` holds the pass's hash."""
        yield from self._items("item" if backend == GENERAL_TEXT else "nodes.item")

    def edges(self) -> Iterator[tuple[int, object]]:
        """(index, edge as written) for every tree_text edge; then `last_digest` holds the pass's hash."""
        yield from self._items("edges.item")

    def _items(self, prefix: str) -> Iterator[tuple[int, object]]:
        with self._open() as handle:
            reader = _HashingReader(handle)
            try:
                yield from enumerate(ijson.items(reader, prefix, use_float=True, buf_size=READ_SIZE))
            except ijson.JSONError as exc:
                raise _syntax_error(exc, reader.consumed) from None
            self.last_digest = reader.digest()


def read_config(directory: Path) -> CubeSource | None:
    """What the directory's config.json says (None without one: MemOS's mem_cube_tree example)."""
    try:
        handle = open_in_directory(directory, CONFIG_FILE)
    except MissingFile:
        return None
    try:
        size = os.fstat(handle.fileno()).st_size
        if size > CONFIG_MAX_BYTES:
            raise CubeFormatError(f"{CONFIG_FILE} has {size} bytes; the limit is {CONFIG_MAX_BYTES}")
        with io.TextIOWrapper(handle, encoding="utf-8") as text:
            data = json.load(text, parse_constant=_refuse_constant)
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
    for event, value in events:
        if depth > 2 and event in _SCALAR:
            continue  # inside a node or an edge (nearly every event of a file: its vectors' numbers)
        if event in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE} nests lists or objects too deep (more than {MAX_DEPTH})")
            if depth == 1:
                shape = _form(event, backend)
            elif depth == 2 and shape is not None and shape.backend == TREE_TEXT:
                _top_level_container(key, event)
            elif depth == 3 and key == "edges" and shape is not None:
                shape.edge_count += 1  # checked one by one later (edges()), never collected
            continue
        if event in _CLOSE:
            depth -= 1
            continue
        if depth == 1 and shape is not None and shape.backend == TREE_TEXT:
            if event == "map_key":
                if value in seen:
                    named = repr(value) if value in _TOP_LEVEL_KEYS else "a key"  # not the file's own text
                    raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: {named} appears twice at the top level")
                seen.add(value)
                key = value
            elif key in ("nodes", "edges"):
                raise CubeFormatError(f"{TEXTUAL_MEMORY_FILE}: 'nodes' and 'edges' must be lists")
            elif key == "total_nodes":
                shape.total_nodes = value
            elif key == "total_edges":
                shape.total_edges = value
        elif depth == 2 and key == "edges" and shape is not None:
            shape.edge_count += 1  # a scalar where an edge should be: refused by the edge check
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


def _syntax_error(exc: ijson.JSONError, consumed: int) -> CubeFormatError:
    """yajl's message as one line: what is wrong and about where (NaN and Infinity named), never the text
    around it: the file may not be the caller's to read (its content must not reach the answer)."""
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
    if not _PLAIN_MESSAGE.fullmatch(what):  # yajl's messages are fixed texts; anything else may quote the file
        what = "unexpected text"
    where = max(0, consumed - READ_SIZE)
    return CubeFormatError(
        f"{TEXTUAL_MEMORY_FILE} is not valid JSON (truncated?): {what}, within bytes {where}-{consumed} of the file"
    )

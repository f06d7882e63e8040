"""Checks of the JSON a caller stores beside a memory's text (metadata, an update's merge, an imported entry's
metadata and provenance nodes): JSON values only, nesting and strings bounded, the whole no larger than a text.
Every refusal is InvalidInput and happens before any write."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel

from memos_graph.config import MAX_METADATA_DEPTH, MAX_NAME_CHARS, LimitSettings
from memos_graph.domain.memory import TextualMemoryMetadata, checked_text
from memos_graph.errors import InvalidInput
from memos_graph.services.paths import MAX_PATH_BYTES

# Lists and objects in metadata nested deeper than MAX_METADATA_DEPTH (config.py) are refused: serialisers give
# up on deep values (pydantic at 255 levels, json at the recursion limit). The check walks the value with a
# stack, so no depth can make it recurse.
# Metadata fields outside the size limit: the vector, and the search score, are the server's.
_UNMEASURED = frozenset({"embedding", "relativity"})


def check_metadata(metadata: TextualMemoryMetadata, limits: LimitSettings) -> None:
    """Metadata a caller sets: JSON values only (finite numbers: JSON has no NaN or Infinity), lists and objects
    nested at most MAX_METADATA_DEPTH deep, every string in it (tags, key, extra keys and values, ...) bounded,
    without NUL or lone surrogates, and the whole of it no larger than a memory's text."""
    values = metadata_values(metadata)
    check_json_value(values, "metadata", limits.max_memory_chars)
    size = json_size(values)
    if size > limits.max_memory_chars:
        raise InvalidInput(f"metadata has {size} characters as JSON; the limit is {limits.max_memory_chars}")


def check_updated_metadata(
    current: TextualMemoryMetadata, update: TextualMemoryMetadata, limits: LimitSettings
) -> None:
    """The size limit on the metadata an update would leave a memory with, not only on the update's own keys:
    the current metadata with the fields the update sets replaced and its extra keys merged in (the update's
    win). `sources` count when the update sets them; sources it keeps were written by the server from the
    messages or chunks the memory derives from (each bounded by the text limit) or by an earlier update under
    this check. Both states must have passed check_metadata (the update's here, before this)."""
    merged = metadata_values(current)
    if "sources" not in update.model_fields_set:
        merged.pop("sources", None)
    merged.update({name: value for name, value in metadata_values(update).items() if name in update.model_fields_set})
    size = json_size(merged)
    if size > limits.max_memory_chars:
        raise InvalidInput(
            f"metadata would have {size} characters as JSON after this update (the memory's metadata with the"
            f" update's merged in); the limit is {limits.max_memory_chars}"
        )


def metadata_values(metadata: TextualMemoryMetadata) -> dict[str, Any]:
    """The metadata's fields and extra keys as they are (not serialised: that would turn NaN into null and
    fail on deep values), without the embedding and the search score."""
    fields = {name: getattr(metadata, name) for name in type(metadata).model_fields if name not in _UNMEASURED}
    return fields | metadata.extra_fields()


def check_imported_metadata(metadata: TextualMemoryMetadata, limits: LimitSettings) -> None:
    """An imported memory's (or version's) metadata: check_metadata's limits (JSON values, depth, every string
    bounded, the whole no larger than a memory's text), except that `sources` are measured on their own,
    against limits.max_chars_per_add: the server writes sources itself (the messages a memory derives from,
    merged over later adds), so a dump may hold more of them than a caller may set, but never more than this."""
    values = metadata_values(metadata)
    sources = values.pop("sources", None) or []
    check_json_value(values, "metadata", limits.max_memory_chars)
    size = json_size(values)
    if size > limits.max_memory_chars:
        raise InvalidInput(f"metadata has {size} characters as JSON; the limit is {limits.max_memory_chars}")
    check_json_value(sources, "metadata.sources", limits.max_memory_chars)
    size = json_size(sources)
    if size > limits.max_chars_per_add:
        raise InvalidInput(f"metadata.sources has {size} characters as JSON; the limit is {limits.max_chars_per_add}")


def check_provenance_node(kind: str, text: str, properties: dict[str, Any], limits: LimitSettings) -> None:
    """An imported message or document node: the limits an add puts on what it stores of one. Its text (a
    message's content) at most max_memory_chars; its key as an add makes them (a message id of at most
    MAX_NAME_CHARS characters, or a document path of at most MAX_PATH_BYTES bytes, which Neo4j's key index
    also needs); its other properties JSON values with bounded strings, no larger than a memory's text."""
    if len(text) > limits.max_memory_chars:
        raise InvalidInput(f"its text has {len(text)} characters; the limit is {limits.max_memory_chars}")
    key = str(properties.get("key", ""))
    if kind == "message" and len(key) > MAX_NAME_CHARS:
        raise InvalidInput(f"metadata.key has {len(key)} characters; a message key has at most {MAX_NAME_CHARS}")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise InvalidInput(f"metadata.key is over {MAX_PATH_BYTES} bytes; a document key (its path) is at most that")
    content = properties.get("content")
    rest = {name: value for name, value in properties.items() if name != "content"}
    check_json_value(content, "metadata.content", limits.max_memory_chars)
    check_json_value(rest, "metadata", limits.max_memory_chars)
    size = json_size(rest)
    if size > limits.max_memory_chars:
        raise InvalidInput(f"metadata has {size} characters as JSON; the limit is {limits.max_memory_chars}")


def json_size(value: object) -> int:
    """Characters of the value as JSON (pydantic models inside as their fields); the value must have passed
    check_json_value."""
    return len(json.dumps(value, ensure_ascii=False, default=dict))


def check_strings(value: object, where: str, max_chars: int) -> None:
    """A JSON-like value from a caller (metadata, or an `extra` object): see check_json_value."""
    check_json_value(value, where, max_chars)


def check_json_value(value: object, where: str, max_chars: int, max_depth: int = MAX_METADATA_DEPTH) -> None:
    """A caller's JSON-like value: strings (keys included) bounded, without NUL or lone surrogates (blank is
    fine); numbers finite; lists and objects nested at most max_depth deep; nothing that is not JSON.

    Walks with an explicit stack, checking depth before descending: no input can raise RecursionError.
    Pydantic models inside (sources) count as objects of their fields and extra keys.
    """
    stack: list[tuple[object, str, int]] = [(value, where, 1)]
    while stack:
        item, place, depth = stack.pop()
        if isinstance(item, BaseModel):
            item = dict(item)  # declared fields, then extra keys
        if isinstance(item, str):
            _check_string(item, place, max_chars)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise InvalidInput(f"{_short(place)} is {item}: numbers must be finite (JSON has no NaN or Infinity)")
        elif item is None or isinstance(item, int):  # bool is an int
            continue
        elif isinstance(item, dict | list | tuple):
            if depth > max_depth:
                raise InvalidInput(
                    f"{where} is nested more than {max_depth} levels deep (lists and objects, at {_short(place)})"
                )
            children: list[tuple[object, str, int]] = []
            if isinstance(item, dict):
                for key, child in item.items():
                    label = str(key)[:40]
                    _check_key(key, f"{place} key {label!r}", max_chars)
                    children.append((child, f"{place}.{label}", depth + 1))
            else:
                children = [(child, f"{place}[{index}]", depth + 1) for index, child in enumerate(item)]
            stack.extend(reversed(children))  # popped in order: the first problem is the one reported
        else:
            raise InvalidInput(
                f"{_short(place)} must be a JSON value (string, number, boolean, null, list or object),"
                f" not {type(item).__name__}"
            )


def _check_string(text: str, place: str, max_chars: int) -> None:
    if text.strip():  # blank strings are fine inside a JSON value
        checked_text(text, _short(place), max_chars, InvalidInput)


def _check_key(key: object, place: str, max_chars: int) -> None:
    if isinstance(key, str):
        _check_string(key, place, max_chars)
    elif isinstance(key, float) and not math.isfinite(key):
        raise InvalidInput(f"{_short(place)} is {key}: numbers must be finite (JSON has no NaN or Infinity)")
    elif not (key is None or isinstance(key, int | float)):
        raise InvalidInput(f"{_short(place)} must be a string, not {type(key).__name__}")


def _short(place: str, limit: int = 160) -> str:
    """A place in a value for a message: deep places are cut in the middle."""
    return place if len(place) <= limit else f"{place[: limit // 2]}...{place[-limit // 2 :]}"

"""Input checks at the service boundary: every refusal is InvalidInput and happens before any write."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from memos_graph.config import MAX_METADATA_DEPTH, MAX_NAME_CHARS, LimitSettings
from memos_graph.domain.filters import NO_FILTER, MemoryFilter, VersionKey
from memos_graph.domain.memory import TextualMemoryMetadata, canonical_uuid, checked_text, is_encodable
from memos_graph.domain.time_spans import parse_moment
from memos_graph.errors import InvalidInput
from memos_graph.services.paths import MAX_PATH_BYTES

# User and cube ids: what MemOS uses (uuids, slugs, names with dots) but no spaces, slashes or control
# characters, so ids are safe in paths and logs. Matched with fullmatch: `$` would also match before a final
# newline, letting "c1\n" in next to "c1".
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]*")
_WHITESPACE = re.compile(r"\s+")


def is_valid_id(value: object, limits: LimitSettings) -> bool:
    """Whether the value is a well-formed user or cube id."""
    return isinstance(value, str) and 0 < len(value) <= limits.max_id_chars and bool(_ID_PATTERN.fullmatch(value))


def is_valid_cube_id(value: object, limits: LimitSettings) -> bool:
    """Whether the value is a well-formed cube id: segments of the id alphabet joined by single slashes, as
    MemOS's hub names ("Ki-Seki/mem_cube_2"); so no empty, "." or ".." segment, no leading or trailing slash."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= limits.max_id_chars
        and all(_ID_PATTERN.fullmatch(segment) for segment in value.split("/"))
    )


def _checked(value: object, what: str, valid: bool, rule: str) -> str:
    """`value` when it is a non-empty string that is `valid`; InvalidInput naming the `rule` otherwise."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string")
    if not valid:
        raise InvalidInput(f"{what} must be {rule}")
    return value


def check_cube_id(value: object, what: str, limits: LimitSettings) -> str:
    """A cube id: like a user id, and slashes may join segments (MemOS's "owner/name" cube ids)."""
    return _checked(
        value,
        what,
        is_valid_cube_id(value, limits),
        f"1-{limits.max_id_chars} characters: segments of letters, digits and . _ : @ -, each starting with a "
        "letter or digit, joined by single slashes (such as owner/cube_name)",
    )


def check_id(value: object, what: str, limits: LimitSettings) -> str:
    """A user or cube id: non-empty, bounded, from a safe alphabet."""
    return _checked(
        value,
        what,
        is_valid_id(value, limits),
        f"1-{limits.max_id_chars} characters of letters, digits and . _ : @ -, starting with a letter or digit",
    )


def is_valid_memory_id(value: object) -> bool:
    """Whether the value is a memory id in canonical UUID form."""
    return isinstance(value, str) and canonical_uuid(value) == value


# Neo4j's toString of a DATETIME with an offset, as memory_page.cypher returns order keys: seconds always, a
# fraction of 1-9 digits, Z or +HH:MM. Only this form may reach Cypher's datetime() from a cursor: Python's
# fromisoformat takes more (a space for T, offsets to 23:59, any number of fraction digits), which datetime()
# refuses with an error.
_ORDER_KEY = re.compile(
    r"(?P<local>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?(?:Z|(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2}))"
)
MAX_OFFSET_MINUTES = 18 * 60  # the widest offset Neo4j (java.time) takes


def is_page_key(order_key: str, memory_id: str) -> bool:
    """Whether a listing position is one the server gives: Neo4j's text of a datetime with its offset (see
    _ORDER_KEY; a valid date and time, an offset within 18 hours), and a memory id."""
    match = _ORDER_KEY.fullmatch(order_key)
    if not is_valid_memory_id(memory_id) or match is None:
        return False
    if match["sign"] is not None and int(match["hours"]) * 60 + int(match["minutes"]) > MAX_OFFSET_MINUTES:
        return False
    if match["minutes"] is not None and int(match["minutes"]) > 59:
        return False
    try:
        dt.datetime.fromisoformat(match["local"])
    except ValueError:  # no such date or time (Feb 30, 24:00, second 60)
        return False
    return True


def check_memory_id(value: object) -> str:
    """A memory id: a UUID in canonical form."""
    if not isinstance(value, str):
        raise InvalidInput("memory id must be a string")
    canonical = canonical_uuid(value)
    if canonical is None:
        raise InvalidInput(f"memory id must be a UUID, got {value[:64]!r}")
    return canonical


def check_text(value: object, what: str, max_chars: int) -> str:
    """Text that is a string, not blank after trimming, and within the size limit."""
    return checked_text(value, what, max_chars, InvalidInput).strip()


def check_texts(values: str | Sequence[str], limits: LimitSettings) -> list[str]:
    """memory_content: one string or a non-empty list of strings, each checked; the whole call or nothing."""
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, Sequence) or isinstance(items, bytes | bytearray):
        raise InvalidInput("memory_content must be a string or a list of strings")
    if not items:
        raise InvalidInput("memory_content is an empty list")
    if len(items) > limits.max_items_per_add:
        raise InvalidInput(f"{len(items)} items in one add; the limit is {limits.max_items_per_add}")
    return [check_text(item, f"memory_content[{index}]", limits.max_memory_chars) for index, item in enumerate(items)]


def check_reference_time(value: object, zone: dt.tzinfo) -> dt.datetime:
    """When a question is asked: an aware datetime, ISO 8601 text or another moment parse_moment reads (one
    without an offset is in `zone`), or None for now."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(value, dt.datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=zone)
    if isinstance(value, str):
        moment = parse_moment(value, zone)
        if moment is not None:
            return moment
        raise InvalidInput(f"reference_time {value[:64]!r} is not a time (ISO 8601 such as 2023-05-08T13:56:00+08:00)")
    raise InvalidInput(f"reference_time must be a datetime or ISO 8601 text, not {type(value).__name__}")


def check_filter(value: object, limits: LimitSettings) -> MemoryFilter:
    """A search or listing filter: None (every memory), a MemoryFilter, or a mapping of its fields (MemOS-style
    singular keys such as memory_type or session_id too); every string bounded like a query."""
    if value is None:
        return NO_FILTER
    if isinstance(value, MemoryFilter):
        found = value
    elif isinstance(value, dict):
        try:
            found = MemoryFilter.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "filter"
            raise InvalidInput(f"filter {where}: {first['msg']}") from None
    else:
        raise InvalidInput(f"filter must be a mapping of conditions, not {type(value).__name__}")
    for name, entry in found.parameters().items():
        for text in entry if isinstance(entry, list) else [entry]:
            if isinstance(text, str) and (
                len(text) > limits.max_query_chars or not is_encodable(text) or "\x00" in text
            ):
                raise InvalidInput(
                    f"filter {name}: a value is over {limits.max_query_chars} characters, "
                    "holds NUL or is not valid Unicode"
                )
    return found


def check_top_k(value: object, default: int, limits: LimitSettings) -> int:
    """top_k: None means the configured default; otherwise 1..max_top_k."""
    if value is None:
        return min(default, limits.max_top_k)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limits.max_top_k:
        raise InvalidInput(f"top_k must be an integer from 1 to {limits.max_top_k}")
    return value


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


# A stored vector whose length (as the float32 Neo4j keeps) lies outside these bounds is not used: cosine
# similarity fails on a zero vector (every search of its cube then fails) and on one that overflows.
MIN_VECTOR_NORM, MAX_VECTOR_NORM = 1e-6, 1e6


def is_usable_vector(vector: Sequence[float]) -> bool:
    """Whether a vector from outside (an imported file) can be stored for cosine search: every component
    finite as float32, and a length between MIN_VECTOR_NORM and MAX_VECTOR_NORM."""
    with np.errstate(over="ignore", invalid="ignore"):
        array = np.asarray(vector, dtype=np.float32)
        if array.ndim != 1 or not bool(np.isfinite(array).all()):
            return False
        norm = float(np.linalg.norm(array))
    return math.isfinite(norm) and MIN_VECTOR_NORM < norm < MAX_VECTOR_NORM


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


def content_hash(text: str) -> str:
    """Identity of a memory's text within a cube: Unicode-normalised, whitespace folded, case kept."""
    normalised = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


ROLES = ("user", "assistant", "system")


def check_messages(messages: object, limits: LimitSettings) -> list[dict[str, str | None]]:
    """Chat messages: a non-empty list of {role, content[, chat_time, message_id, name]}; all or nothing."""
    if not isinstance(messages, list | tuple) or not messages:
        raise InvalidInput("messages must be a non-empty list of {role, content} objects")
    if len(messages) > limits.max_items_per_add:
        raise InvalidInput(f"{len(messages)} messages in one add; the limit is {limits.max_items_per_add}")
    checked: list[dict[str, str | None]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise InvalidInput(f"{where} must be an object with role and content")
        role = message.get("role")
        if role not in ROLES:
            raise InvalidInput(f"{where}.role must be one of {', '.join(ROLES)}")
        entry: dict[str, str | None] = {
            "role": str(role),
            "content": check_text(message.get("content"), f"{where}.content", limits.max_memory_chars),
        }
        for optional in ("chat_time", "message_id", "name"):
            value = message.get(optional)
            entry[optional] = None if value is None else check_text(value, f"{where}.{optional}", MAX_NAME_CHARS)
        checked.append(entry)
    return checked


# The most memories one page of a listing returns, and the most versions one page of a memory's history does.
MAX_PAGE = 100


def check_page_size(first: object, most: int | None) -> None:
    """A page size: an integer from 1 to `most` (None: no upper bound)."""
    if isinstance(first, bool) or not isinstance(first, int) or first < 1 or (most is not None and first > most):
        raise InvalidInput("first must be a positive integer" if most is None else f"first must be from 1 to {most}")


def check_version_key(after: VersionKey) -> None:
    """A history position the server could have given: a 64-bit version number and a version id (a UUID)."""
    version, version_id = after.version, after.version_id
    if isinstance(version, bool) or not isinstance(version, int) or not -(2**63) <= version < 2**63:
        raise InvalidInput("malformed cursor")
    if not is_valid_memory_id(version_id):
        raise InvalidInput("malformed cursor")

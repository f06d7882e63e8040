"""Input checks at the service boundary: every refusal is InvalidInput and happens before any write."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Sequence

from memos_graph.config import LimitSettings
from memos_graph.domain.memory import TextualMemoryMetadata, text_problem
from memos_graph.errors import InvalidInput

# User and cube ids: what MemOS uses (uuids, slugs, names with dots) but no spaces, slashes or control
# characters, so ids are safe in paths and logs.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
_WHITESPACE = re.compile(r"\s+")


def is_valid_id(value: object, limits: LimitSettings) -> bool:
    """Whether the value is a well-formed user or cube id."""
    return isinstance(value, str) and 0 < len(value) <= limits.max_id_chars and bool(_ID_PATTERN.match(value))


def check_id(value: object, what: str, limits: LimitSettings) -> str:
    """A user or cube id: non-empty, bounded, from a safe alphabet."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{what} must be a non-empty string")
    if not is_valid_id(value, limits):
        raise InvalidInput(
            f"{what} must be 1-{limits.max_id_chars} characters of letters, digits and . _ : @ -,"
            " starting with a letter or digit"
        )
    return value


def check_memory_id(value: object) -> str:
    """A memory id: a UUID in canonical form."""
    if not isinstance(value, str):
        raise InvalidInput("memory id must be a string")
    try:
        return str(uuid.UUID(value))
    except ValueError as exc:
        raise InvalidInput(f"memory id must be a UUID, got {value[:64]!r}") from exc


def check_text(value: object, what: str, max_chars: int) -> str:
    """Text that is a string, not blank after trimming, and within the size limit."""
    problem = text_problem(value, max_chars)
    if problem is not None:
        raise InvalidInput(f"{what} {problem}")
    assert isinstance(value, str)
    return value.strip()


def check_texts(values: str | Sequence[str], limits: LimitSettings) -> list[str]:
    """memory_content: one string or a non-empty list of strings, each checked; the whole call or nothing."""
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, Sequence) or isinstance(items, bytes | bytearray):
        raise InvalidInput("memory_content must be a string or a list of strings")
    if not items:
        raise InvalidInput("memory_content is an empty list")
    if len(items) > limits.max_items_per_add:
        raise InvalidInput(f"{len(items)} items in one add; the limit is {limits.max_items_per_add}")
    return [
        check_text(item, f"memory_content[{index}]", limits.max_memory_chars) for index, item in enumerate(items)
    ]


def check_top_k(value: object, default: int, limits: LimitSettings) -> int:
    """top_k: None means the configured default; otherwise 1..max_top_k."""
    if value is None:
        return min(default, limits.max_top_k)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limits.max_top_k:
        raise InvalidInput(f"top_k must be an integer from 1 to {limits.max_top_k}")
    return value


def check_metadata(metadata: TextualMemoryMetadata, limits: LimitSettings) -> None:
    """Metadata a caller sets: every string in it (tags, key, extra keys and values, ...) bounded, without NUL
    or lone surrogates, and the whole of it no larger than a memory's text."""
    dumped = metadata.model_dump(mode="json", exclude={"embedding", "relativity"})
    check_strings(dumped, "metadata", limits.max_memory_chars)
    size = len(json.dumps(dumped, ensure_ascii=False))
    if size > limits.max_memory_chars:
        raise InvalidInput(f"metadata has {size} characters as JSON; the limit is {limits.max_memory_chars}")


def check_strings(value: object, where: str, max_chars: int) -> None:
    """Every string inside a JSON-like value (keys included): bounded, no NUL, no lone surrogates; blank is fine."""
    for place, text in _strings(value, where):
        problem = text_problem(text, max_chars) if text.strip() else None
        if problem is not None:
            raise InvalidInput(f"{place} {problem}")


def _strings(value: object, where: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(where, value)]
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found += _strings(str(key), f"{where} key {str(key)[:40]!r}") + _strings(item, f"{where}.{key}")
        return found
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in _strings(item, f"{where}[{index}]")]
    return []


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
            entry[optional] = None if value is None else check_text(value, f"{where}.{optional}", 256)
        checked.append(entry)
    return checked

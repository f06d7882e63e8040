"""Input checks at the service boundary: every refusal is InvalidInput and happens before any write."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
from pydantic import ValidationError

from memos_graph.config import MAX_NAME_CHARS, LimitSettings
from memos_graph.domain.filters import NO_FILTER, MemoryFilter, VersionKey
from memos_graph.domain.memory import canonical_uuid, checked_text, is_encodable
from memos_graph.domain.time_spans import parse_moment
from memos_graph.errors import InvalidInput

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

"""TextualMemoryItem: the memory record of the MOS API, shaped as MemOS shapes it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def text_problem(value: object, max_chars: int) -> str | None:
    """Why a value cannot be a memory's text (not a string, blank, too long, NUL inside), or None if it can."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    text = value.strip()
    if not text:
        return "is empty"
    if len(text) > max_chars:
        return f"has {len(text)} characters; the limit is {max_chars}"
    if "\x00" in text:
        return "contains a NUL character"
    if not is_encodable(text):
        return "is not valid Unicode (a lone surrogate)"
    return None


def checked_text(value: object, where: str, max_chars: int, error: Callable[[str], Exception]) -> str:
    """The value when text_problem finds nothing wrong with it; `error("<where> <problem>")` raised otherwise
    (each caller's own error type: InvalidInput for calls, CubeFormatError for a cube directory's entries)."""
    problem = text_problem(value, max_chars)
    if problem is not None:
        raise error(f"{where} {problem}")
    assert isinstance(value, str)
    return value


def canonical_uuid(text: str) -> str | None:
    """The text as a UUID in canonical form, or None when it is not a UUID: the one UUID check."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def is_encodable(text: str) -> bool:
    """Whether the text encodes as UTF-8 (JSON may carry lone surrogates, which nothing downstream takes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# Metadata fields the service keeps itself: set on write, never taken from a caller's metadata.
SERVER_FIELDS = frozenset(
    {"created_at", "updated_at", "version", "relativity", "embedding", "event_start", "event_end", "time_source"}
)


class MemoryStatus(StrEnum):
    """Lifecycle of a memory."""

    ACTIVATED = "activated"
    ARCHIVED = "archived"
    DELETED = "deleted"


class MemoryType(StrEnum):
    """MemOS's memory tiers."""

    WORKING = "WorkingMemory"
    LONG_TERM = "LongTermMemory"
    USER = "UserMemory"


class SourceReference(BaseModel):
    """Where a memory came from: a message, a document chunk, or the system."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = "system"
    role: str | None = None
    chat_time: str | None = None
    message_id: str | None = None
    content: str | None = None
    doc_path: str | None = None


class TextualMemoryMetadata(BaseModel):
    """Metadata of a memory; keys the caller adds beyond these are kept and returned.

    Mutable as in MemOS (`item.metadata.tags = [...]`, then MOS.update): an assignment is validated, and the
    fields assigned count as set, so the update writes them."""

    model_config = ConfigDict(extra="allow", validate_assignment=True, use_enum_values=True)

    user_id: str | None = None
    session_id: str | None = None
    status: MemoryStatus = MemoryStatus.ACTIVATED
    type: str | None = None
    memory_type: MemoryType = MemoryType.LONG_TERM
    key: str | None = None
    tags: list[str] = Field(default_factory=list)
    confidence: float | None = Field(default=None, ge=0.0, le=100.0)
    source: str | None = None
    sources: list[SourceReference] = Field(default_factory=list)
    created_at: str | None = None
    updated_at: str | None = None
    # Who made the latest edit of this state (None: nobody edited it since user_id wrote it); set by the server.
    updated_by: str | None = None
    background: str | None = None
    # When the memory's event happened (MemOS's field): the day, YYYY-MM-DD. A caller may set it; else the
    # service derives it on add from the text's first time expression ("yesterday", "上周六") read against the
    # message's chat_time (or the time of the add), or the day the message was said.
    memory_time: str | None = None
    # The event's span, [event_start, event_end) as UTC ISO 8601 text, and what it came from ("text": a time
    # expression of the text; "chat_time": the day it was said; "added": the day of the add; "caller":
    # memory_time as given). Set by the service; filters (time_from / time_before) and ranking read them.
    event_start: str | None = None
    event_end: str | None = None
    time_source: str | None = None
    version: int | None = None
    relativity: float | None = None
    embedding: list[float] | None = None

    def extra_fields(self) -> dict[str, Any]:
        """The keys a caller added that are not part of the schema."""
        return dict(self.model_extra or {})


class TextualMemoryItem(BaseModel):
    """One textual memory: an id, its text, and its metadata."""

    # Mutable as in MemOS: change `memory` or metadata fields, then pass the item to MOS.update. Assignments
    # are validated (a memory id stays a UUID).
    model_config = ConfigDict(validate_assignment=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    memory: str
    metadata: TextualMemoryMetadata = Field(default_factory=TextualMemoryMetadata)

    @field_validator("id")
    @classmethod
    def _id_is_uuid(cls, value: str) -> str:
        canonical = canonical_uuid(value)
        if canonical is None:
            raise ValueError(f"memory id must be a UUID, got {value!r}")
        return canonical

    @property
    def memory_id(self) -> str:
        """Alias used by MemOS's documentation examples."""
        return self.id

    @property
    def created_at(self) -> str | None:
        """Alias used by MemOS's documentation examples."""
        return self.metadata.created_at

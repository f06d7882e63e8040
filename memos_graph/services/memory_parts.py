"""What an add derives from its input beside the vector: a message's memory text, the text embedded for it
(with the messages before it), its `sources` entry and :Message rows; and a memory's event time."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from memos_graph.domain import SourceReference, TextualMemoryMetadata
from memos_graph.domain.temporal import event_fields
from memos_graph.domain.time_spans import parse_moment
from memos_graph.services.validation import content_hash

# The "[chat_time] " that opens a memory taken from a message (message_text).
CHAT_TIME_PREFIX = re.compile(r"^\[[^\]\n]{1,64}\]\s*")
# The event time a memory's text, sources and memory_time give it (domain.temporal.event_fields).
TIME_FIELDS = frozenset({"memory_time", "event_start", "event_end", "time_source"})


def with_event_time(
    metadata: TextualMemoryMetadata, text: str, added_at: dt.datetime, zone: dt.tzinfo
) -> TextualMemoryMetadata:
    """The metadata with the memory's event time (memory_time, event_start, event_end, time_source; see
    domain.temporal.event_fields): read against the latest chat_time of its sources, else the time of the add.
    A memory taken from one message reads the message's content (its text opens with the chat_time itself);
    others (facts, documents, texts) read their own text."""
    said = [moment for s in metadata.sources if s.chat_time and (moment := parse_moment(s.chat_time, zone))]
    content = text
    if len(metadata.sources) == 1 and metadata.sources[0].content and metadata.sources[0].type == "chat":
        content = metadata.sources[0].content
    fields = event_fields(content, max(said) if said else None, added_at, metadata.memory_time)
    return metadata.model_copy(update=fields)


def message_text(message: dict[str, str | None]) -> str:
    """A message as memory text: "[chat_time] speaker: content" (speaker is the name, else the role)."""
    text = f"{message['name'] or message['role']}: {message['content']}"
    return f"[{message['chat_time']}] {text}" if message["chat_time"] else text


def with_context(text: str, before: Sequence[dict[str, str | None]]) -> str:
    """The text to embed for a message: its own text, then the messages before it ("speaker: content")."""
    if not before:
        return text
    context = " ".join(f"{m['name'] or m['role']}: {m['content']}" for m in before)
    return f"{text} (after: {context})"


def message_source(message: dict[str, str | None]) -> SourceReference:
    """The `sources` entry naming a message."""
    return SourceReference(
        type="chat",
        role=message["role"],
        chat_time=message["chat_time"],
        message_id=message["message_id"],
        content=message["content"],
        **({"name": message["name"]} if message["name"] else {}),
    )


def message_nodes(messages: Sequence[dict[str, str | None]], session_id: str | None) -> list[dict[str, Any]]:
    """:Message node properties, keyed by message_id (or a hash of session, role, time and text)."""
    nodes = []
    for message in messages:
        parts = (session_id, message["role"], message["chat_time"], message_text(message))
        key = message["message_id"] or content_hash("\x1f".join(str(part) for part in parts))
        properties: dict[str, Any] = {name: value for name, value in message.items() if value is not None}
        nodes.append({**properties, "key": key, "session_id": session_id})
    return nodes

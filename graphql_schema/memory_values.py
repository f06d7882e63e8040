"""A memory's plain GraphQL parts: its metadata, its sources and its earlier versions (no field here loads
anything), and `when`, the DateTime of the domain's ISO text."""

from __future__ import annotations

import datetime as dt
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graphql_schema.enums import MemorySourceKind, MemoryStatusEnum, source_kind
from memos_graph.domain import TextualMemoryItem


def when(text: str | None) -> dt.datetime | None:
    """A DateTime from the ISO text the domain carries."""
    return None if not text else dt.datetime.fromisoformat(text)


@strawberry.type(description="Where a memory came from.")
class MemorySource:
    type: str
    role: str | None
    chat_time: str | None
    message_id: str | None
    content: str | None
    doc_path: str | None


@strawberry.type(description="A memory's metadata (TextualMemoryItem.metadata).")
class MemoryMetadata:
    user_id: str | None
    session_id: str | None
    status: MemoryStatusEnum
    type: str | None
    memory_type: str
    key: str | None
    tags: list[str]
    confidence: float | None
    source: str | None
    source_kind: MemorySourceKind | None = strawberry.field(description="metadata.source as an enum.")
    sources: list[MemorySource]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    updated_by: str | None = strawberry.field(
        description="Who made the latest edit of this state (null: unedited since userId wrote it)."
    )
    background: str | None
    memory_time: str | None = strawberry.field(
        description="When the memory's event happened, YYYY-MM-DD (set on add from the text and chat_time, or given)."
    )
    event_start: dt.datetime | None = strawberry.field(description="The event's span starts (included).")
    event_end: dt.datetime | None = strawberry.field(description="The event's span ends (excluded).")
    time_source: str | None = strawberry.field(
        description="Where the event time came from: text, chat_time, added or caller."
    )
    version: int | None
    relativity: float | None = strawberry.field(
        description="Search relevance in [0, 1], higher is better (search results only)."
    )
    extra: JSON = strawberry.field(description="Keys the caller added beyond the schema.")

    @classmethod
    def of(cls, item: TextualMemoryItem) -> MemoryMetadata:
        meta = item.metadata
        return cls(
            user_id=meta.user_id,
            session_id=meta.session_id,
            status=MemoryStatusEnum(str(meta.status)),
            type=meta.type,
            memory_type=str(meta.memory_type),
            key=meta.key,
            tags=list(meta.tags),
            confidence=meta.confidence,
            source=meta.source,
            source_kind=source_kind(meta.source),
            sources=[
                MemorySource(
                    type=s.type,
                    role=s.role,
                    chat_time=s.chat_time,
                    message_id=s.message_id,
                    content=s.content,
                    doc_path=s.doc_path,
                )
                for s in meta.sources
            ],
            created_at=when(meta.created_at),
            updated_at=when(meta.updated_at),
            updated_by=meta.updated_by,
            background=meta.background,
            memory_time=meta.memory_time,
            event_start=when(meta.event_start),
            event_end=when(meta.event_end),
            time_source=meta.time_source,
            version=meta.version,
            relativity=meta.relativity,
            extra=cast(JSON, meta.extra_fields()),
        )


@strawberry.type(description="An earlier state of a memory, kept when it was updated.")
class MemoryVersion:
    id: strawberry.ID = strawberry.field(description="The version's own id.")
    memory_id: strawberry.ID = strawberry.field(description="The memory it is a version of.")
    version: int | None
    memory: str
    updated_by: str | None = strawberry.field(description="Who made this state (null: its author, userId).")
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    metadata: MemoryMetadata

    @classmethod
    def of(cls, item: TextualMemoryItem, memory_id: str) -> MemoryVersion:
        """From a MemoryVersion node's item, a version of the memory `memory_id`."""
        return cls(
            id=strawberry.ID(item.id),
            memory_id=strawberry.ID(memory_id),
            version=item.metadata.version,
            memory=item.memory,
            updated_by=item.metadata.updated_by,
            created_at=when(item.metadata.created_at),
            updated_at=when(item.metadata.updated_at),
            metadata=MemoryMetadata.of(item),
        )

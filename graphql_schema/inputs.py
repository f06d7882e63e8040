"""GraphQL input types."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from graphql_schema.enums import MemoryStatusEnum, Role, SharePermission
from memos_graph.domain import Direction, MemoryFilter, MemoryOrder, OrderField


@strawberry.input(description="A new user; the caller must be ROOT or ADMIN.")
class CreateUserInput:
    id: strawberry.ID
    name: str | None = None
    role: Role = Role.USER


@strawberry.input(description="A new cube. Without ownerId the caller owns it.")
class CreateCubeInput:
    name: str
    owner_id: strawberry.ID | None = None
    path: str | None = None
    id: strawberry.ID | None = None


@strawberry.input(description="A chat message; chatTime and messageId survive into the memory's sources.")
class MessageInput:
    role: str
    content: str
    chat_time: str | None = None
    message_id: str | None = None
    name: str | None = strawberry.field(default=None, description="The speaker's name, if not just the role.")


@strawberry.input(
    description="What to add: exactly one of content, messages, docPath. Without cubeId, the caller's default cube."
)
class AddMemoriesInput:
    cube_id: strawberry.ID | None = None
    session_id: str | None = None
    content: list[str] | None = None
    messages: list[MessageInput] | None = None
    doc_path: str | None = None


@strawberry.input(description="New text and metadata for a memory; fields left out stay as they are.")
class UpdateMemoryInput:
    cube_id: strawberry.ID
    id: strawberry.ID
    memory: str
    tags: list[str] | None = None
    key: str | None = None
    type: str | None = None
    confidence: float | None = None
    background: str | None = None
    memory_time: str | None = strawberry.field(
        default=None, description="When the memory's event happened (YYYY-MM-DD or ISO 8601)."
    )
    extra: JSON | None = strawberry.field(default=None, description="Extra metadata keys, kept and returned.")


@strawberry.input(description="A time range: from `gte` (included) to `lt` (excluded); either may be left out.")
class DateTimeRange:
    gte: dt.datetime | None = None
    lt: dt.datetime | None = None


@strawberry.input(
    description="Conditions a memory must all meet (those left out always hold). Lists match any of their "
    "values; tagsAll needs every tag. In search, the filter applies inside each cube's ranking, before its topK."
)
class MemoryWhere:
    memory_type: list[str] | None = strawberry.field(
        default=None, description="WorkingMemory, LongTermMemory, UserMemory."
    )
    type: list[str] | None = None
    source: list[str] | None = None
    session_id: list[str] | None = None
    status: list[MemoryStatusEnum] | None = None
    tags_any: list[str] | None = None
    tags_all: list[str] | None = None
    created_at: DateTimeRange | None = None
    updated_at: DateTimeRange | None = None
    event_time: DateTimeRange | None = strawberry.field(
        default=None, description="When the memory's event happened (metadata eventStart..eventEnd) overlaps this."
    )
    text_contains: str | None = strawberry.field(default=None, description="In the text, ignoring case.")

    def to_filter(self) -> dict[str, object]:
        """The service's filter (memos_graph.domain.MemoryFilter) fields; the service validates them."""
        fields: dict[str, object] = {
            "memory_types": self.memory_type,
            "types": self.type,
            "sources": self.source,
            "session_ids": self.session_id,
            "statuses": None if self.status is None else [status.value for status in self.status],
            "tags_any": self.tags_any,
            "tags_all": self.tags_all,
            "text_contains": self.text_contains,
        }
        for prefix, span in (("created", self.created_at), ("updated", self.updated_at), ("time", self.event_time)):
            if span is not None:
                fields[f"{prefix}_from"], fields[f"{prefix}_before"] = span.gte, span.lt
        return {name: value for name, value in fields.items() if value is not None}


def filter_of(where: MemoryWhere | None) -> dict[str, object] | MemoryFilter | None:
    return None if where is None else where.to_filter()


@strawberry.enum(name="MemoryOrderField", description="What a listing of memories is ordered by.")
class MemoryOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum(description="Ascending or descending.")
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(name="MemoryOrder", description="A listing's order; ties go by memory id, the same way.")
class MemoryOrderInput:
    field: MemoryOrderField = MemoryOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.ASC

    def to_order(self) -> MemoryOrder:
        return MemoryOrder(field=OrderField(self.field.value), direction=Direction(self.direction.value))


__all__ = [
    "AddMemoriesInput",
    "DateTimeRange",
    "MemoryOrderInput",
    "MemoryWhere",
    "CreateCubeInput",
    "CreateUserInput",
    "MessageInput",
    "Role",
    "SharePermission",
    "UpdateMemoryInput",
]

"""MemoryFilter: which memories a search or a listing considers; MemoryOrder: the order a listing returns;
PageKey: where a page of a listing starts; VersionKey: where a page of a memory's history starts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memos_graph.domain.memory import MemoryStatus, MemoryType
from memos_graph.domain.time_spans import iso_utc

# MemOS-style singular keys (an exact value) accepted for the list fields (any of the values).
SINGULAR_KEYS = {
    "memory_type": "memory_types",
    "type": "types",
    "source": "sources",
    "session_id": "session_ids",
    "status": "statuses",
    "tags": "tags_all",
}
MAX_FILTER_VALUES = 100


class MemoryFilter(BaseModel):
    """Conditions a memory must all meet; an unset one always holds. Lists match any of their values (tags_all:
    every one). Time ranges include their start (`*_from`) and exclude their end (`*_before`), and need a
    timezone; time_from / time_before keep the memories whose event span overlaps the range (a memory without
    one, stored before event times existed, does not pass). text_contains matches the text without regard to case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    memory_types: list[MemoryType] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    types: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    sources: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    session_ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    statuses: list[MemoryStatus] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    tags_any: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    tags_all: list[str] | None = Field(default=None, min_length=1, max_length=MAX_FILTER_VALUES)
    created_from: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_from: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    # The memory's event span (metadata.event_start / event_end) overlaps [time_from, time_before).
    time_from: dt.datetime | None = None
    time_before: dt.datetime | None = None
    text_contains: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _singular_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for singular, plural in SINGULAR_KEYS.items():
            if singular in data:
                if plural in data:
                    raise ValueError(f"give {singular} or {plural}, not both")
                value = data.pop(singular)
                data[plural] = value if isinstance(value, list) else [value]
        return data

    @field_validator("created_from", "created_before", "updated_from", "updated_before", "time_from", "time_before")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("needs a timezone (an offset such as +00:00 or Z)")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> MemoryFilter:
        for name, start, end in (
            ("created", self.created_from, self.created_before),
            ("updated", self.updated_from, self.updated_before),
            ("time", self.time_from, self.time_before),
        ):
            if start is not None and end is not None and start >= end:
                raise ValueError(f"{name}_from must be before {name}_before")
        return self

    def is_empty(self) -> bool:
        """Whether every memory passes."""
        return not self.model_fields_set or all(getattr(self, name) is None for name in type(self).model_fields)

    def choices(self) -> tuple[tuple[str, str], ...]:
        """The query choice that leaves the filter out of a statement when it holds for every memory (see
        memos_graph/graph/queries.py): an unfiltered search costs what it did before filters existed."""
        return (("memory_filter", "off"),) if self.is_empty() else ()

    def parameters(self) -> dict[str, Any]:
        """The $filter map of cypher/fragments/memory_filter.cypher: every key, null where unset."""
        values: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        for name in ("memory_types", "statuses"):
            if values[name] is not None:
                values[name] = [str(value) for value in values[name]]
        for name in ("time_from", "time_before"):  # event spans are stored as UTC text (domain.time_spans.iso_utc)
            if values[name] is not None:
                values[name] = iso_utc(values[name])
        if self.text_contains is not None:
            values["text_contains"] = self.text_contains.lower()
        return values


NO_FILTER = MemoryFilter()


class OrderField(StrEnum):
    """What a listing is ordered by (a Memory property)."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class Direction(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class MemoryOrder(BaseModel):
    """A listing's order; ties are broken by memory id in the same direction."""

    model_config = ConfigDict(frozen=True)

    field: OrderField = OrderField.CREATED_AT
    direction: Direction = Direction.ASC


@dataclass(frozen=True)
class PageKey:
    """A position in a listing: the order key (Neo4j's text of the timestamp) and the memory id."""

    order_key: str
    memory_id: str


@dataclass(frozen=True)
class VersionKey:
    """A position in a memory's history (newest first: by version number, then version id, both descending)."""

    version: int
    version_id: str


# A page of history asked for: the memory's cube and id, and the position it starts after (None: the newest).
HistoryRequest = tuple[str, str, VersionKey | None]

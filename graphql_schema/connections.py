"""Relay connections: keyset cursors over a cube's listing in the order asked for and over a memory's history
(newest first), PageInfo, and the connection of a memory's versions. The listing's own connection is built
beside the Memory type it pages (graphql_schema/types.py: memory_connection)."""

from __future__ import annotations

import base64
import json
from typing import Any

import strawberry

from graphql_schema.memory_values import MemoryVersion
from memos_graph.domain import MemoryOrder
from memos_graph.domain.filters import PageKey, VersionKey
from memos_graph.domain.results import VersionPage
from memos_graph.errors import InvalidInput


@strawberry.type(description="Where a page lies in its listing (Relay).")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class MemoryVersionEdge:
    cursor: str
    node: MemoryVersion


@strawberry.type(description="A page of a memory's earlier versions, newest first.")
class MemoryVersionConnection:
    edges: list[MemoryVersionEdge]
    page_info: PageInfo


def encode_cursor(order: MemoryOrder, key: PageKey) -> str:
    """An opaque cursor: the listing's order, the position's order key and memory id."""
    payload = json.dumps([f"{order.field}:{order.direction}", key.order_key, key.memory_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def _cursor_value(cursor: str) -> Any:
    """The JSON a cursor encodes; InvalidInput when it is not base64 of JSON."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("malformed cursor") from exc


def decode_cursor(cursor: str | None, order: MemoryOrder) -> PageKey | None:
    """The position a cursor names; InvalidInput for one this server did not make or one made for another
    order (a cursor belongs to the listing order it came from)."""
    if cursor is None:
        return None
    value = _cursor_value(cursor)
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(part, str) for part in value)):
        raise InvalidInput("malformed cursor")
    if value[0] != f"{order.field}:{order.direction}":
        raise InvalidInput("this cursor belongs to a listing in another order")
    return PageKey(value[1], value[2])


# A history cursor's first element: says what the cursor is a position in (a listing's cursor starts with its order).
VERSION_CURSOR = "version"


def encode_version_cursor(key: VersionKey) -> str:
    """An opaque cursor for a position in a memory's history: the version's number and id."""
    payload = json.dumps([VERSION_CURSOR, key.version, key.version_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode()


def decode_version_cursor(cursor: str | None) -> VersionKey | None:
    """The history position a cursor names; InvalidInput for one this server did not make (a listing's cursor
    included). Its values are checked again by the service (check_version_key)."""
    if cursor is None:
        return None
    value = _cursor_value(cursor)
    if not (
        isinstance(value, list)
        and len(value) == 3
        and value[0] == VERSION_CURSOR
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
        and isinstance(value[2], str)
    ):
        raise InvalidInput("malformed cursor")
    return VersionKey(value[1], value[2])


def version_connection(page: VersionPage, first: int, memory_id: str) -> MemoryVersionConnection:
    """The connection of a history page read with one row more than `first` (that row says another follows)."""
    edges = [
        MemoryVersionEdge(
            cursor=encode_version_cursor(VersionKey(item.metadata.version or 0, item.id)),
            node=MemoryVersion.of(item, memory_id),
        )
        for item in page.items[:first]
    ]
    return MemoryVersionConnection(
        edges=edges,
        page_info=page_info([edge.cursor for edge in edges], len(page.items) > first, page.has_previous),
    )


def page_info(cursors: list[str], has_next: bool, has_previous: bool) -> PageInfo:
    """A page's PageInfo from its edges' cursors, in order."""
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )

"""Relay connections of memories and of a memory's versions: keyset cursors over a cube's listing in the order
asked for, and over a memory's history (newest first)."""

from __future__ import annotations

import base64
import json
from typing import Any

from graphql_schema.context import Info
from graphql_schema.inputs import MemoryOrderInput, MemoryWhere, filter_of
from graphql_schema.types import (
    MemoryConnection,
    MemoryEdge,
    MemoryType,
    MemoryVersion,
    MemoryVersionConnection,
    MemoryVersionEdge,
    PageInfo,
)
from memos_graph.domain import MemoryOrder
from memos_graph.domain.filters import PageKey, VersionKey
from memos_graph.domain.results import VersionPage
from memos_graph.errors import InvalidInput
from memos_graph.services.validation import MAX_PAGE


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


async def memory_connection(
    info: Info,
    cube_id: str,
    where: MemoryWhere | None,
    order_by: MemoryOrderInput | None,
    first: int,
    after: str | None,
) -> MemoryConnection:
    """A page of the cube's memories: `first` of them after the cursor, with the cursors and pageInfo."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidInput(f"first must be from 1 to {MAX_PAGE}")
    order = MemoryOrder() if order_by is None else order_by.to_order()
    position = decode_cursor(after, order)
    condition = filter_of(where)
    ctx = info.context
    page = await ctx.run(lambda: ctx.services.memories.page(ctx.caller, cube_id, condition, order, first, position))
    rows = list(zip(page.items, page.keys, strict=True))[:first]
    edges = [MemoryEdge(cursor=encode_cursor(order, key), node=MemoryType.of(item, cube_id)) for item, key in rows]
    return MemoryConnection(
        edges=edges,
        page_info=page_info([edge.cursor for edge in edges], len(page.items) > first, page.has_previous),
        cube_id=cube_id,
        where=condition,
    )


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

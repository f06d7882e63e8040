"""Conversions between Neo4j values and plain Python values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import neo4j.time


def iso(value: Any) -> str | None:
    """ISO 8601 text for a Neo4j or Python datetime; None stays None."""
    if value is None:
        return None
    if isinstance(value, neo4j.time.DateTime):
        return str(value.to_native().isoformat())
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)

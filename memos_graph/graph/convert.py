"""Conversions between Neo4j values and plain Python values."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import neo4j.time

# Neo4j's toString of a DATETIME: seconds, an optional fraction of up to 9 digits, an offset, maybe a zone id.
_NEO4J_DATETIME = re.compile(
    r"(?P<base>[^.\[]+?)(?:\.(?P<fraction>\d{1,9}))?(?P<offset>Z|[+-]\d{2}:\d{2}(?::\d{2})?)(?:\[[^\]]+\])?"
)


def iso(value: Any) -> str | None:
    """ISO 8601 text for a Neo4j or Python datetime; None stays None."""
    if value is None:
        return None
    if isinstance(value, neo4j.time.DateTime):
        return str(value.to_native().isoformat())
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return iso_from_text(value)
    return str(value)


def iso_from_text(text: str) -> str:
    """The ISO text `iso` gives for a DateTime, from Neo4j's toString of it (queries on hot paths return
    timestamps as text: the driver builds DateTime objects far slower). Nanoseconds are cut to microseconds
    as the driver's DateTime.to_native cuts them; text that is not a Neo4j datetime is returned unchanged."""
    match = _NEO4J_DATETIME.fullmatch(text)
    if match is None:
        return text
    try:
        base = dt.datetime.fromisoformat(match["base"] + match["offset"])
    except ValueError:
        return text
    nanoseconds = int((match["fraction"] or "0").ljust(9, "0"))
    return base.replace(microsecond=nanoseconds // 1000).isoformat()

"""What traversal fields read: messages and documents, derivation edges, shares (values, no storage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from memos_graph.domain.memory import TextualMemoryItem
from memos_graph.domain.users import Permission

ProvenanceLabel = Literal["Message", "Document"]


@dataclass(frozen=True)
class ProvenanceNode:
    """A :Message or :Document of a cube: its key and properties; a message has the keys of its NEXT
    neighbours."""

    label: ProvenanceLabel
    cube_id: str
    key: str
    properties: dict[str, Any]
    next_key: str | None = None
    previous_key: str | None = None


@dataclass(frozen=True)
class Derivation:
    """A DERIVED_FROM edge's kind ('message', 'document', 'update') and what it points to."""

    kind: str
    source: ProvenanceNode | TextualMemoryItem


@dataclass(frozen=True)
class Share:
    """A SHARED_WITH edge: to whom, what it grants, since when (ISO text)."""

    user_id: str
    permission: Permission
    since: str | None

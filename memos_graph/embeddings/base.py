"""The embedder protocol every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors, many at a time."""

    @property
    def model_name(self) -> str:
        """A stable name for the model; stored on cubes so imports know when to re-embed."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector this embedder returns."""
        ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed a batch of texts in one call, in order."""
        ...


@dataclass(frozen=True)
class QueryVector:
    """A question's vector and how to read its cosines: relevance = scale * cosine + offset, clipped to [0, 1]
    (ranking/fusion.py cosine_relevance); the identity for the English model. `multilingual`: the question
    went to the multilingual model (embeddings/routed.py), whose search settings may differ."""

    vector: list[float]
    multilingual: bool = False
    scale: float = 1.0
    offset: float = 0.0


@runtime_checkable
class QueryEmbedder(Protocol):
    """An embedder that embeds questions otherwise than stored texts (embeddings/routed.py)."""

    def embed_query(self, text: str) -> QueryVector:
        """The question's vector."""
        ...

    def stored_similarity_map(self, text: str) -> tuple[float, float]:
        """(scale, offset) reading the cosine of two stored texts like `text` (same-model passages) on the
        English model's scale, for duplicate detection."""
        ...


def embed_query(embedder: Embedder, text: str) -> QueryVector:
    """A question's vector: the embedder's own query embedding where it has one, else its plain embedding."""
    if isinstance(embedder, QueryEmbedder):
        return embedder.embed_query(text)
    (vector,) = embedder.embed([text])
    return QueryVector(list(vector))


def stored_similarity_map(embedder: Embedder, text: str) -> tuple[float, float]:
    """(scale, offset) reading the cosine between stored texts like `text` on the English model's scale:
    the identity unless the embedder says otherwise."""
    if isinstance(embedder, QueryEmbedder):
        return embedder.stored_similarity_map(text)
    return 1.0, 0.0

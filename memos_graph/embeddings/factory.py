"""Build the configured embedder."""

from __future__ import annotations

from memos_graph.config import EmbedderSettings
from memos_graph.embeddings.base import Embedder
from memos_graph.embeddings.sentence_transformer import SentenceTransformerEmbedder


def build_embedder(settings: EmbedderSettings) -> Embedder:
    """Return the embedder the settings name."""
    if settings.backend == "sentence_transformer":
        return SentenceTransformerEmbedder(settings.model, settings.device, settings.batch_size)
    raise AssertionError(f"unhandled embedder backend {settings.backend}")  # pydantic restricts the value

"""Build the configured embedder."""

from __future__ import annotations

import logging

from memos_graph.config import EmbedderSettings
from memos_graph.embeddings.base import Embedder
from memos_graph.embeddings.names import normalise_model_name
from memos_graph.embeddings.sentence_transformer import SentenceTransformerEmbedder

logger = logging.getLogger(__name__)


def build_embedder(settings: EmbedderSettings) -> Embedder:
    """Return the embedder the settings name: on a local backend, unless embedder.multilingual is "off", the
    configured model for Latin-script text and the multilingual model it names for other scripts
    (embeddings/routed.py)."""
    english = build_english_embedder(settings)
    if settings.backend == "litellm" or settings.multilingual == "off":
        return english
    from memos_graph.embeddings.routed import MultilingualModel, RoutedEmbedder

    multilingual: MultilingualModel
    if settings.multilingual == "multilingual-e5-small":
        from memos_graph.embeddings.e5 import E5Embedder

        multilingual = E5Embedder(
            query_threads=settings.multilingual_threads,
            batch_threads=settings.multilingual_batch_threads,
            batch_from=settings.onnx_batch_from,
        )
    else:
        from memos_graph.embeddings.use import UseEmbedder

        multilingual = UseEmbedder(threads=settings.multilingual_threads)
    return RoutedEmbedder(english, multilingual)


def build_english_embedder(settings: EmbedderSettings) -> Embedder:
    """The embedder of `model` alone; "onnx" falls back to torch (logged) when it cannot load."""
    if settings.backend == "onnx":
        if settings.device == "cpu":
            from memos_graph.embeddings.onnx import OnnxEmbedder, OnnxUnavailable

            try:
                return OnnxEmbedder(
                    settings.model,
                    settings.batch_size,
                    threads=settings.onnx_query_threads,
                    batch_threads=settings.onnx_batch_threads,
                    batch_from=settings.onnx_batch_from,
                )
            except OnnxUnavailable as exc:
                logger.warning("embedder: %s; using sentence-transformers (torch) instead, same vectors", exc.message)
        else:
            logger.info("embedder: device %r is not the CPU; using sentence-transformers (torch)", settings.device)
        return SentenceTransformerEmbedder(settings.model, settings.device, settings.batch_size)
    if settings.backend == "sentence_transformer":
        return SentenceTransformerEmbedder(settings.model, settings.device, settings.batch_size)
    if settings.backend == "litellm":
        from memos_graph.embeddings.litellm_embedder import LiteLLMEmbedder

        return LiteLLMEmbedder(settings)
    raise AssertionError(f"unhandled embedder backend {settings.backend}")  # pydantic restricts the value


def same_model(a: str | None, b: str | None) -> bool:
    """Whether two model names name the same model across configs: provider prefix or hub organisation, tag
    and case aside ("ollama/nomic-embed-text" and MemOS's "nomic-embed-text:latest" do)."""
    first, second = normalise_model_name(a), normalise_model_name(b)
    return first is not None and first == second

"""Text embedders: a small protocol and its real implementations."""

from memos_graph.embeddings.base import Embedder
from memos_graph.embeddings.factory import build_embedder

__all__ = ["Embedder", "build_embedder"]

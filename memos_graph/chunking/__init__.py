"""Splitting documents into memory-sized chunks."""

from memos_graph.chunking.documents import Chunk, DocumentChunker

__all__ = ["Chunk", "DocumentChunker"]

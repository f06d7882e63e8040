"""Document chunking with langchain-text-splitters: markdown by its headers, then by size; text by size."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

MARKDOWN_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, with the markdown headings it sits under."""

    index: int
    text: str
    headings: tuple[str, ...]


class DocumentChunker:
    """Splits text into chunks of about `chunk_size` characters with `overlap` characters shared."""

    def __init__(self, chunk_size: int = 1000, overlap: int = 150) -> None:
        self._splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
        self._markdown = MarkdownHeaderTextSplitter(MARKDOWN_HEADERS, strip_headers=False)

    def split(self, text: str, markdown: bool) -> list[Chunk]:
        """Chunks of the text, in order; blank pieces are dropped."""
        sections: list[tuple[str, tuple[str, ...]]]
        if markdown:
            sections = [
                (doc.page_content, tuple(str(doc.metadata[key]) for _, key in MARKDOWN_HEADERS if key in doc.metadata))
                for doc in self._markdown.split_text(text)
            ]
        else:
            sections = [(text, ())]
        chunks: list[Chunk] = []
        for section, headings in sections:
            for piece in self._splitter.split_text(section):
                if piece.strip():
                    chunks.append(Chunk(len(chunks), piece.strip(), headings))
        return chunks

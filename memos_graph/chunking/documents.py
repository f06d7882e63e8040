"""Document chunking with langchain-text-splitters: markdown by its headers, then by size; text by size.

Within the size, text breaks at paragraphs, then lines, then sentence ends of scripts written without spaces
(Chinese and Japanese: 。！？；…), then clauses (，、：), then spaces, and only then anywhere; a separator stays
at the end of the piece it closes, so a sentence keeps its full stop and a closing quote stays with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

MARKDOWN_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
# Regular expressions, without capturing groups (the splitter wraps each in one to keep it).
CJK_SENTENCE_END = "(?:[。！？；｡]|…+)+[”’」』）》〉】]*"
CJK_CLAUSE_END = "[，、：][”’」』）》〉】]*"
SEPARATORS = ["\n\n", "\n", CJK_SENTENCE_END, CJK_CLAUSE_END, " ", ""]


@dataclass(frozen=True)
class Chunk:
    """One piece of a document, with the markdown headings it sits under."""

    index: int
    text: str
    headings: tuple[str, ...]


class DocumentChunker:
    """Splits text into chunks of about `chunk_size` characters with `overlap` characters shared."""

    def __init__(self, chunk_size: int = 1000, overlap: int = 150) -> None:
        self._splitter = RecursiveCharacterTextSplitter(
            separators=SEPARATORS,
            is_separator_regex=True,
            keep_separator="end",
            chunk_size=chunk_size,
            chunk_overlap=overlap,
        )
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

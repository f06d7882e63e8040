"""add(doc_path=...): files confined to configured roots, chunked, each chunk a memory DERIVED_FROM its
:Document node (path, checksum). An unchanged file adds nothing; a changed one replaces its chunks."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from memos_graph.chunking import DocumentChunker
from memos_graph.domain import SourceReference, TextualMemoryMetadata, User
from memos_graph.errors import AccessDenied, FeatureNotAvailable, InvalidInput, NotFound
from memos_graph.services.memories import Entry, MemoryService
from memos_graph.services.paths import confine, real_roots
from memos_graph.services.progress import progress
from memos_graph.services.runtime import Runtime

logger = logging.getLogger(__name__)
MARKDOWN = (".md", ".markdown")
# Reading fewer files than this reports no progress.
DOCUMENTS_PROGRESS_MIN = 10


class DocumentService:
    """Reads documents from inside the configured roots and stores their chunks as memories."""

    def __init__(self, runtime: Runtime, memories: MemoryService) -> None:
        self._rt = runtime
        self._memories = memories
        settings = runtime.config.documents
        self._chunker = DocumentChunker(settings.chunk_size, settings.chunk_overlap)

    def roots(self) -> list[Path]:
        """The configured roots, symlinks resolved."""
        roots = real_roots(self._rt.config.documents.roots)
        if not roots:
            raise FeatureNotAvailable(
                "no document roots are configured: set MEMOS_DOCUMENT_ROOTS (directories, separated by "
                f"'{os.pathsep}') or documents.roots in the config"
            )
        return roots

    def confine(self, doc_path: str) -> Path:
        """The real path of doc_path if it lies inside a root; refused before anything is read otherwise."""
        real = confine(doc_path, self.roots(), "doc_path", "document roots")
        if not real.exists():
            raise NotFound("document", doc_path)
        return real

    def files(self, real: Path) -> list[Path]:
        """The document files at a confined path: the file itself, or a directory's files, every one confined."""
        if real.is_file():
            return [real]
        roots = self.roots()
        found = []
        for path in sorted(_walk(real)):
            resolved = Path(os.path.realpath(path))
            if not any(resolved.is_relative_to(root) for root in roots):
                raise AccessDenied(f"{path.relative_to(real)} links outside the configured document roots")
            if resolved.suffix.lower() in self._rt.config.documents.extensions:
                found.append(resolved)
        return found

    def add(self, actor: User, doc_path: str, mem_cube_id: str | None, session_id: str | None = None) -> list[str]:
        """Add the documents at doc_path; returns the ids of the memories holding their new chunks."""
        files = self.files(self.confine(doc_path))
        if not files:
            raise InvalidInput(f"no {', '.join(self._rt.config.documents.extensions)} files at doc_path")
        cube = self._memories.target_cube(actor, mem_cube_id)
        known = self._rt.memories.document_checksums(cube, [str(path) for path in files])
        entries: list[Entry] = []
        documents: list[dict[str, str]] = []
        with progress("reading documents", len(files), "file", minimum=DOCUMENTS_PROGRESS_MIN) as advance:
            for path in files:
                advance(1)
                data = path.read_bytes()
                if len(data) > self._rt.config.limits.max_document_bytes:
                    raise InvalidInput(f"{path.name} is larger than {self._rt.config.limits.max_document_bytes} bytes")
                checksum = hashlib.sha256(data).hexdigest()
                if known.get(str(path)) == checksum:
                    continue  # unchanged since it was last added
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidInput(f"{path.name} is not UTF-8 text") from exc
                document = {"key": str(path), "path": str(path), "name": path.name, "checksum": checksum}
                documents.append(document)
                for chunk in self._chunker.split(text, markdown=path.suffix.lower() in MARKDOWN):
                    source = SourceReference(type="doc", doc_path=str(path), chunk_index=chunk.index)
                    metadata = TextualMemoryMetadata(
                        source="file", type="document", key=" / ".join(chunk.headings) or None, sources=[source]
                    )
                    entries.append(Entry(chunk.text, metadata, document=document))
        if not documents:
            return []
        limit = self._rt.config.limits.max_items_per_add
        if len(entries) > limit:
            raise InvalidInput(f"{len(entries)} chunks; the limit per add is {limit}")
        return self._memories.store(actor, cube, session_id, entries, documents)


def _walk(directory: Path) -> Iterator[Path]:
    for folder, _, names in os.walk(directory, followlinks=False):
        for name in names:
            yield Path(folder) / name

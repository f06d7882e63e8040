"""add(doc_path=...): files confined to configured roots, chunked, each chunk a memory DERIVED_FROM its
:Document node (path, checksum). An unchanged file adds nothing; a changed one replaces its chunks.

Served over the network (`per_user`), the document roots are split like the transfer roots: a user reads
only its own area <root>/<user id>/ (ROOT: the whole root) and the operator's shared roots
(documents.shared_roots), files every tenant may read. A relative doc_path is looked up in the user's areas,
then in the shared roots. The in-process MOS (one trust domain) reads the whole roots as before (and the
shared roots). Either way
a single file must have one of documents.extensions, hidden files (".env") are never read, and a missing
path, a forbidden one and one outside the caller's areas get the same answer.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from memos_graph.chunking import DocumentChunker
from memos_graph.config import MOSConfig
from memos_graph.domain import SourceReference, TextualMemoryMetadata, User, UserRole
from memos_graph.errors import AccessDenied, FeatureNotAvailable, InvalidInput
from memos_graph.graph.memories import MemoryRepository
from memos_graph.services.memories import Entry, MemoryService
from memos_graph.services.paths import check_path, real_roots
from memos_graph.services.progress import progress

logger = logging.getLogger(__name__)
MARKDOWN = (".md", ".markdown")
# Reading fewer files than this reports no progress.
DOCUMENTS_PROGRESS_MIN = 10
# Prefixes of the keys of documents outside root 0's areas: characters no user id holds, so keys never collide.
SHARED_KEY = "~shared"
ROOT_KEY = "~root"


@dataclass(frozen=True)
class DocumentBase:
    """A directory documents are read from: a user's area, a whole root (ROOT), or a shared root."""

    path: Path  # symlinks resolved
    key_prefix: str  # what keys of its files start with (names the base, never a server path)


@dataclass(frozen=True)
class DocumentFile:
    """A file to read: its real path, the path shown to callers and its key within a cube."""

    real: Path
    shown: str
    key: str


class DocumentService:
    """Reads documents from inside the configured roots and stores their chunks as memories."""

    def __init__(
        self, config: MOSConfig, repository: MemoryRepository, memories: MemoryService, per_user: bool = False
    ) -> None:
        """`per_user`: each user reads only its own area of the roots and the shared roots (a server's policy)."""
        self._config = config
        self._memory_repo = repository
        self._memories = memories
        self._per_user = per_user
        settings = config.documents
        self._chunker = DocumentChunker(settings.chunk_size, settings.chunk_overlap)

    def roots(self) -> list[Path]:
        """The configured roots, symlinks resolved."""
        settings = self._config.documents
        roots = real_roots(settings.roots)
        if not roots and not settings.shared_roots:
            raise FeatureNotAvailable(
                "no document roots are configured: set MEMOS_DOCUMENT_ROOTS (directories, separated by "
                f"'{os.pathsep}') or documents.roots in the config"
            )
        return roots

    def bases(self, actor: User) -> list[DocumentBase]:
        """Where the actor may read documents, in the order a relative doc_path is looked up."""
        roots = self.roots()
        shared = real_roots(self._config.documents.shared_roots)
        if not self._per_user:
            return [DocumentBase(root, "") for root in [*roots, *shared]]
        bases = []
        for index, root in enumerate(roots):
            prefix = "" if index == 0 else f"{ROOT_KEY}{index}/"
            if actor.role is UserRole.ROOT:
                bases.append(DocumentBase(root, prefix))
            else:
                area = Path(os.path.realpath(root / actor.user_id))  # an operator may link an area elsewhere
                bases.append(DocumentBase(area, f"{prefix}{actor.user_id}/"))
        bases += [DocumentBase(root, f"{SHARED_KEY}{index or ''}/") for index, root in enumerate(shared)]
        return bases

    def _refused(self) -> AccessDenied:
        """The one answer for a path that is missing, forbidden, hidden, of another kind, or outside the areas."""
        extensions = ", ".join(self._config.documents.extensions)
        where = (
            "your area <document root>/<user id>/ or a shared document root"
            if self._per_user
            else "the configured document roots"
        )
        return AccessDenied(
            f"doc_path names no readable document: a {extensions} file, or a directory, inside {where} "
            "(hidden files and symlinks out are never read)"
        )

    def locate(self, actor: User, doc_path: str) -> tuple[DocumentBase, Path]:
        """The base and real path doc_path names, if the actor may read there; refused before anything is read."""
        check_path(doc_path, "doc_path")
        bases = self.bases(actor)
        given = Path(doc_path)
        for base in bases:
            candidate = given if given.is_absolute() else base.path / given
            if not os.path.lexists(candidate):
                continue
            real = Path(os.path.realpath(candidate))
            if real == base.path or real.is_relative_to(base.path):
                if self._hidden(base, real) or not (real.is_dir() or self._readable_file(real)):
                    raise self._refused()
                return base, real
            if not given.is_absolute():
                break  # a link out of the first base that has the name: refused, never looked up further
        raise self._refused()

    def _readable_file(self, real: Path) -> bool:
        return real.is_file() and real.suffix.lower() in self._config.documents.extensions

    @staticmethod
    def _hidden(base: DocumentBase, real: Path) -> bool:
        return any(part.startswith(".") for part in real.relative_to(base.path).parts)

    def files(self, base: DocumentBase, real: Path) -> list[DocumentFile]:
        """The document files at a located path: the file itself, or a directory's files (hidden ones skipped),
        every one confined to the base."""
        if not real.is_dir():
            return [self._file(base, real)]
        found = []
        for path in sorted(_walk(real)):
            resolved = Path(os.path.realpath(path))
            if not resolved.is_relative_to(base.path):
                raise AccessDenied(f"{path.relative_to(real)} links outside the document area")
            if not self._hidden(base, resolved) and self._readable_file(resolved):
                found.append(self._file(base, resolved))
        return found

    def _file(self, base: DocumentBase, real: Path) -> DocumentFile:
        if not self._per_user:
            return DocumentFile(real, str(real), str(real))
        relative = real.relative_to(base.path).as_posix()
        return DocumentFile(real, relative, base.key_prefix + relative)

    def add(self, actor: User, doc_path: str, cube_id: str | None, session_id: str | None = None) -> list[str]:
        """Add the documents at doc_path; returns the ids of the memories holding their new chunks."""
        files = self.files(*self.locate(actor, doc_path))
        if not files:
            raise InvalidInput(f"no {', '.join(self._config.documents.extensions)} files at doc_path")
        cube = self._memories.target_cube(actor, cube_id)
        known = self._memory_repo.document_checksums(cube, [file.key for file in files])
        entries: list[Entry] = []
        documents: list[dict[str, str]] = []
        limit_bytes = self._config.limits.max_document_bytes
        with progress("reading documents", len(files), "file", minimum=DOCUMENTS_PROGRESS_MIN) as advance:
            for file in files:
                advance(1)
                data = _read(file.real, limit_bytes)
                name = file.real.name
                if data is None:
                    raise self._refused()  # swapped for a link or a non-file since it was located
                if len(data) > limit_bytes:
                    raise InvalidInput(f"{name} is larger than {limit_bytes} bytes")
                checksum = hashlib.sha256(data).hexdigest()
                if known.get(file.key) == checksum:
                    continue  # unchanged since it was last added
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InvalidInput(f"{name} is not UTF-8 text") from exc
                document = {"key": file.key, "path": file.shown, "name": name, "checksum": checksum}
                documents.append(document)
                for chunk in self._chunker.split(text, markdown=file.real.suffix.lower() in MARKDOWN):
                    source = SourceReference(type="doc", doc_path=file.shown, chunk_index=chunk.index)
                    metadata = TextualMemoryMetadata(
                        source="file", type="document", key=" / ".join(chunk.headings) or None, sources=[source]
                    )
                    entries.append(Entry(chunk.text, metadata, document=document))
        if not documents:
            return []
        limit = self._config.limits.max_items_per_add
        if len(entries) > limit:
            raise InvalidInput(f"{len(entries)} chunks; the limit per add is {limit}")
        return self._memories.store(actor, cube, session_id, entries, documents)


def _read(path: Path, limit: int) -> bytes | None:
    """Up to limit + 1 bytes of a regular file, never through a symlink (O_NOFOLLOW); None if not one."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return handle.read(limit + 1)


def _walk(directory: Path) -> Iterator[Path]:
    for folder, folders, names in os.walk(directory, followlinks=False):
        folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            yield Path(folder) / name

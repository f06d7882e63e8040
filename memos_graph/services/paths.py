"""Confining caller-supplied paths to configured directories (documents, cube dumps and imports)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from memos_graph.domain.memory import is_encodable
from memos_graph.errors import AccessDenied, InvalidInput

# Linux's limits (NAME_MAX, PATH_MAX): longer names fail in the file system calls themselves.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


def real_roots(roots: Sequence[str]) -> list[Path]:
    """Configured directories with symlinks resolved."""
    return [Path(os.path.realpath(root)) for root in roots]


def check_path(path: object, what: str) -> str:
    """A caller's path as the file system can take it: non-empty text, no NUL, names and length in bounds."""
    if not isinstance(path, str) or not path.strip() or "\x00" in path or not is_encodable(path):
        raise InvalidInput(f"{what} must be a non-empty path")
    encoded = path.encode("utf-8")
    if len(encoded) >= MAX_PATH_BYTES or any(len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")):
        raise InvalidInput(f"{what} is too long (names up to {MAX_NAME_BYTES} bytes, paths under {MAX_PATH_BYTES})")
    return path


def confine(path: str, roots: Sequence[Path], what: str, roots_name: str) -> Path:
    """The real path of `path` (relative ones start at the first root) if it lies inside a root; with no
    roots, any path (relative to the working directory).

    Symlinks are resolved before the check, so a link pointing out of a root is refused like `..` is,
    and nothing outside the roots is read or written.
    """
    check_path(path, what)
    candidate = Path(path)
    if not candidate.is_absolute() and roots:
        candidate = roots[0] / candidate
    real = Path(os.path.realpath(candidate))
    if roots and not any(real == root or real.is_relative_to(root) for root in roots):
        raise AccessDenied(f"{what} is outside the configured {roots_name}")
    return real

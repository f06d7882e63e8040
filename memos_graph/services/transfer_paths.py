"""Where dumps may be written and which cube directories a user may import (with transfer roots set).

Each user has its own area <root>/<user id>/ of every transfer root: a non-ROOT caller's dumpDir and import
path are taken inside it (a relative path starts there), it holds at most transfer.max_user_bytes, and
deleting the user removes it. ROOT, the operator, works on the whole roots (relative paths start at the
first root) without a quota. Answers name paths relative to the caller's area, never the server's.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from memos_graph.config import MOSConfig, TransferSettings
from memos_graph.cube_format.writer import DumpWriter, dump_writer, has_manifest
from memos_graph.domain import User, UserRole
from memos_graph.embeddings import Embedder
from memos_graph.errors import AccessDenied, FeatureNotAvailable, NotFound
from memos_graph.graph.cube_index import DedicatedIndexes
from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.cubes import CubeService
from memos_graph.services.paths import confine, real_roots

logger = logging.getLogger(__name__)


class TransferWork:
    """What dump and import both stand on: the configuration, the embedder (an import embeds what its file
    lacks), large cubes' own indexes, the cube rules, the paths and the transfer repository."""

    def __init__(
        self,
        config: MOSConfig,
        embedder: Embedder,
        cube_indexes: DedicatedIndexes,
        repository: CubeTransferRepository,
        cubes: CubeService,
        paths: TransferPaths,
    ) -> None:
        self._config = config
        self._embedder = embedder
        self._cube_indexes = cube_indexes
        self._repository = repository
        self._cubes = cubes
        self._paths = paths
        self._settings = config.transfer


class TransferPaths:
    """Paths of dumps and imports, confined to the caller's areas of the configured transfer roots."""

    def __init__(self, settings: TransferSettings, require_roots: bool) -> None:
        self._settings = settings
        # Served over the network, dumps and imports need transfer roots: a server never writes (or reads)
        # wherever a caller points it. The in-process MOS, its user's own process, may go without.
        self._require_roots = require_roots

    def roots(self) -> list[Path]:
        """The configured roots, symlinks resolved (FeatureNotAvailable when a server has none)."""
        roots = real_roots(self._settings.roots)
        if self._require_roots and not roots:
            raise FeatureNotAvailable(
                "cube dumps and imports need configured directories: set MEMOS_TRANSFER_ROOTS "
                f"(separated by '{os.pathsep}') or transfer.roots in the config"
            )
        return roots

    def areas(self, actor: User) -> list[Path]:
        """The actor's areas, one per root (symlinks resolved: an operator may link an area elsewhere);
        ROOT's are the roots themselves."""
        roots = self.roots()
        if actor.role is UserRole.ROOT:
            return roots
        if not _is_area_name(actor.user_id):  # never "no areas", which would confine to nothing
            raise AccessDenied(f"this user has no {_AREA_NAME}")
        return [Path(os.path.realpath(root / actor.user_id)) for root in roots]

    def dump_target(self, actor: User, dump_dir: str) -> Path:
        """Where a dump into dump_dir goes: any path without roots, else inside the actor's own area (a
        relative dump_dir starts there), never the area itself. Refused alike wherever else it points."""
        roots = self.roots()
        if not roots:
            return confine(dump_dir, [], "dump_dir", "transfer roots")
        areas = self.areas(actor)
        where = "transfer roots" if actor.role is UserRole.ROOT else _AREA_NAME
        target = confine(dump_dir, areas, "dump_dir", where)
        if target in areas:
            raise AccessDenied(f"dump_dir must name a directory inside the configured {where}")
        return target

    def shown(self, actor: User, path: Path) -> str:
        """The path as answers show it: relative to the actor's area it lies in (no server path), or as it
        is without roots (the in-process MOS, the user's own process)."""
        if not self._settings.roots:
            return str(path)
        for area in self.areas(actor):
            if path.is_relative_to(area):
                return path.relative_to(area).as_posix()
        return path.name  # not reached: every path answered lies in an area

    def area_of(self, actor: User, path: Path) -> Path | None:
        """The actor's area holding `path` when it has a quota there (not ROOT, roots configured)."""
        if actor.role is UserRole.ROOT or not self._settings.roots:
            return None
        return next((area for area in self.areas(actor) if path.is_relative_to(area)), None)

    def importable(self, actor: User, path: str) -> Path:
        """The cube directory `path` names, if the actor may import it.

        Without transfer roots (the in-process MOS only; the API refuses imports then) any path. With them,
        ROOT may import any directory inside the roots; anyone else only one inside its own area
        <root>/<user id>/ (a relative path starts there) that is not a dump by someone else: its
        memos_graph_dump.json must be absent (a directory MemOS wrote) or name the actor's immutable uid, so
        neither a dump ROOT wrote there nor one left by an earlier user of the same id is importable. Paths
        elsewhere, other writers' dumps and unreadable manifests are refused with one AccessDenied whose text
        depends on neither the path nor what lies there; a missing directory inside the area is NOT_FOUND
        (naming the path as given).
        """
        roots = self.roots()
        if not roots or actor.role is UserRole.ROOT:
            directory = confine(path, roots, "cube directory", "transfer roots")
        else:
            refused = AccessDenied(
                "cube directory is not importable by this user: import a directory inside your transfer area "
                "<transfer root>/<user id>/ that holds no other user's dump"
            )
            try:
                directory = confine(path, self.areas(actor), "cube directory", _AREA_NAME)
            except AccessDenied:
                raise refused from None
            if directory.is_dir() and has_manifest(directory) and not _written_by(dump_writer(directory), actor):
                raise refused
        if not directory.is_dir():
            raise NotFound("cube directory", self.shown(actor, directory) if roots else path)
        return directory

    def remove_areas(self, user_id: str) -> list[Path]:
        """Delete the user's area of every transfer root (its dumps and anything put there); the areas removed.

        A link an operator made for an area is removed, not what it points to."""
        removed = []
        for root in real_roots(self._settings.roots):
            area = root / user_id
            if not _is_area_name(user_id) or not os.path.lexists(area):
                continue
            if area.is_symlink() or not area.is_dir():
                if area.is_symlink():
                    logger.warning(
                        "transfer area %s of user '%s' was a link: removed the link, not its target %s",
                        area,
                        user_id,
                        os.path.realpath(area),
                    )
                area.unlink()
            else:
                shutil.rmtree(area)
            removed.append(area)
        return removed


_AREA_NAME = "transfer area of this user (<transfer root>/<user id>/)"


def area_bytes(area: Path) -> int:
    """Bytes the files under an area take (links counted as themselves, never followed)."""
    total = 0
    for folder, _, names in os.walk(area, followlinks=False):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue  # removed while walked
    return total


def _written_by(writer: DumpWriter | None, actor: User) -> bool:
    """Whether the dump whose manifest names this writer is the actor's to import."""
    if writer is None or writer.user_id != actor.user_id:
        return False
    if writer.uid:
        return writer.uid == actor.uid
    return _not_before(writer.dumped_at, actor.created_at)  # a manifest older than uids: by its time


def _not_before(dumped_at: str, created_at: str) -> bool:
    """Whether a dump was written after the user was created (unreadable times: no)."""
    try:
        return dt.datetime.fromisoformat(dumped_at) >= dt.datetime.fromisoformat(created_at)
    except (ValueError, TypeError):
        return False


def _is_area_name(user_id: str) -> bool:
    """Whether the user id can name a directory of its own (ids are checked at creation; this is a guard)."""
    return bool(user_id) and user_id not in (".", "..") and "/" not in user_id and "\x00" not in user_id

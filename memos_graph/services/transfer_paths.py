"""Where dumps may be written and which cube directories a user may import (with transfer roots set)."""

from __future__ import annotations

import os
from pathlib import Path

from memos_graph.config import TransferSettings
from memos_graph.cube_format.writer import dumped_by
from memos_graph.domain import User, UserRole
from memos_graph.errors import AccessDenied, FeatureNotAvailable
from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.cubes import CubeService
from memos_graph.services.paths import confine, real_roots
from memos_graph.services.runtime import Runtime


class TransferWork:
    """What dump and import both stand on: the runtime, the cube rules, the paths, the repository."""

    def __init__(self, runtime: Runtime, cubes: CubeService, paths: TransferPaths) -> None:
        self._rt = runtime
        self._cubes = cubes
        self._paths = paths
        self._settings = runtime.config.transfer
        self._repository = CubeTransferRepository(runtime.store, self._settings.import_lease_s)


class TransferPaths:
    """Paths of dumps and imports, confined to the configured transfer roots."""

    def __init__(self, settings: TransferSettings, require_roots: bool) -> None:
        self._settings = settings
        # Served over the network, dumps and imports need transfer roots: a server never writes (or reads)
        # wherever a caller points it. The in-process MOS, its user's own process, may go without.
        self._require_roots = require_roots

    def path(self, path: str, what: str) -> Path:
        roots = real_roots(self._settings.roots)
        if self._require_roots and not roots:
            raise FeatureNotAvailable(
                "cube dumps and imports need configured directories: set MEMOS_TRANSFER_ROOTS "
                f"(separated by '{os.pathsep}') or transfer.roots in the config"
            )
        return confine(path, roots, what, "transfer roots")

    def importable(self, actor: User, path: str) -> Path:
        """The cube directory `path` names, if the actor may import it.

        Without transfer roots (the in-process MOS only; the API refuses imports then) any path. With them,
        the path must lie inside a root (symlinks resolved), and unless the actor is ROOT it must also be
          - a dump the actor wrote (the `dumped_by` of its memos_graph_dump.json, written by dump), or
          - inside the actor's own directory of a root, <root>/<user id>/ (where a directory without that
            record, such as one MemOS wrote, can be put for its user), unless another user's dump: a user who
            may read a cube cannot hand a copy of it to someone else by dumping it into their area.
        Everything else is refused with one AccessDenied whose text depends on neither the path nor what
        lies there, so another user's dump, a missing directory and a path outside the roots answer alike
        and the refusal tells nothing about the transfer directories.
        """
        roots = real_roots(self._settings.roots)
        if not roots or actor.role is UserRole.ROOT:
            return self.path(path, "cube directory")
        refused = AccessDenied(
            "cube directory is outside the configured transfer roots or not importable by this user: "
            f"import a dump it wrote, or a directory under <transfer root>/{actor.user_id}/"
        )
        try:
            directory = confine(path, roots, "cube directory", "transfer roots")
        except AccessDenied:
            raise refused from None
        writer = dumped_by(directory)
        if any(_in_user_area(directory, root, actor.user_id) for root in roots) and writer in (None, actor.user_id):
            return directory
        if writer != actor.user_id:  # includes another user's dump written into this user's area
            raise refused
        return directory


def _in_user_area(directory: Path, root: Path, user_id: str) -> bool:
    """Whether the (real) directory lies in the user's own directory <root>/<user id> of a transfer root."""
    if not user_id or user_id in (".", "..") or "/" in user_id or "\x00" in user_id:
        return False
    area = root / user_id
    return directory == area or directory.is_relative_to(area)

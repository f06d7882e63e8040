"""dump and register_mem_cube(path): a cube to and from a MemOS cube directory (mos-api.md section 5).

Two services behind one door: CubeDumpService (services/cube_dump.py) writes a dump, CubeImportService
(services/cube_import.py) imports a directory; TransferPaths (services/transfer_paths.py) decides where
either may touch. The format itself (read and write) is memos_graph/cube_format/.

Where (with transfer roots configured; see TransferPaths): each user dumps and imports only inside its own
area <root>/<user id>/ (ROOT: the whole roots), within transfer.max_user_bytes. A dump records its writer's
immutable uid in memos_graph_dump.json, and only that user or ROOT may import it.
"""

from __future__ import annotations

from memos_graph.domain import User
from memos_graph.services.cube_dump import CubeDumpService
from memos_graph.services.cube_import import CubeImportService
from memos_graph.services.transfer_report import TransferReport

__all__ = ["CubeTransferService", "TransferReport"]


class CubeTransferService:
    """Dump a cube the caller may read; import a cube directory as a cube the caller owns."""

    def __init__(self, dumps: CubeDumpService, imports: CubeImportService) -> None:
        self._dumps = dumps
        self._imports = imports

    def dump(self, actor: User, dump_dir: str, cube_id: str | None) -> TransferReport:
        """Write the cube as a MemOS tree_text directory into dump_dir, all or nothing (CubeDumpService)."""
        return self._dumps.dump(actor, dump_dir, cube_id)

    def import_directory(self, actor: User, path: str, cube_id: str | None) -> TransferReport:
        """Import a MemOS cube directory as a cube the actor owns (CubeImportService.import_directory)."""
        return self._imports.import_directory(actor, path, cube_id)

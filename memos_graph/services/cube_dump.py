"""dump: a cube the caller may read, written as a MemOS cube directory (tree_text), all or nothing.

The directory is written into a hidden sibling and renamed into place at the end, so a failed dump leaves
nothing; the cube is read in one read transaction (one consistent snapshot).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from memos_graph.cube_format.entries import CONFIG_FILE, TEXTUAL_MEMORY_FILE
from memos_graph.cube_format.writer import MANIFEST_FILE, TreeCounts, config_document, manifest_document, write_tree
from memos_graph.domain import User
from memos_graph.domain.cube_content import CubeSnapshot
from memos_graph.errors import Conflict, InvalidInput
from memos_graph.services.transfer_paths import TransferWork
from memos_graph.services.transfer_report import TransferReport

logger = logging.getLogger(__name__)


class CubeDumpService(TransferWork):
    """Dump a cube the caller may read."""

    def dump(self, actor: User, dump_dir: str, mem_cube_id: str | None) -> TransferReport:
        """Write the cube as config.json + textual_memory.json (tree_text) into dump_dir, all or nothing."""
        target = self._paths.path(dump_dir, "dump_dir")
        if mem_cube_id is None:
            granted = self._cubes.default_cube(actor)
        else:
            (granted,) = self._cubes.readable(actor, [mem_cube_id])
        cube = granted.cube
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise Conflict(f"dump_dir '{dump_dir}' exists and is not an empty directory; dumps never overwrite")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.dump-", dir=target.parent))
        except OSError as exc:  # a file where a directory should be, no permission, a full disk
            raise InvalidInput(f"cannot create dump_dir '{dump_dir}': {exc.strerror}") from exc
        try:
            counts = TreeCounts()

            def consume(snapshot: CubeSnapshot) -> None:
                nonlocal counts
                with (staging / TEXTUAL_MEMORY_FILE).open("w", encoding="utf-8") as out:
                    counts = write_tree(out, snapshot)

            self._repository.export(cube.cube_id, self._settings.timeout_s, consume)
            config = config_document(cube, self._rt.config.neo4j.database)
            (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
            manifest = manifest_document(actor.user_id, cube.cube_id)
            (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            if target.exists():
                target.rmdir()  # empty (checked above); rename needs the name free
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logger.info("dumped cube %s to %s: %s", cube.cube_id, target, counts)
        return TransferReport(
            cube.cube_id,
            str(target),
            memories=counts.memories,
            versions=counts.versions,
            messages=counts.messages,
            documents=counts.documents,
            edges=counts.edges,
        )

"""dump: a cube the caller may read, written as a MemOS cube directory (tree_text), all or nothing.

The directory is written into a hidden sibling and renamed into place at the end, so a failed dump leaves
nothing; the cube is read in one read transaction (one consistent snapshot). With transfer roots, a dump
goes into the caller's own area and stops (leaving nothing) when the area would pass
transfer.max_user_bytes; the area's size is measured when the dump begins, and a process runs one dump per
area at a time (a second answers CONFLICT), so two dumps cannot each pass the check with the same free space.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from memos_graph.cube_format.entries import CONFIG_FILE, TEXTUAL_MEMORY_FILE
from memos_graph.cube_format.writer import MANIFEST_FILE, TreeCounts, config_document, manifest_document, write_tree
from memos_graph.domain import MemCube, User
from memos_graph.domain.cube_content import CubeSnapshot
from memos_graph.errors import Conflict, InvalidInput
from memos_graph.services.transfer_paths import TransferWork, area_bytes
from memos_graph.services.transfer_report import TransferReport

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

logger = logging.getLogger(__name__)

# Areas a dump of this process is writing into (see _one_dump_per_area).
_AREAS_DUMPING: set[Path] = set()
_AREAS_LOCK = threading.Lock()


class CubeDumpService(TransferWork):
    """Dump a cube the caller may read."""

    def dump(self, actor: User, dump_dir: str, cube_id: str | None) -> TransferReport:
        """Write the cube as config.json + textual_memory.json (tree_text) into dump_dir, all or nothing."""
        target = self._paths.dump_target(actor, dump_dir)
        if cube_id is None:
            granted = self._cubes.default_cube(actor)
        else:
            (granted,) = self._cubes.readable(actor, [cube_id])
        cube = granted.cube
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise Conflict(f"dump_dir '{dump_dir}' exists and is not an empty directory; dumps never overwrite")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.dump-", dir=target.parent))
        except OSError as exc:  # a file where a directory should be, no permission, a full disk
            raise InvalidInput(f"cannot create dump_dir '{dump_dir}': {exc.strerror}") from exc
        try:
            with _one_dump_per_area(self._paths.area_of(actor, target)):
                counts = self._write(actor, cube, staging)
            if target.exists():
                target.rmdir()  # empty (checked above); rename needs the name free
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        logger.info("dumped cube %s to %s: %s", cube.cube_id, target, counts)
        return TransferReport(
            cube.cube_id,
            self._paths.shown(actor, target),
            memories=counts.memories,
            working=counts.working,
            versions=counts.versions,
            messages=counts.messages,
            documents=counts.documents,
            edges=counts.edges,
        )

    def _write(self, actor: User, cube: MemCube, staging: Path) -> TreeCounts:
        """The dump's three files, written into the staging directory within the actor's quota."""
        counts = TreeCounts()
        config = json.dumps(config_document(cube, self._config.neo4j.database), indent=2).encode()
        manifest = json.dumps(manifest_document(actor.user_id, actor.uid, cube.cube_id), indent=2).encode()
        budget = self._budget(actor, staging, len(config) + len(manifest))

        def consume(snapshot: CubeSnapshot) -> None:
            nonlocal counts
            raw = _Capped(staging / TEXTUAL_MEMORY_FILE, budget, self._settings.max_user_bytes)
            with io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8") as out:
                counts = write_tree(out, snapshot)

        self._repository.export(cube.cube_id, self._settings.timeout_s, consume)
        (staging / CONFIG_FILE).write_bytes(config)
        (staging / MANIFEST_FILE).write_bytes(manifest)
        return counts

    def _budget(self, actor: User, target: Path, small_files: int) -> int | None:
        """Bytes textual_memory.json may take before the actor's area passes its quota (None: no quota)."""
        area = self._paths.area_of(actor, target)
        if area is None:
            return None
        quota = self._settings.max_user_bytes
        left = quota - area_bytes(area) - small_files
        if left <= 0:
            raise _over_quota(quota)
        return left


@contextmanager
def _one_dump_per_area(area: Path | None) -> Iterator[None]:
    """Hold the area for one dump of this process (None: no quota, nothing to hold); Conflict while another has it."""
    if area is None:
        yield
        return
    with _AREAS_LOCK:
        if area in _AREAS_DUMPING:
            raise Conflict("another dump into this user's transfer area is running; dump again when it has finished")
        _AREAS_DUMPING.add(area)
    try:
        yield
    finally:
        with _AREAS_LOCK:
            _AREAS_DUMPING.discard(area)


def _over_quota(quota: int) -> InvalidInput:
    return InvalidInput(
        f"the dump would pass this user's transfer quota of {quota} bytes (transfer.max_user_bytes, counting "
        "everything under <transfer root>/<user id>/); nothing was written: remove old dumps first"
    )


class _Capped(io.FileIO):
    """A new file that refuses to grow past `budget` bytes (None: no limit); the dump fails and leaves nothing."""

    def __init__(self, path: Path, budget: int | None, quota: int) -> None:
        super().__init__(path, "xb")
        self._budget = budget
        self._quota = quota
        self._written = 0

    def write(self, data: ReadableBuffer, /) -> int:
        size = memoryview(data).nbytes
        if self._budget is not None and self._written + size > self._budget:
            raise _over_quota(self._quota)
        written = super().write(data)
        self._written += written or 0
        return written or 0

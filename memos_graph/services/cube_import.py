"""A cube import in passes over textual_memory.json, so its memory stays flat however big the file is.

Pass 1 (`survey`) parses and checks every entry, under the limits an add or update puts on what it stores
(text, metadata size and depth, message content and keys), keeping only what the plan needs per node (kind,
id, content hash, key, whether a usable vector is stored); then it reads the edges one by one and checks
each against those node ids, and the version edges to form one linear chain per memory (VersionChains).
Any bad entry or edge is refused here, before anything is written; no edge is kept. `ImportPlan.build`
then settles ids (renamed when the graph holds them) and merges texts the file repeats. Pass 2
(`ImportPlan.batches`) reads the file again and yields ready batches: node rows in file order (memories
embedded batch by batch when their vectors cannot be reused), then the edges, read once more and written as
they come. If the file changed in between (other bytes, other ids), pass 2 refuses, and the caller
discards what it wrote.

An import is signed by its caller: every memory and version it stores has the caller as user_id (and as
updated_by when the file names an editor); the author the file named is kept as metadata.imported_user_id.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from queue import Full, Queue
from typing import TypeVar

from memos_graph import metrics
from memos_graph.cube_format.entries import CubeFormatError, CubeSource, NodeKind, unknown_source
from memos_graph.cube_format.reader import TextualMemoryFile, read_config
from memos_graph.domain import User
from memos_graph.domain.cube_content import ImportedCube
from memos_graph.embeddings.names import normalise_model_name
from memos_graph.errors import AccessDenied, Conflict, InvalidInput, NotFound
from memos_graph.graph.convert import iso
from memos_graph.services import access
from memos_graph.services.import_plan import ImportPlan
from memos_graph.services.import_survey import ImportSurvey
from memos_graph.services.progress import progress
from memos_graph.services.transfer_paths import TransferWork
from memos_graph.services.transfer_report import TransferReport
from memos_graph.services.validation import check_cube_id

logger = logging.getLogger(__name__)
# Batches read (and embedded) ahead of the one being written.
PREFETCH_DEPTH = 2
T = TypeVar("T")
# Ids asked about per statement when checking which of an import's ids the graph already holds.
TAKEN_IDS_STEP = 10_000


class CubeImportService(TransferWork):
    """Import a cube directory (either MemOS form) as a cube the caller owns; nothing stays if it fails.

    An import holds its cube id with a lease (transfer.import_lease_s, renewed by every batch); a second
    import of the id is refused until the lease ran out (see CubeTransferRepository).
    """

    @metrics.timed("cube_import")
    def import_directory(self, actor: User, path: str, cube_id: str | None) -> TransferReport:
        """Import a MemOS cube directory (either form) as a cube the actor owns; nothing stays if it fails.

        Which directories the actor may import: see TransferPaths.importable (with transfer roots, one in its own area
        <root>/<user id>/ that is no other user's dump; ROOT any inside the roots). The cube id is held for the import
        with a lease (transfer.import_lease_s) that every batch renews: another import of the same id answers Conflict
        and changes nothing while the lease is live, and takes the leftover over (deleting what it wrote) only once the
        lease ran out, i.e. once that import crashed or stalled.
        """
        directory = self._paths.importable(actor, path)
        shown = self._paths.shown(actor, directory)  # answers and the cube's path never name a server path
        survey = self._survey(directory)
        wanted = cube_id or survey.source.cube_id or str(uuid.uuid4())
        target = check_cube_id(wanted, "cube id", self._config.limits)
        if not access.may_create_cube(actor, actor):
            raise AccessDenied(f"user '{actor.user_id}' may not create cubes")
        if cube_id is None and self._taken_by_another(actor, target):
            # The directory's own id (a MemOS example's "Ki-Seki/mem_cube_2") belongs to someone else: this
            # user gets a copy of its own, under an id derived from both, which register_mem_cube returns.
            target = own_copy_id(target, actor.user_id, self._config.limits.max_id_chars)
        existing, stale = self._prepare_target(actor, target)
        if not existing:
            self._cubes.check_quota(actor)  # a new cube counts against limits.max_cubes_per_user
        plan = self._plan(survey, target, actor.user_id, stale)
        import_id = str(uuid.uuid4())
        embedder = self._embedder
        cube = ImportedCube(self._cube_name(survey.source, directory), shown, embedder.model_name, embedder.dimension)
        leftovers: list[str] = []
        edges = 0  # edges written (a repeated edge of the file is one edge in the graph)
        if not stale:
            self._repository.begin(target, import_id, cube, existing, actor.user_id)
        else:
            leftovers = self._repository.take_over(target, stale[0], import_id, cube, actor.user_id)
            logger.warning("import into cube %s takes over from the expired import %s", target, stale[0])
        try:
            if leftovers:
                for crashed in leftovers:
                    self._repository.discard_nodes(target, crashed, self._settings.timeout_s)
                self._repository.leftovers_done(target, import_id)
                leftovers = []
            with progress(f"importing {target}", plan.items()) as advance:
                max_chars = self._config.limits.max_memory_chars
                for batch in prefetched(plan.batches(self._settings.batch_size, max_chars, embedder.embed)):
                    edges += self._repository.write(target, import_id, batch)
                    advance(batch.size())
            self._repository.finish(target, import_id, actor.user_id)
        except BaseException:
            logger.warning("import into cube %s failed; deleting what it wrote", target)
            try:
                self._repository.discard(target, import_id, self._settings.timeout_s, leftovers)
            except Exception:  # the original error matters more; the next import of this id cleans up
                logger.exception("could not discard the failed import %s of cube %s", import_id, target)
            raise
        self._cube_indexes.promote_if_large(target, plan.counts[NodeKind.MEMORY])  # see graph/cube_index.py
        return TransferReport(
            target,
            shown,
            memories=plan.counts[NodeKind.MEMORY],
            working=len(plan.working),
            versions=plan.counts[NodeKind.VERSION],
            messages=plan.counts[NodeKind.MESSAGE],
            documents=plan.counts[NodeKind.DOCUMENT],
            edges=edges,
            reembedded=plan.reembedded,
            merged_duplicates=plan.merged,
            new_ids=plan.new_ids,
            undecoded_sources=survey.undecoded_sources,
        )

    def _survey(self, directory: Path) -> ImportSurvey:
        """Pass 1 over the directory: config.json (when there is one) and every entry of textual_memory.json
        checked, without holding the file (see services/cube_import.py)."""
        if not directory.is_dir():
            raise NotFound("cube directory", str(directory))
        try:
            file = TextualMemoryFile(directory, self._settings.max_file_bytes)
            config = read_config(directory)
            shape = file.shape(config.backend if config else None)
            source = config or unknown_source(shape.backend)
            survey = ImportSurvey.take(source, file, shape, self._config.limits, self._embedder.dimension)
        except CubeFormatError as exc:
            raise InvalidInput(str(exc)) from exc
        if survey.undecoded_sources:
            logger.warning(
                "%s: %d sources are text, not source entries: kept verbatim as text sources",
                directory,
                survey.undecoded_sources,
            )
        return survey

    @staticmethod
    def _cube_name(source: CubeSource, directory: Path) -> str:
        return source.cube_id or directory.name

    def _taken_by_another(self, actor: User, cube_id: str) -> bool:
        """Whether the cube id belongs to (or is being imported by) someone other than the actor."""
        state = self._repository.state(cube_id)
        if state is None:
            return False
        if state.owner_id is not None:
            return state.owner_id != actor.user_id
        return state.import_id is None or (state.lease_live and state.import_by != actor.user_id)

    def _prepare_target(self, actor: User, cube_id: str) -> tuple[bool, tuple[str, ...]]:
        """(whether the import goes into an existing cube of the actor, the expired import to take over
        followed by the ones it took over from, or nothing); Conflict for anyone else's cube and while
        another import's lease is live (nothing changes then)."""
        state = self._repository.state(cube_id)
        if state is None:
            return False, ()
        if state.owner_id is not None and state.owner_id != actor.user_id:
            raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id)
        if state.import_id is None:
            if state.owner_id is None:  # an ownerless cube nobody imports: not ours to use
                raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id)
            return True, ()
        if state.lease_live:
            if state.owner_id is None and state.import_by != actor.user_id:
                # Someone else's new cube, not finished yet: to the actor the id is just taken.
                raise Conflict(f"cube id '{cube_id}' is taken", cube_id=cube_id)
            raise Conflict(
                f"cube id '{cube_id}' is being imported by another call (started {iso(state.started_at)}; "
                f"its lease, renewed with every batch it writes, runs to {iso(state.lease_until)}); try again later",
                cube_id=cube_id,
            )
        # The lease ran out: that import crashed or stalled. Its leftover is taken over and deleted.
        return state.owner_id is not None, (state.import_id, *state.leftovers)

    def _plan(self, survey: ImportSurvey, cube_id: str, importer: str, leftovers: Sequence[str] = ()) -> ImportPlan:
        ids = survey.memory_ids()
        step = TAKEN_IDS_STEP
        taken = any(self._repository.taken_ids(ids[i : i + step], cube_id, leftovers) for i in range(0, len(ids), step))
        embedder = self._embedder
        same_model = normalise_model_name(survey.source.embedder_model) == normalise_model_name(embedder.model_name)
        reuse = same_model and survey.all_vectors_stored()
        return ImportPlan.build(survey, cube_id, taken, reuse_vectors=reuse, importer=importer)


def own_copy_id(cube_id: str, user_id: str, max_chars: int) -> str:
    """The id of a user's own copy of a cube whose id another user holds: "<cube id>@<user id>", or with a
    digest of both in place of the user id when that is too long. The same user and cube always give the same
    id, so registering the directory again finds the user's copy."""
    candidate = f"{cube_id}@{user_id}"
    if len(candidate) <= max_chars:
        return candidate
    digest = hashlib.sha256(f"{cube_id}\x1f{user_id}".encode()).hexdigest()[:16]
    return f"{cube_id[: max(1, max_chars - len(digest) - 1)].rstrip('/')}@{digest}"


def prefetched(items: Iterator[T], depth: int = PREFETCH_DEPTH) -> Iterator[T]:
    """`items` produced on a thread of their own, at most `depth` ahead: the next batch is read (and
    embedded) while the caller writes the current one. The producer's error is raised to the caller; a caller
    that stops early (an error of its own) stops the producer before returning."""
    queue: Queue[tuple[bool, T | BaseException | None]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, T | BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the caller, whatever it is
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    context = contextvars.copy_context()  # the caller's deadline and logging context
    thread = threading.Thread(target=context.run, args=(produce,), name="memos-import-read", daemon=True)
    thread.start()
    try:
        while True:
            more, value = queue.get()
            if not more:
                if isinstance(value, BaseException):
                    raise value
                return
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()

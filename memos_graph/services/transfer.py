"""dump and register_mem_cube(path): a cube to and from a MemOS cube directory (mos-api.md section 5).

A dump is written into a hidden sibling directory and renamed into place at the end, so a failed dump
leaves nothing. An import validates both files completely before writing, then writes in batches (one
transaction each) into a cube nobody can see yet; a failure deletes what the import wrote.

Who may import what (with transfer roots configured; see CubeTransferService.import_directory): a dump
records its writer in memos_graph_dump.json, and only that user or ROOT may import it, unless it lies in
the caller's own directory <root>/<user id>/. An import holds its cube id with a lease (transfer.
import_lease_s, renewed by every batch); a second import of the id is refused until the lease ran out.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from tqdm import tqdm

from memos_graph.domain import User, UserRole
from memos_graph.domain.cube_directory import (
    CONFIG_FILE,
    KIND_KEY,
    MODEL_SCHEMA,
    TEXTUAL_MEMORY_FILE,
    CubeFormatError,
    CubeSource,
    NodeKind,
    normalise_model_name,
    parse_config,
    unknown_source,
)
from memos_graph.errors import AccessDenied, Conflict, FeatureNotAvailable, InvalidInput, NotFound
from memos_graph.graph.convert import iso
from memos_graph.graph.memories import item_from_node
from memos_graph.graph.transfer import CubeExport, CubeTransferRepository, ExportedEdge
from memos_graph.services import access
from memos_graph.services.cube_import import PROVENANCE_NAMESPACE, ImportPlan, ImportSurvey, batch_size, prefetched
from memos_graph.services.cube_reader import TextualMemoryFile
from memos_graph.services.cubes import CubeService
from memos_graph.services.paths import confine, real_roots
from memos_graph.services.runtime import Runtime
from memos_graph.services.validation import check_cube_id

logger = logging.getLogger(__name__)
PROGRESS_MIN = 1_000
# config.json is a few kilobytes; anything near this is not a MemOS config.
CONFIG_MAX_BYTES = 16 * 2**20
# Ids asked about per statement when checking which of an import's ids the graph already holds.
TAKEN_IDS_STEP = 10_000
# Written next to config.json by every dump: who wrote it (MemOS's config.json takes no extra keys).
MANIFEST_FILE = "memos_graph_dump.json"
MANIFEST_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class TransferReport:
    """What a dump wrote or an import stored."""

    cube_id: str
    path: str
    memories: int
    versions: int
    messages: int
    documents: int
    edges: int
    reembedded: bool = False
    merged_duplicates: int = 0
    new_ids: bool = False
    # Sources that were text, not source entries (nor JSON of one): kept verbatim as text sources.
    undecoded_sources: int = 0


class CubeTransferService:
    """Dump a cube the caller may read; import a cube directory as a cube the caller owns."""

    def __init__(self, runtime: Runtime, cubes: CubeService) -> None:
        self._rt = runtime
        self._cubes = cubes
        self._settings = runtime.config.transfer
        self._repository = CubeTransferRepository(runtime.store, self._settings.import_lease_s)

    # -- paths ----------------------------------------------------------------------------------------

    def _path(self, path: str, what: str, require_roots: bool) -> Path:
        roots = real_roots(self._settings.roots)
        if require_roots and not roots:
            raise FeatureNotAvailable(
                "cube dumps and imports need configured directories: set MEMOS_TRANSFER_ROOTS "
                f"(separated by '{os.pathsep}') or transfer.roots in the config"
            )
        return confine(path, roots, what, "transfer roots")

    def _importable(self, actor: User, path: str, require_roots: bool) -> Path:
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
            return self._path(path, "cube directory", require_roots)
        refused = AccessDenied(
            "cube directory is outside the configured transfer roots or not importable by this user: "
            f"import a dump it wrote, or a directory under <transfer root>/{actor.user_id}/"
        )
        try:
            directory = confine(path, roots, "cube directory", "transfer roots")
        except AccessDenied:
            raise refused from None
        writer = _dumped_by(directory)
        if any(_in_user_area(directory, root, actor.user_id) for root in roots) and writer in (None, actor.user_id):
            return directory
        if writer != actor.user_id:  # includes another user's dump written into this user's area
            raise refused
        return directory

    # -- dump -----------------------------------------------------------------------------------------

    def dump(
        self, actor: User, dump_dir: str, mem_cube_id: str | None, require_roots: bool = False
    ) -> TransferReport:
        """Write the cube as config.json + textual_memory.json (tree_text) into dump_dir, all or nothing."""
        target = self._path(dump_dir, "dump_dir", require_roots)
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
            counts: dict[str, int] = {}

            def consume(export: CubeExport) -> None:
                counts.clear()
                with (staging / TEXTUAL_MEMORY_FILE).open("w", encoding="utf-8") as out:
                    counts.update(_write_tree(out, export, cube.cube_id))

            self._repository.export(cube.cube_id, self._settings.timeout_s, consume)
            config = {
                "model_schema": MODEL_SCHEMA,
                "user_id": cube.owner_id,
                "cube_id": cube.cube_id,
                "config_filename": CONFIG_FILE,
                "text_mem": {
                    "backend": "tree_text",
                    "config": {
                        "cube_name": cube.cube_name,
                        "embedder": {
                            "backend": "sentence_transformer",
                            "config": {
                                "model_name_or_path": cube.embedding_model,
                                "embedding_dims": cube.embedding_dim,
                            },
                        },
                        "graph_db": {"backend": "neo4j", "config": {"db_name": self._rt.config.neo4j.database}},
                    },
                },
                "act_mem": {"backend": "uninitialized", "config": {}},
                "para_mem": {"backend": "uninitialized", "config": {}},
            }
            (staging / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
            manifest = {
                "dumped_by": actor.user_id,
                "cube_id": cube.cube_id,
                "dumped_at": dt.datetime.now(dt.UTC).isoformat(),
            }
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
            memories=counts["memories"],
            versions=counts["versions"],
            messages=counts["messages"],
            documents=counts["documents"],
            edges=counts["edges"],
        )

    # -- import ---------------------------------------------------------------------------------------

    def import_directory(
        self, actor: User, path: str, mem_cube_id: str | None, require_roots: bool = False
    ) -> TransferReport:
        """Import a MemOS cube directory (either form) as a cube the actor owns; nothing stays if it fails.

        Which directories the actor may import: see _importable (with transfer roots, a dump it wrote or
        one under <root>/<user id>/; ROOT any inside the roots). The cube id is held for the import with a
        lease (transfer.import_lease_s) that every batch renews: another import of the same id answers
        Conflict and changes nothing while the lease is live, and takes the leftover over (deleting what it
        wrote) only once the lease ran out, i.e. once that import crashed or stalled.
        """
        directory = self._importable(actor, path, require_roots)
        survey = self._survey(directory)
        wanted = mem_cube_id or survey.source.cube_id or str(uuid.uuid4())
        cube_id = check_cube_id(wanted, "cube id", self._rt.config.limits)
        if not access.may_create_cube(actor, actor):
            raise AccessDenied(f"user '{actor.user_id}' may not create cubes")
        existing, stale = self._prepare_target(actor, cube_id)
        if not existing:
            self._cubes.check_quota(actor)  # a new cube counts against limits.max_cubes_per_user
        plan = self._plan(survey, cube_id, stale)
        import_id = str(uuid.uuid4())
        embedder = self._rt.embedder
        properties = {
            "name": str(self._cube_name(survey.source, directory)),
            "path": str(directory),
            "embedding_model": embedder.model_name,
            "embedding_dim": embedder.dimension,
        }
        leftovers: list[str] = []
        if not stale:
            self._repository.begin(cube_id, import_id, properties, existing, actor.user_id)
        else:
            leftovers = self._repository.take_over(cube_id, stale[0], import_id, properties, actor.user_id)
            logger.warning("import into cube %s takes over from the expired import %s", cube_id, stale[0])
        try:
            if leftovers:
                for crashed in leftovers:
                    self._repository.discard_nodes(cube_id, crashed, self._settings.timeout_s)
                self._repository.leftovers_done(cube_id, import_id)
                leftovers = []
            total = plan.items()
            with tqdm(
                total=total, desc=f"importing {cube_id}", unit="item", file=sys.stderr, disable=total < PROGRESS_MIN
            ) as progress:
                max_chars = self._rt.config.limits.max_memory_chars
                for batch in prefetched(plan.batches(self._settings.batch_size, max_chars, embedder.embed)):
                    self._repository.write(cube_id, import_id, batch)
                    progress.update(batch_size(batch))
            self._repository.finish(cube_id, import_id, actor.user_id)
        except BaseException:
            logger.warning("import into cube %s failed; deleting what it wrote", cube_id)
            try:
                self._repository.discard(cube_id, import_id, self._settings.timeout_s, leftovers)
            except Exception:  # the original error matters more; the next import of this id cleans up
                logger.exception("could not discard the failed import %s of cube %s", import_id, cube_id)
            raise
        self._rt.cube_indexes.promote_if_large(cube_id, plan.counts[NodeKind.MEMORY])  # see graph/cube_index.py
        return TransferReport(
            cube_id,
            str(directory),
            memories=plan.counts[NodeKind.MEMORY],
            versions=plan.counts[NodeKind.VERSION],
            messages=plan.counts[NodeKind.MESSAGE],
            documents=plan.counts[NodeKind.DOCUMENT],
            edges=len(plan.edges),
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
        max_bytes = self._settings.max_file_bytes
        try:
            file = TextualMemoryFile(directory / TEXTUAL_MEMORY_FILE, max_bytes)
            config: CubeSource | None = None
            if (directory / CONFIG_FILE).exists():
                config = parse_config(_load_json(directory / CONFIG_FILE, CONFIG_MAX_BYTES))
            shape = file.shape(config.backend if config else None)
            source = config or unknown_source(shape.backend)
            survey = ImportSurvey.take(
                source, file, shape, self._rt.config.limits.max_memory_chars, self._rt.embedder.dimension
            )
        except CubeFormatError as exc:
            raise InvalidInput(str(exc)) from exc
        if survey.undecoded_sources:
            logger.warning("%s: %d sources are text, not source entries: kept verbatim as text sources",
                           directory, survey.undecoded_sources)
        return survey

    @staticmethod
    def _cube_name(source: CubeSource, directory: Path) -> str:
        return source.cube_id or directory.name

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

    def _plan(self, survey: ImportSurvey, cube_id: str, leftovers: Sequence[str] = ()) -> ImportPlan:
        ids = survey.memory_ids()
        step = TAKEN_IDS_STEP
        taken = any(self._repository.taken_ids(ids[i : i + step], cube_id, leftovers) for i in range(0, len(ids), step))
        embedder = self._rt.embedder
        same_model = normalise_model_name(survey.source.embedder_model) == normalise_model_name(embedder.model_name)
        return ImportPlan.build(survey, cube_id, taken, reuse_vectors=same_model and survey.all_vectors_stored())


def _in_user_area(directory: Path, root: Path, user_id: str) -> bool:
    """Whether the (real) directory lies in the user's own directory <root>/<user id> of a transfer root."""
    if not user_id or user_id in (".", "..") or "/" in user_id or "\x00" in user_id:
        return False
    area = root / user_id
    return directory == area or directory.is_relative_to(area)


def _dumped_by(directory: Path) -> str | None:
    """The writer a dump's manifest names; None when there is no readable manifest (never an error, so a
    missing directory and a foreign one look alike to the caller)."""
    try:
        with (directory / MANIFEST_FILE).open("rb") as handle:
            raw = handle.read(MANIFEST_MAX_BYTES + 1)
        if len(raw) > MANIFEST_MAX_BYTES:
            return None
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    writer = data.get("dumped_by") if isinstance(data, dict) else None
    return writer if isinstance(writer, str) else None


def _refuse_constant(name: str) -> Callable[[str], object]:
    """json.load's hook for NaN and Infinity, which JSON does not have and every later reader would choke on."""

    def refuse(constant: str) -> object:
        raise InvalidInput(f"{name} holds {constant}: numbers must be finite (JSON has no NaN or Infinity)")

    return refuse


def _load_json(path: Path, max_bytes: int) -> object:
    if not path.is_file():
        raise InvalidInput(f"{path.name} is missing from the cube directory")
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidInput(f"{path.name} has {size} bytes; the limit is {max_bytes}")
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle, parse_constant=_refuse_constant(path.name))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{path.name} nests lists or objects too deep") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path.name} is not valid JSON (truncated?): {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc


# -- writing a dump ----------------------------------------------------------------------------------------


def _provenance_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(PROVENANCE_NAMESPACE, f"{kind}\x1f{key}"))


def _rounded(vector: Iterable[float]) -> list[float]:
    # float32 vectors: eight decimals keep them to within 5e-9 and halve the file against full reprs.
    rounded: list[float] = np.round(np.asarray(list(vector), dtype=np.float64), 8).tolist()
    return rounded


def _memory_metadata_out(node: dict[str, Any], kind: NodeKind) -> dict[str, Any]:
    item = item_from_node(node)
    metadata = item.metadata.model_dump(mode="json", exclude={"relativity", "embedding"}, exclude_none=True)
    metadata[KIND_KEY] = kind.value
    return metadata


def _write_tree(out: IO[str], export: CubeExport, cube_id: str) -> dict[str, int]:
    """Stream the tree_text form: nodes as they come from the graph, then every edge whose ends were written."""
    written: dict[tuple[str, str], str] = {}  # (kind, graph id or key) -> id in the file
    counts = {"memories": 0, "versions": 0, "messages": 0, "documents": 0, "edges": 0}
    out.write('{"nodes": [')
    separator = "\n"

    def emit(kind: NodeKind, ref: str, node_id: str, memory: str, metadata: dict[str, Any]) -> None:
        nonlocal separator
        out.write(separator + json.dumps({"id": node_id, "memory": memory, "metadata": metadata}, ensure_ascii=False))
        separator = ",\n"
        written[(kind.value, ref)] = node_id

    for node in export.memories():
        metadata = _memory_metadata_out(node, NodeKind.MEMORY)
        if node.get("embedding") is not None:
            metadata["embedding"] = _rounded(node["embedding"])
        emit(NodeKind.MEMORY, node["id"], node["id"], node["memory"], metadata)
        counts["memories"] += 1
    for node in export.versions():
        metadata = _memory_metadata_out(node, NodeKind.VERSION)
        metadata.update(memory_id=node["memory_id"], archived_at=iso(node.get("archived_at")), status="archived")
        emit(NodeKind.VERSION, node["id"], node["id"], node["memory"], metadata)
        counts["versions"] += 1
    for kind_name, node in export.provenance():
        kind = NodeKind(kind_name)
        metadata = {
            key: iso(value) if key in ("created_at", "updated_at") else value
            for key, value in node.items()
            if key not in ("cube_id", "import_id")
        }
        metadata.update({KIND_KEY: kind.value, "status": "archived"})
        text = node.get("content") if kind is NodeKind.MESSAGE else node.get("path", node["key"])
        emit(kind, node["key"], _provenance_id(kind.value, node["key"]), str(text or ""), metadata)
        counts["messages" if kind is NodeKind.MESSAGE else "documents"] += 1
    out.write('\n], "edges": [')
    separator = "\n"
    for edge in export.edges():
        row = _edge_out(edge, written)
        if row is None:
            continue  # an end written after this pass began (a concurrent add): not part of this dump
        out.write(separator + json.dumps(row))
        separator = ",\n"
        counts["edges"] += 1
    nodes = counts["memories"] + counts["versions"] + counts["messages"] + counts["documents"]
    out.write(f'\n], "total_nodes": {nodes}, "total_edges": {counts["edges"]}}}\n')
    logger.debug("dump of %s: %s", cube_id, counts)
    return counts


def _edge_out(edge: ExportedEdge, written: dict[tuple[str, str], str]) -> dict[str, Any] | None:
    source = written.get((edge.source_kind, edge.source))
    target = written.get((edge.target_kind, edge.target))
    if source is None or target is None:
        return None
    row: dict[str, Any] = {"source": source, "target": target, "type": edge.related_type or edge.type}
    if edge.at is not None:
        row["at"] = iso(edge.at)
    return row

"""Imports read textual_memory.json as a stream: memory flat in the file's size, the file's shape checked before
anything is built, and a file that changes between the validating and the writing pass refused."""

from __future__ import annotations

import json
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memos_graph import MOS
from memos_graph.config import LimitSettings
from memos_graph.cube_format.entries import CubeFormatError, unknown_source
from memos_graph.cube_format.reader import MAX_DEPTH, TextualMemoryFile
from memos_graph.errors import InvalidInput
from memos_graph.graph.transfer import CubeTransferRepository
from memos_graph.services.import_plan import ImportPlan
from memos_graph.services.import_survey import ImportSurvey
from memos_graph.services.runtime import Runtime
from testkit.fixtures import count_nodes
from tests.integration.test_cube_transfer import memos_config, transfer_mos, write_cube

__all__ = ["transfer_mos"]  # the fixture, shared with the transfer tests

DIMENSION = 896  # the default embedder: all-MiniLM-L6-v2 (384) and USE multilingual v3 (512) side by side


def tree_file(path: Path, count: int, text: Callable[[int], str] = lambda i: f"Memory {i} about the harbour") -> Path:
    """A tree_text textual_memory.json of `count` memories with 896-d vectors and a chain of edges."""
    ids = [str(uuid.UUID(int=i + 1)) for i in range(count)]
    nodes = [
        {
            "id": ids[i],
            "memory": text(i),
            "metadata": {
                "memory_type": "LongTermMemory",
                "tags": ["harbour"],
                "embedding": [0.001 * (1 + i % 7)] * DIMENSION,
            },
        }
        for i in range(count)
    ]
    edges = [{"source": ids[i], "target": ids[i + 1], "type": "RELATE_TO"} for i in range(count - 1)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"nodes": nodes, "edges": edges, "total_nodes": count, "total_edges": len(edges)}))
    return path


def survey_of(path: Path) -> ImportSurvey:
    file = TextualMemoryFile(path.parent, 10**10)
    shape = file.shape("tree_text")
    return ImportSurvey.take(
        unknown_source("tree_text"), file, shape, LimitSettings(max_memory_chars=10_000), DIMENSION
    )


@pytest.mark.slow
def test_the_validating_pass_holds_a_fraction_of_what_parsing_the_whole_file_holds(tmp_path: Path) -> None:
    path = tree_file(tmp_path / "big" / "textual_memory.json", 4_000)

    tracemalloc.start()
    try:
        whole = json.loads(path.read_text())
        _, whole_peak = tracemalloc.get_traced_memory()
        del whole
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        survey = survey_of(path)
        _, streamed_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert len(survey.nodes) == 4_000 and survey.edge_count == 3_999 and survey.all_vectors_stored()
    # What stays is a few hundred bytes per node (id, hash, kind), not its text, vector or edges.
    assert streamed_peak - baseline < whole_peak / 5, (streamed_peak - baseline, whole_peak)


def test_the_writing_pass_yields_batches_as_it_reads(tmp_path: Path) -> None:
    path = tree_file(tmp_path / "t" / "textual_memory.json", 25, text=lambda i: f"Fact {i % 20}")  # 5 repeats
    survey = survey_of(path)
    plan = ImportPlan.build(survey, "stream-cube", taken=False, reuse_vectors=True, importer="root")

    def never(texts: list[str]) -> list[list[float]]:
        raise AssertionError("stored vectors of the configured model are reused, not re-embedded")

    batches = list(plan.batches(10, 10_000, never))

    assert [len(b.memories) for b in batches] == [10, 10, 0]  # nodes in file order, then the edges
    # 24 edges in the file; the four among the repeats (20->21 ... 23->24) repeat 0->1 ... 3->4 once merged.
    assert plan.merged == 5 and len(batches[-1].edges) == 20
    assert all(memory.embedding is not None for b in batches for memory in b.memories)


def test_a_file_changed_between_the_passes_is_refused_and_nothing_stays(
    transfer_mos: Callable[..., MOS],
    runtime: Runtime,
    uid: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory = tmp_path / "cube"
    path = tree_file(directory / "textual_memory.json", 12)
    (directory / "config.json").write_text(json.dumps(memos_config("tree_text", "all-MiniLM-L6-v2")))
    real_begin = CubeTransferRepository.begin

    def begin_then_edit(self: CubeTransferRepository, *args: Any, **kwargs: Any) -> None:
        real_begin(self, *args, **kwargs)
        tree_file(path, 12, text=lambda i: f"Memory {i} about the harbour" + ("!" if i == 11 else ""))

    monkeypatch.setattr(CubeTransferRepository, "begin", begin_then_edit)
    cube_id = uid("changed")

    with pytest.raises(InvalidInput, match="changed while it was being imported"):
        transfer_mos(batch_size=5).register_mem_cube(str(directory), mem_cube_id=cube_id)

    assert count_nodes(runtime, "MemCube", id=cube_id) == 0
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"nodes": [], "nodes": []}', "'nodes' appears twice at the top level"),
        ('{"nodes": {}, "edges": []}', "'nodes' and 'edges' must be lists"),
        ('{"nodes": [], "edges": 3}', "'nodes' and 'edges' must be lists"),
        ('[{"id": 1}] [2]', "trailing garbage"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nests lists or objects too deep"),
    ],
)
def test_the_shape_pass_refuses_what_a_whole_file_parse_would_have_taken_differently(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "textual_memory.json"
    path.write_text(text)
    with pytest.raises(CubeFormatError, match=message):
        TextualMemoryFile(tmp_path, 10**9).shape(None)


def test_millions_of_brackets_are_refused_at_once(tmp_path: Path) -> None:
    # ijson's prefixed parsers spend O(depth) per event: without the depth check first, this never ends.
    path = tmp_path / "textual_memory.json"
    path.write_text("[" * 3_000_000)
    with pytest.raises(CubeFormatError, match=f"too deep \\(more than {MAX_DEPTH}\\)"):
        TextualMemoryFile(tmp_path, 10**9).shape(None)


def test_a_directory_without_config_is_imported_in_the_form_its_file_has(
    transfer_mos: Callable[..., MOS], runtime: Runtime, uid: Callable[[str], str], tmp_path: Path
) -> None:
    directory = tmp_path / "tree_only"
    tree_file(directory / "textual_memory.json", 4)
    cube_id = uid("treeonly")
    transfer_mos().register_mem_cube(str(directory), mem_cube_id=cube_id)
    assert count_nodes(runtime, "Memory", cube_id=cube_id) == 4
    write_cube(tmp_path / "scalar", memos_config("tree_text", "x"), 5)
    with pytest.raises(InvalidInput, match="tree_text holds an object"):
        transfer_mos().register_mem_cube(str(tmp_path / "scalar"), mem_cube_id=uid("scalar"))


@pytest.mark.slow
def test_edges_are_checked_one_by_one_never_collected(tmp_path: Path) -> None:
    # Issue 22, M3: the shape pass kept every edge as a Python object before checking any (a 57 MB file of
    # dangling edges added 565 MB to the server). Now no pass holds more than one edge (or one batch of them).
    edges = [{"source": f"s{i}", "target": f"t{i}", "type": "RELATED"} for i in range(200_000)]
    directory = tmp_path / "edges"
    directory.mkdir()
    (directory / "textual_memory.json").write_text(json.dumps({"nodes": [], "edges": edges}))
    size = (directory / "textual_memory.json").stat().st_size
    del edges

    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        with pytest.raises(CubeFormatError, match=r"edges\[0\]: its source is not the id of a node in this file"):
            survey_of(directory / "textual_memory.json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # 200,000 edges as objects are about 100 MB (six times the file's 11 MB); one read buffer is 64 KB.
    assert peak - baseline < 4 * 2**20, (peak - baseline, size)


@pytest.mark.slow
def test_a_valid_file_of_many_edges_is_surveyed_without_them(tmp_path: Path) -> None:
    path = tree_file(tmp_path / "many" / "textual_memory.json", 300)
    document = json.loads(path.read_text())
    ids = [node["id"] for node in document["nodes"]]
    document["edges"] = [{"source": ids[i % 300], "target": ids[i // 300], "type": "RELATE_TO"} for i in range(60_000)]
    document["total_edges"] = 60_000
    path.write_text(json.dumps(document))

    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        survey = survey_of(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert survey.edge_count == 60_000 and len(survey.nodes) == 300
    assert peak - baseline < 4 * 2**20, peak - baseline  # 60,000 edges held would be about 30 MB
    plan = ImportPlan.build(survey, "edges-cube", taken=False, reuse_vectors=True, importer="root")
    sizes = [len(batch.edges) for batch in plan.batches(1_000, 10_000, lambda texts: []) if batch.edges]
    assert sizes == [5_000] * 11 + [60_000 - 200 - 55_000], sizes  # 200 self-loops (i % 300 == i // 300) skipped

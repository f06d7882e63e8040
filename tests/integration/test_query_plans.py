"""Every named statement, in every combination of its choices, is planned by the real Neo4j without scanning
a whole label or relationship type, except the few whose job is the whole graph.

A statement that scans makes one tenant's call cost grow with every other tenant's data. The usual cause is
a composite index on (cube_id, x) queried on cube_id alone, which Neo4j 5 uses only when x has a predicate
too (`x IS NOT NULL` suffices): `delete_all` over 520 cubes took 30 s of label scans before that was fixed.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from memos_graph.graph.queries import command, declared_choices, query
from memos_graph.services.runtime import Runtime

QUERIES = Path(__file__).resolve().parents[2] / "cypher" / "queries"
SCANS = {
    "AllNodesScan",
    "NodeByLabelScan",
    "NodeIndexScan",
    "DirectedRelationshipTypeScan",
    "UndirectedRelationshipTypeScan",
}
# Statements whose work is the whole graph, by design (each named with why).
WHOLE_GRAPH = {
    "user_accessible_cubes_all": "ROOT and ADMIN see every active cube",
    "users_active": "ROOT and ADMIN list every active user",
    "reembed_cubes": "maintenance re-embed walks every cube",
    "reembed_forget_cube_indexes": "maintenance re-embed drops every per-cube index record",
    "cube_terms_reindex_pending": "the analyzer migration finds, once at start, the cubes holding CJK text",
    "schema_any_memory": "start-up asks whether the graph holds any memory: the first one found ends the scan",
    "schema_embedding_models": "start-up checks the embedding model every cube holding memories records",
    "schema_data_version": "the graph's one marker node (MemosGraphSchema has no index: one node)",
    "schema_data_version_set": "the graph's one marker node (MemosGraphSchema has no index: one node)",
    "schema_reembed_pending": "the graph's one marker node (MemosGraphSchema has no index: one node)",
    "reembed_begin": "the graph's one marker node (MemosGraphSchema has no index: one node)",
    "reembed_finish": "the graph's one marker node (MemosGraphSchema has no index: one node)",
    "user_uid_backfill": "every start gives the users created before uids existed theirs",
    "memory_cube_key_pending": "the cube_key migration (data version 2) finds, once, the memories without one",
    "memory_cube_key_backfill": "the cube_key migration (data version 2), a cube at a time, once",
    "memory_terms_backfill_pending": "the BM25 migration (data version 3) finds, once, the memories without postings",
    "memory_terms_backfill_page": "the BM25 migration (data version 3), a cube at a time, once",
    "event_times_pending": "maintenance event-times counts every memory without an event time",
}


def _operators(plan: dict[str, Any]) -> list[str]:
    found = [str(plan["operatorType"]).split("@")[0]]
    for child in plan.get("children", []):
        found.extend(_operators(child))
    return found


def _combinations(name: str) -> list[tuple[tuple[str, str], ...]]:
    choices = declared_choices(name)
    return [tuple(zip(choices, values, strict=True)) for values in itertools.product(*choices.values())]


@pytest.mark.parametrize("name", sorted(path.stem for path in QUERIES.glob("*.cypher")))
def test_statement_is_planned_without_a_full_scan(runtime: Runtime, name: str) -> None:
    for combination in _combinations(name):
        with runtime.store.driver.session(database=runtime.store.database) as session:
            summary = session.run("EXPLAIN " + query(name, combination)).consume()
        assert summary.plan is not None
        scans = sorted(SCANS.intersection(_operators(summary.plan)))
        if name in WHOLE_GRAPH:
            continue
        assert not scans, f"{name} {dict(combination)} scans: {scans}"


def test_the_whole_graph_list_names_real_statements_that_do_scan(runtime: Runtime) -> None:
    for name in WHOLE_GRAPH:
        assert (QUERIES / f"{name}.cypher").is_file()
        with runtime.store.driver.session(database=runtime.store.database) as session:
            summary = session.run("EXPLAIN " + query(name, _combinations(name)[0])).consume()
        assert summary.plan is not None and SCANS.intersection(_operators(summary.plan)), name


def test_every_schema_command_runs_on_neo4j(runtime: Runtime) -> None:
    """cypher/commands/ (statements naming an index or a label): each runs, and running it again is harmless."""
    store = runtime.store
    shared = store.run_statement(query("schema_vector_index"), name="memory_embedding")
    config = dict(shared[0]["options"]["indexConfig"])
    names = {"index": "plan_test_vector_index", "label": "PlanTestLabel"}
    for _ in range(2):
        store.run_statement(command("cube_vector_index_create", **names), config=config)
    listed = {row["name"] for row in store.run_statement(query("schema_vector_index_names"))}
    assert names["index"] in listed
    for _ in range(2):
        store.run_statement(command("drop_index", index=names["index"]))
    listed = {row["name"] for row in store.run_statement(query("schema_vector_index_names"))}
    assert names["index"] not in listed
    assert {path.stem for path in (QUERIES.parent / "commands").glob("*.cypher")} == {
        "cube_vector_index_create",
        "drop_index",
    }

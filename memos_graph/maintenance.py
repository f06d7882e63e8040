"""Operator tasks: python -m memos_graph.maintenance rebuild-indexes | re-embed | event-times (also `memos-graph
maintenance`)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import neo4j
from neo4j import ManagedTransaction

from memos_graph.config import MOSConfig
from memos_graph.domain import SourceReference, TextualMemoryMetadata
from memos_graph.domain.time_spans import parse_moment
from memos_graph.embeddings import Embedder, build_embedder
from memos_graph.graph.cube_index import DedicatedIndexes, drop_dedicated_index
from memos_graph.graph.queries import query
from memos_graph.graph.schema import VECTOR_INDEX, apply_schema, rebuild_search_indexes, stored_vector_dimension
from memos_graph.graph.store import GraphStore, run_named
from memos_graph.services.memory_parts import (
    CHAT_TIME_PREFIX,
    TIME_FIELDS,
    message_text,
    with_context,
    with_event_time,
)
from memos_graph.services.progress import progress as report_progress

logger = logging.getLogger(__name__)

REEMBED_PAGE = 500
CUBE_INDEX_PREFIX = "cube_vector_"


@dataclass(frozen=True)
class ReembedReport:
    """What a re-embed did."""

    model: str
    dimension: int
    previous_dimension: int | None
    memories: int
    cubes: int
    cube_indexes: int
    seconds: float


def reembed_graph(
    store: GraphStore,
    embedder: Embedder,
    config: MOSConfig,
    page_size: int = REEMBED_PAGE,
    progress: bool = True,
) -> ReembedReport:
    """Re-embed every memory of the graph with `embedder` and rebuild the vector indexes for its dimension.

    Steps: mark the graph (services refuse to start until the end, see graph/schema.py
    check_no_reembed_pending); drop the shared vector index and every cube's own; embed the memories a page at
    a time (the text an add embedded: a message's memory with the messages before it), one write
    transaction per page; record the model and dimension on every cube; clear the mark; create the shared
    index for the new dimension and the large cubes' own indexes again. Interrupted, it is run again from
    the start. Writers must be stopped meanwhile: an add through a process started before would store a
    vector of the old model.
    """
    started = time.perf_counter()
    model, dimension = embedder.model_name, embedder.dimension
    previous = stored_vector_dimension(store)
    store.run_statement(query("reembed_begin"), model=model, dimension=dimension)
    store.run_write(lambda tx: run_named(tx, "reembed_forget_cube_indexes"))
    own = store.run_statement(query("schema_vector_index_names"))
    for name in (str(row["name"]) for row in own):
        if name.startswith(CUBE_INDEX_PREFIX):
            drop_dedicated_index(store, name)
    store.run_statement(f"DROP INDEX {VECTOR_INDEX} IF EXISTS")  # a constant name, not user input
    total = int(store.run_statement(query("reembed_memory_count"))[0]["n"])
    window = config.ingest.context_messages
    done, after = 0, ""
    shown = 1 if progress else total + 1  # a re-embed always shows its progress, unless asked not to
    with report_progress(f"re-embedding with {model}", total, "memory", minimum=shown) as advance:
        while True:
            page = store.read("reembed_page", after=after, limit=page_size, window=window)
            if not page:
                break
            texts = [embedding_text(record.data()) for record in page]
            vectors = embedder.embed(texts)
            pairs = zip(page, vectors, strict=True)
            rows = [{"id": str(record["id"]), "embedding": vector} for record, vector in pairs]
            store.run_write(partial(_write_vectors, rows=rows))
            done += len(rows)
            after = str(page[-1]["id"])
            advance(len(rows))
    cubes = store.run_write(lambda tx: run_named(tx, "reembed_cubes", model=model, dimension=dimension))[0]
    store.run_statement(query("reembed_finish"))
    apply_schema(store, dimension, fulltext_analyzer=config.search.fulltext_analyzer, model=model)
    indexes = DedicatedIndexes(store, VECTOR_INDEX, config.search.dedicated_index_min_memories)
    labelled = cubes["labelled"] if config.search.dedicated_index_min_memories is not None else []  # unused: off
    rebuilt = sum(1 for cube_id in labelled if indexes.promote(str(cube_id)) is not None)
    report = ReembedReport(
        model, dimension, previous, done, int(cubes["cubes"]), rebuilt, time.perf_counter() - started
    )
    logger.info("re-embedded %d memories of %d cubes with %s (dimension %d)", done, report.cubes, model, dimension)
    return report


def _write_vectors(tx: ManagedTransaction, rows: list[dict[str, Any]]) -> None:
    run_named(tx, "reembed_write", rows=rows)


def embedding_text(record: dict[str, Any]) -> str:
    """The text an add embedded for this memory: a message's memory (fast mode: its text is the message's)
    followed by the messages before it, otherwise the memory's text."""
    memory = str(record["memory"])
    message = record.get("message")
    if message is None or message_text(_message(message)) != memory:
        return memory
    nearest: dict[int, dict[str, str | None]] = {}
    for before in record.get("before") or []:
        nearest.setdefault(int(before["distance"]), _message(before))
    return with_context(memory, [nearest[distance] for distance in sorted(nearest, reverse=True)])


def _message(properties: dict[str, Any]) -> dict[str, str | None]:
    return {
        key: None if properties.get(key) is None else str(properties[key])
        for key in ("role", "name", "content", "chat_time")
    }


def describe(report: ReembedReport) -> str:
    """One line for people."""
    change = (
        f"dimension {report.previous_dimension} -> {report.dimension}"
        if report.previous_dimension
        else (f"dimension {report.dimension}")
    )
    return (
        f"re-embedded {report.memories} memories of {report.cubes} cubes with {report.model} ({change}; "
        f"{report.cube_indexes} cube indexes rebuilt) in {report.seconds:.1f} s"
    )


def backfill_event_times(store: GraphStore, zone: dt.tzinfo, page_size: int = REEMBED_PAGE) -> int:
    """Give every memory stored before event times existed its event time (memory_time, event_start,
    event_end, time_source), read as an add reads it (services.memory_parts.with_event_time) against its sources'
    chat_time or its creation time; a page at a time, one write transaction per page. Safe beside running
    services and re-runnable: memories that have one are left alone. Returns how many it gave one."""
    done, after = 0, ""
    total = int(store.run_statement(query("event_times_pending"))[0]["n"])
    with report_progress("reading event times", total, "memory") as advance:
        while True:
            page = store.read("event_times_page", after=after, limit=page_size)
            if not page:
                break
            rows = [_event_time_row(record.data(), zone) for record in page]
            written = store.run_write(partial(_write_event_times, rows=rows))
            done += int(written[0]["written"])
            after = str(page[-1]["id"])
            advance(len(rows))
    logger.info("gave %d memories their event time", done)
    return done


def _write_event_times(tx: ManagedTransaction, rows: list[dict[str, Any]]) -> list[neo4j.Record]:
    return run_named(tx, "event_times_write", rows=rows)


def _event_time_row(record: dict[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    sources = [SourceReference.model_validate(s) for s in json.loads(record.get("sources_json") or "[]")]
    metadata = TextualMemoryMetadata(sources=sources, memory_time=record.get("memory_time"))
    created = parse_moment(str(record.get("created_at") or ""), zone) or dt.datetime.now(dt.UTC)
    timed = with_event_time(metadata, CHAT_TIME_PREFIX.sub("", str(record["memory"])), created.astimezone(zone), zone)
    return {"id": str(record["id"]), **{name: getattr(timed, name) for name in TIME_FIELDS}}


TASKS = ("re-embed", "rebuild-indexes", "event-times")


def run_task(task: str, config: MOSConfig, page_size: int = REEMBED_PAGE) -> tuple[dict[str, Any], str]:
    """Run one of TASKS against the configured Neo4j with the configured embedder; (data, text) of the result.

    Connects without starting the services (whose start-up refuses a graph of another model)."""
    store = GraphStore(config.neo4j)
    try:
        store.wait_until_ready(timeout_s=config.neo4j.connection_timeout_s * 4)
        if task == "event-times":
            started = time.perf_counter()
            given = backfill_event_times(store, config.ingest.tzinfo(), page_size=page_size)
            seconds = time.perf_counter() - started
            return {"memories": given, "seconds": seconds}, f"gave {given} memories their event time in {seconds:.1f} s"
        embedder = build_embedder(config.embedder)
        if task == "re-embed":
            report = reembed_graph(store, embedder, config, page_size=page_size)
            return dataclasses.asdict(report), describe(report)
        started = time.perf_counter()
        rebuild_search_indexes(store, embedder.dimension, config.search.fulltext_analyzer)
        seconds = time.perf_counter() - started
        return {"dimension": embedder.dimension, "seconds": seconds}, (
            f"rebuilt the vector and fulltext indexes in {seconds:.1f} s"
        )
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the named maintenance task against the configured Neo4j."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--config", help="MOSConfig JSON file (environment overrides apply)")
    parser.add_argument("--page-size", type=int, default=REEMBED_PAGE, help="re-embed: memories per transaction")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(run_task(args.task, MOSConfig.load(args.config), args.page_size)[1])


if __name__ == "__main__":
    main()

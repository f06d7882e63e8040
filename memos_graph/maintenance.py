"""Operator tasks: python -m memos_graph.maintenance rebuild-indexes | re-embed | event-times (also `memos-graph
maintenance`)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memos_graph.config import MOSConfig
from memos_graph.domain import TextualMemoryMetadata
from memos_graph.domain.time_spans import parse_moment
from memos_graph.embeddings import Embedder, build_embedder
from memos_graph.graph import maintenance as statements
from memos_graph.graph.cube_index import DedicatedIndexes
from memos_graph.graph.schema import VECTOR_INDEX, apply_schema, rebuild_search_indexes, stored_vector_dimension
from memos_graph.graph.store import GraphStore
from memos_graph.services.memory_parts import CHAT_TIME_PREFIX, TIME_FIELDS, message_text, with_context, with_event_time
from memos_graph.services.progress import progress as report_progress

logger = logging.getLogger(__name__)

REEMBED_PAGE = 500


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
    statements.begin_reembed(store, model, dimension)
    total = statements.memory_count(store)
    window = config.ingest.context_messages
    done, after = 0, ""
    shown = 1 if progress else total + 1  # a re-embed always shows its progress, unless asked not to
    with report_progress(f"re-embedding with {model}", total, "memory", minimum=shown) as advance:
        while True:
            page = statements.reembed_page(store, after, page_size, window)
            if not page:
                break
            texts = [embedding_text(record) for record in page]
            vectors = embedder.embed(texts)
            pairs = zip(page, vectors, strict=True)
            rows = [{"id": str(record["id"]), "embedding": vector} for record, vector in pairs]
            statements.write_vectors(store, rows)
            done += len(rows)
            after = str(page[-1]["id"])
            advance(len(rows))
    cubes = statements.record_model(store, model, dimension)
    statements.finish_reembed(store)
    apply_schema(store, dimension, fulltext_analyzer=config.search.fulltext_analyzer, model=model)
    indexes = DedicatedIndexes(store, VECTOR_INDEX, config.search.dedicated_index_min_memories)
    labelled = cubes.labelled if config.search.dedicated_index_min_memories is not None else []  # unused: off
    rebuilt = sum(1 for cube_id in labelled if indexes.promote(cube_id) is not None)
    report = ReembedReport(model, dimension, previous, done, cubes.cubes, rebuilt, time.perf_counter() - started)
    logger.info("re-embedded %d memories of %d cubes with %s (dimension %d)", done, report.cubes, model, dimension)
    return report


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
    total = statements.untimed_count(store)
    with report_progress("reading event times", total, "memory") as advance:
        while True:
            page = statements.untimed_page(store, after, page_size)
            if not page:
                break
            rows = [_event_time_row(memory, zone) for memory in page]
            done += statements.write_event_times(store, rows)
            after = page[-1].id
            advance(len(rows))
    logger.info("gave %d memories their event time", done)
    return done


def _event_time_row(memory: statements.UntimedMemory, zone: dt.tzinfo) -> dict[str, Any]:
    metadata = TextualMemoryMetadata(sources=memory.sources, memory_time=memory.memory_time)
    created = parse_moment(str(memory.created_at or ""), zone) or dt.datetime.now(dt.UTC)
    timed = with_event_time(metadata, CHAT_TIME_PREFIX.sub("", memory.memory), created.astimezone(zone), zone)
    return {"id": memory.id, **{name: getattr(timed, name) for name in TIME_FIELDS}}


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

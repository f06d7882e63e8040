"""Prometheus metrics of this process: every layer records through the helpers here, and /metrics (GraphQL and MCP
over HTTP) renders REGISTRY. docs/operations-metrics.md says what each metric means.

One registry per process, not prometheus_client's global one: only what memos-graph records (and the process's
CPU and memory) is exposed. Apps, runtimes and pools built in one process (tests build many) add to the same
series; a test reads deltas. Labels are bounded: doors, operation and tool names of the schema, error codes of
memos_graph/errors.py, search stages, model names and user ids; never memory ids or free text.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

P = ParamSpec("P")
R = TypeVar("R")

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

OK = "OK"
# Whether the helpers below record (bench_metrics_cost turns it off to measure what recording costs).
_recording = True
# Seconds: from a fraction of a millisecond (a cached lookup, a fusion) to a long import.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

REQUESTS = Counter(
    "memos_requests",
    "Operations answered, by door (graphql, mcp), operation (GraphQL root field or MCP tool) and outcome code",
    ["door", "operation", "code"],
    registry=REGISTRY,
)
OPERATION_SECONDS = Histogram(
    "memos_operation_seconds",
    "Time of a service operation end to end (search, add, chat, cube_import), failed ones included",
    ["operation"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
SEARCH_STAGE_SECONDS = Histogram(
    "memos_search_stage_seconds",
    "Time of each stage of a search: embedding (the query), neo4j (the first statement), ranking (fusion, "
    "neighbours, boosts and the large-cube index path)",
    ["stage"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
WORKER_QUEUE_DEPTH = Gauge(
    "memos_worker_queue_depth",
    "Calls waiting for a worker thread (for one of their caller's slots or a free thread)",
    registry=REGISTRY,
)
WORKERS_BUSY = Gauge("memos_workers_busy", "Calls running on a worker thread", registry=REGISTRY)
WORKER_WAIT_SECONDS = Histogram(
    "memos_worker_wait_seconds",
    "Time a call waited before its worker thread started it",
    buckets=_BUCKETS,
    registry=REGISTRY,
)
NEO4J_IN_USE = Gauge(
    "memos_neo4j_sessions_in_use",
    "Neo4j transactions and queries running now (each holds one pooled connection)",
    registry=REGISTRY,
)
NEO4J_RETRIES = Counter(
    "memos_neo4j_transaction_retries",
    "Transaction functions run again by the driver after a transient error, by access mode (read, write)",
    ["mode"],
    registry=REGISTRY,
)
LLM_CALLS = Counter(
    "memos_llm_calls",
    "Chat-model calls (chat and fine-mode extraction) by model, user and outcome (OK or the error code)",
    ["model", "user", "code"],
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "memos_llm_tokens",
    "Chat-model tokens by model, user and kind (prompt, completion): the provider's count, else an estimate",
    ["model", "user", "kind"],
    registry=REGISTRY,
)
LLM_SECONDS = Histogram(
    "memos_llm_call_seconds", "Time of one chat-model call", ["model"], buckets=_BUCKETS, registry=REGISTRY
)
API_KEY_CACHE = Counter(
    "memos_api_key_cache_lookups",
    "API-key lookups answered from the per-process key cache (hit) or not (miss)",
    ["result"],
    registry=REGISTRY,
)


def set_recording(on: bool) -> None:
    """Record (the default) or skip recording: for measuring the cost of the metrics, never in service."""
    global _recording
    _recording = on


def exposition() -> tuple[bytes, str]:
    """The registry in Prometheus's text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def count_request(door: str, operation: str, code: str) -> None:
    """One operation answered through `door` with `code` (OK or a MemosError code)."""
    if not _recording:
        return
    REQUESTS.labels(door, operation, code).inc()


@contextmanager
def _observed(histogram: Histogram, label: str) -> Iterator[None]:
    """Observe the block's time in the histogram under the label, also when it raises."""
    if not _recording:
        yield
        return
    began = time.perf_counter()
    try:
        yield
    finally:
        histogram.labels(label).observe(time.perf_counter() - began)


def timed_operation(operation: str) -> AbstractContextManager[None]:
    """Observe the block's time in memos_operation_seconds, also when it raises."""
    return _observed(OPERATION_SECONDS, operation)


def timed(operation: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator: each call of the function observed as `operation` in memos_operation_seconds."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with timed_operation(operation):
                return function(*args, **kwargs)

        return wrapper

    return decorate


def search_stage(stage: str) -> AbstractContextManager[None]:
    """Observe the block's time as a stage of a search, also when it raises."""
    return _observed(SEARCH_STAGE_SECONDS, stage)


@contextmanager
def neo4j_in_use() -> Iterator[None]:
    """Count the block as one Neo4j transaction or query running."""
    if not _recording:
        yield
        return
    NEO4J_IN_USE.inc()
    try:
        yield
    finally:
        NEO4J_IN_USE.dec()


def count_retry(mode: str) -> None:
    """The driver ran a transaction function again (mode: read or write)."""
    if not _recording:
        return
    NEO4J_RETRIES.labels(mode).inc()


def count_llm_call(model: str, user_id: str, code: str, prompt: int, completion: int, seconds: float) -> None:
    """One chat-model call: its outcome, its tokens and its time."""
    if not _recording:
        return
    LLM_CALLS.labels(model, user_id, code).inc()
    if prompt:
        LLM_TOKENS.labels(model, user_id, "prompt").inc(prompt)
    if completion:
        LLM_TOKENS.labels(model, user_id, "completion").inc(completion)
    LLM_SECONDS.labels(model).observe(seconds)


def count_key_lookup(hit: bool) -> None:
    """An API-key lookup the key cache answered (hit) or passed on to Neo4j (miss)."""
    if not _recording:
        return
    API_KEY_CACHE.labels("hit" if hit else "miss").inc()


def worker_queued() -> bool:
    """A call starts waiting for a worker thread; whether it was counted (hand it to the matching calls below, so
    that turning recording off or on meanwhile leaves the gauges right)."""
    if not _recording:
        return False
    WORKER_QUEUE_DEPTH.inc()
    return True


def worker_started(counted: bool, queued: float) -> None:
    """The call's thread starts it after waiting since `queued` (time.perf_counter())."""
    if counted:
        WORKER_QUEUE_DEPTH.dec()
        WORKER_WAIT_SECONDS.observe(time.perf_counter() - queued)
        WORKERS_BUSY.inc()


def worker_finished(counted: bool) -> None:
    """The call's thread is done with it."""
    if counted:
        WORKERS_BUSY.dec()


def worker_dropped(counted: bool) -> None:
    """The call stopped waiting without running (its deadline passed, or the pool shut down)."""
    if counted:
        WORKER_QUEUE_DEPTH.dec()

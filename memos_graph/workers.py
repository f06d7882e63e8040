"""The threads the doors (GraphQL resolvers, MCP tools) run blocking service calls on, each call under its
deadline: one call on its own thread (`within_deadline`), or a pool shared fairly between callers
(`WorkerPool`). asyncio only; no web framework."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from memos_graph import metrics
from memos_graph.deadlines import CallDeadline, deadline_scope
from memos_graph.errors import BackendUnavailable

T = TypeVar("T")


def _under(deadline: CallDeadline, work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        with deadline_scope(deadline):
            return work()

    return run


async def within_deadline(work: Callable[[], T], seconds: float) -> T:
    """Run blocking work on a thread under a call deadline; BackendUnavailable if it has not answered after
    `seconds`.

    The thread itself cannot be cancelled; it stops at its next Neo4j statement or before its commit
    (memos_graph.deadlines.CallDeadline). The client gets its answer now.
    """
    deadline = CallDeadline(seconds)
    try:
        return await asyncio.wait_for(asyncio.to_thread(_under(deadline, work)), seconds)
    except TimeoutError as exc:
        raise BackendUnavailable(deadline.timeout_message()) from exc


class _Measured(Generic[T]):
    """A call as a worker thread runs it: counted as waiting from `queued` (time.perf_counter()) until a thread
    starts it (its wait observed), then as busy while it runs."""

    def __init__(self, counted: bool, queued: float, work: Callable[[], T]) -> None:
        self.counted = counted
        self.queued = queued
        self.work = work
        self.started = False

    def __call__(self) -> T:
        self.started = True
        metrics.worker_started(self.counted, self.queued)
        try:
            return self.work()
        finally:
            metrics.worker_finished(self.counted)


class _Slots:
    """One caller's share of the pool: a semaphore, and how many of its calls wait or run."""

    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0


class WorkerPool:
    """The threads a door runs blocking service calls on, shared fairly between callers.

    `workers` threads in all; each caller holds at most `per_caller` of them at once, its other calls wait
    (without a thread) within their deadline, so one caller, however many fields or requests it sends,
    leaves the other threads to everyone else. A call keeps its slot until its thread has finished, also
    when the client was already answered UNAVAILABLE at the deadline.

    Light calls (`light=True`: one indexed point read, no embedding, no model, no scan) run in a lane of their
    own: `light_workers` more threads, and per caller `per_caller` light slots apart from its others, so a
    `memory(id)` does not queue behind the same caller's searches and adds (under load it waited for them
    most of its 0.8-1.0 s p50; with the lane 0.45x, bench/results/load-light.md). The lane has the same
    fairness; 0 turns it off (light calls then share the pool).
    """

    def __init__(self, workers: int, per_caller: int, light_workers: int = 0) -> None:
        self.workers = workers
        self.per_caller = per_caller
        self.light_workers = light_workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="memos-worker")
        self._light_executor = (
            ThreadPoolExecutor(max_workers=light_workers, thread_name_prefix="memos-light") if light_workers else None
        )
        self._callers: dict[str, _Slots] = {}
        self._light_callers: dict[str, _Slots] = {}

    def shutdown(self) -> None:
        """Stop taking work; running calls finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        if self._light_executor is not None:
            self._light_executor.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _leave(callers: dict[str, _Slots], caller_id: str, slots: _Slots) -> None:
        slots.users -= 1
        if slots.users == 0 and callers.get(caller_id) is slots:
            del callers[caller_id]

    async def run(self, caller_id: str, work: Callable[[], T], seconds: float, light: bool = False) -> T:
        """Run `work` on a worker within `seconds` (waiting for one of the caller's slots counts); `light`:
        in the light lane, when the pool has one."""
        deadline = CallDeadline(seconds)
        queued = time.perf_counter()
        executor, callers = self._executor, self._callers
        if light and self._light_executor is not None:
            executor, callers = self._light_executor, self._light_callers
        slots = callers.get(caller_id)
        if slots is None:
            slots = callers[caller_id] = _Slots(self.per_caller)
        slots.users += 1
        submitted = False
        # Waiting from here until a thread starts it (_Measured), or until it gives up before being submitted.
        counted = metrics.worker_queued()
        try:
            try:
                await asyncio.wait_for(slots.semaphore.acquire(), max(deadline.remaining(), 0.0))
            except TimeoutError:
                raise BackendUnavailable(
                    f"no worker for this call within {seconds:g} s: the caller's other calls held all "
                    f"{self.per_caller} workers one caller may use; nothing was done"
                ) from None
            try:
                context = contextvars.copy_context()
                job = _Measured(counted, queued, _under(deadline, work))
                future = asyncio.get_running_loop().run_in_executor(executor, context.run, job)
            except BaseException:
                slots.semaphore.release()
                raise
            submitted = True

            def finished(done: asyncio.Future[T]) -> None:
                if not done.cancelled():
                    done.exception()  # retrieved: an answer nobody waits for any more is not an error
                if not job.started:  # cancelled in the queue (the pool shut down): it waits no longer
                    metrics.worker_dropped(counted)
                slots.semaphore.release()
                self._leave(callers, caller_id, slots)

            future.add_done_callback(finished)
            try:
                return await asyncio.wait_for(asyncio.shield(future), max(deadline.remaining(), 0.0))
            except TimeoutError:
                raise BackendUnavailable(deadline.timeout_message()) from None
        finally:
            if not submitted:
                metrics.worker_dropped(counted)
                self._leave(callers, caller_id, slots)

"""The worker pool's light lane: a caller's point reads do not wait for its own heavy calls, and the lane keeps
the per-caller bound (memos_graph.workers.WorkerPool). Events, never timings, decide every outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from memos_graph.errors import BackendUnavailable
from memos_graph.workers import WorkerPool


def _blocker(release: threading.Event, started: threading.Event | None = None) -> Callable[[], str]:
    def work() -> str:
        if started is not None:
            started.set()
        release.wait(10)
        return "heavy"

    return work


async def _hold_slots(pool: WorkerPool, caller: str, release: threading.Event, light: bool) -> list[asyncio.Task[str]]:
    """Fill the caller's slots (per_caller of them) in one lane with calls that run until `release`."""
    tasks = []
    for _ in range(pool.per_caller):
        started = threading.Event()
        tasks.append(asyncio.create_task(pool.run(caller, _blocker(release, started), 10, light=light)))
        while not started.is_set():
            await asyncio.sleep(0.01)
    return tasks


def test_a_light_call_passes_the_callers_busy_slots() -> None:
    async def scenario() -> None:
        pool = WorkerPool(workers=2, per_caller=2, light_workers=2)
        release = threading.Event()
        try:
            heavy = await _hold_slots(pool, "alice", release, light=False)
            assert await pool.run("alice", lambda: "light", 5, light=True) == "light"
            # The same call without the lane waits for a slot the heavy calls hold: refused at its deadline.
            with pytest.raises(BackendUnavailable):
                await pool.run("alice", lambda: "queued", 0.2)
            release.set()
            assert await asyncio.gather(*heavy) == ["heavy", "heavy"]
        finally:
            release.set()
            pool.shutdown()

    asyncio.run(scenario())


def test_the_light_lane_keeps_the_per_caller_bound() -> None:
    async def scenario() -> None:
        pool = WorkerPool(workers=2, per_caller=1, light_workers=2)
        release = threading.Event()
        try:
            held = await _hold_slots(pool, "mallory", release, light=True)
            with pytest.raises(BackendUnavailable, match="workers one caller may use"):
                await pool.run("mallory", lambda: "more", 0.2, light=True)
            # Another caller's light call has the lane's other thread.
            assert await pool.run("bob", lambda: "bob", 5, light=True) == "bob"
            release.set()
            assert await asyncio.gather(*held) == ["heavy"]
        finally:
            release.set()
            pool.shutdown()

    asyncio.run(scenario())


def test_without_a_lane_light_calls_share_the_pool() -> None:
    async def scenario() -> None:
        pool = WorkerPool(workers=2, per_caller=1, light_workers=0)
        release = threading.Event()
        try:
            held = await _hold_slots(pool, "alice", release, light=False)
            with pytest.raises(BackendUnavailable):
                await pool.run("alice", lambda: "light", 0.2, light=True)
            release.set()
            await asyncio.gather(*held)
        finally:
            release.set()
            pool.shutdown()

    asyncio.run(scenario())

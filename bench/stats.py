"""Timing a call and summarising latencies: what every benchmark here reports, in one place."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean of durations in seconds, in ms; and how many there were."""
    ms = [s * 1000 for s in samples]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "n": len(ms),
    }


def timed(call: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result

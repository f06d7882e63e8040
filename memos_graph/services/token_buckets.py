"""Token buckets keyed by a string (a client address, a user id): a budget that refills at a steady rate.

Each key holds at most `burst` tokens and regains `per_second` of them a second. The table is bounded
(`max_keys`, least recently used out first): forgetting a key forgets only its spent budget, which is what a
full bucket is anyway after burst / per_second seconds. Thread-safe; the lock never waits on I/O.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBuckets:
    """Budgets per key, spent after the fact and checked before work; per_second == 0 turns them off
    (nothing is ever owed, nothing is kept)."""

    def __init__(self, per_second: float, burst: float, max_keys: int, clock: Clock = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, as of)

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def spend(self, key: str, amount: float) -> None:
        """Spend up to `amount` tokens after the fact (what a refused request cost); never below empty."""
        if not self.enabled:
            return
        with self._lock:
            self._store(key, max(0.0, self._tokens(key) - amount))

    def wait_s(self, key: str, amount: float = 1.0) -> float:
        """Seconds until the key holds `amount` tokens (0 when it does now); nothing is spent."""
        if not self.enabled:
            return 0.0
        with self._lock:
            return max(0.0, (amount - self._tokens(key)) / self.per_second)

    def remaining(self, key: str) -> float:
        """Tokens the key has now (for tests and diagnostics)."""
        with self._lock:
            return self._tokens(key)

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)

    def _store(self, key: str, tokens: float) -> None:
        self._buckets[key] = (tokens, self.clock())
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def _tokens(self, key: str) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return float(self.burst)
        tokens, as_of = entry
        return min(float(self.burst), tokens + max(0.0, self.clock() - as_of) * self.per_second)

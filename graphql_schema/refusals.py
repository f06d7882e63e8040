"""Each caller's budget of refused GraphQL documents, so a flood of documents that are refused anyway cannot
keep the event loop parsing for everyone (issue 22, H2).

Validation is linear in a document (graphql_schema.shape), but parsing a 2,000-token document still takes
about 9 ms of the event loop here, and a document refused for its shape or cost does no work a caller
wanted. So every document refused before execution (a parse or validation error, a shape or cost refusal,
variables that do not coerce) spends its size in bytes from its caller's bucket:
`limits.refused_document_bytes_burst` (64 KB by default) refilled at `limits.refused_document_bytes_per_s`
(8 KB a second; 0 turns the budget off). A document is admitted only while the caller's bucket holds its
size (at most a quarter of the burst, 16 KB: a large valid add needs no more than that), else it gets
TOO_MANY_REQUESTS (HTTP 429 with Retry-After, or an `error` message on the WebSocket) before it is parsed.
So a caller's refused documents cost at most the refill rate in bytes parsed a second: a flood of 8 KB
fragment diamonds gets eight parses, then one a second. A client that makes an occasional mistake never
notices (a typical refused query is a few hundred bytes, and valid documents spend nothing).
Budgets are per caller (user id), per process, for the whole app (HTTP and WebSocket alike).
"""

from __future__ import annotations

import math
import time

from memos_graph.config import LimitSettings
from memos_graph.errors import RateLimited
from memos_graph.services.token_buckets import Clock, TokenBuckets


class RefusedDocuments:
    """Per caller: the bytes of refused documents it may still send before it is refused unparsed."""

    def __init__(self, bytes_per_s: float, burst_bytes: int, max_callers: int, clock: Clock = time.monotonic) -> None:
        self._buckets = TokenBuckets(bytes_per_s, burst_bytes, max_callers, clock)
        self._admit_max = max(1, burst_bytes // 4)

    @classmethod
    def of(cls, limits: LimitSettings, clock: Clock = time.monotonic) -> RefusedDocuments:
        """The budget limits.refused_document_bytes_per_s and refused_document_bytes_burst describe."""
        return cls(
            limits.refused_document_bytes_per_s,
            limits.refused_document_bytes_burst,
            limits.auth_throttle_addresses,
            clock,
        )

    def check(self, caller: str, size: int) -> None:
        """RateLimited while the caller's bucket holds less than a document of `size` bytes would spend if it
        were refused (at most a quarter of the burst); nothing is spent."""
        wait_s = self._buckets.wait_s(caller, amount=float(max(1, min(size, self._admit_max))))
        if wait_s > 0:
            retry = max(1, math.ceil(wait_s))
            raise RateLimited(
                f"too many refused documents from this caller; retry in {retry} s (send documents that validate)",
                retry_after_s=retry,
            )

    def charge(self, caller: str, size: int) -> None:
        """A document of `size` bytes was refused before execution: spend its size."""
        self._buckets.spend(caller, float(max(1, size)))

    def remaining(self, caller: str) -> float:
        """Bytes the caller may still have refused (tests and diagnostics)."""
        return self._buckets.remaining(caller)

"""Failed API-key attempts are budgeted per client address, so guessing keys cannot load Neo4j for everyone.

Each address (an IPv6 address counts by its /64, which one host usually holds whole) has a token bucket of
`limits.auth_failure_burst` tokens refilled at `limits.auth_failures_per_s`. A key the cache knows to be
good costs nothing and is never refused here. Any other presented key is looked up only while the address
holds a token, and a key that turns out wrong spends one; a good key spends nothing, however many requests
look it up at once (taking a token before each lookup and giving it back refused good keys: 32 clients of
one address whose cached keys expired together got 429 in the load benchmark). With no token left, the
request is refused with TooManyAttempts (HTTP 429, Retry-After) before the key is looked up. So one address
makes about burst + rate x seconds lookups of wrong keys (plus those in flight when a token comes back),
however many requests it sends, while every other address, and every good key, goes on as before.

The table of buckets is bounded (`limits.auth_throttle_addresses`, least recently used out first): evicting
an address forgets only its spent budget, which is what a full bucket is anyway after burst / rate seconds.
The address is the one the ASGI server reports (behind a reverse proxy, the proxy's unless the server is
told to trust its forwarded headers: uvicorn's --forwarded-allow-ips).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable

from memos_graph.config import LimitSettings
from memos_graph.domain import User
from memos_graph.errors import TooManyAttempts, Unauthenticated
from memos_graph.services.token_buckets import Clock, TokenBuckets
from memos_graph.services.wiring import Services
from memos_graph.workers import within_deadline


def bucket_of(address: str | None) -> str:
    """The budget an address draws on: an IPv4 address itself, an IPv6 address's /64, anything else as is."""
    if not address:
        return "(unknown)"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class FailedAuthThrottle:
    """Token buckets of failed-key budget per client address (see TokenBuckets)."""

    def __init__(self, per_second: float, burst: int, max_addresses: int, clock: Clock = time.monotonic) -> None:
        self._buckets = TokenBuckets(per_second, burst, max_addresses, clock)

    @classmethod
    def of(cls, limits: LimitSettings, clock: Clock = time.monotonic) -> FailedAuthThrottle:
        """The throttle limits.auth_failures_per_s, auth_failure_burst and auth_throttle_addresses describe."""
        return cls(limits.auth_failures_per_s, limits.auth_failure_burst, limits.auth_throttle_addresses, clock)

    @property
    def enabled(self) -> bool:
        """auth_failures_per_s == 0 turns throttling off."""
        return self._buckets.enabled

    def check(self, address: str | None) -> None:
        """TooManyAttempts (with the seconds until the next token) when the address holds no token; nothing
        is spent."""
        wait_s = self._buckets.wait_s(bucket_of(address))
        if wait_s > 0:
            raise TooManyAttempts(
                f"too many failed API-key attempts from this address; retry in {math.ceil(wait_s)} s",
                retry_after_s=max(1, math.ceil(wait_s)),
            )

    def spend(self, address: str | None) -> None:
        """A presented key turned out wrong: one token of the address's budget."""
        self._buckets.spend(bucket_of(address), 1.0)

    def remaining(self, address: str | None) -> float:
        """Tokens the address has now (for tests and diagnostics)."""
        return self._buckets.remaining(bucket_of(address))

    def __len__(self) -> int:
        return len(self._buckets)


class KeyCheck:
    """One door's API-key check (GraphQL over HTTP and WebSocket, MCP over HTTP): the key cache first, then the
    address's failed-attempt budget, then Neo4j off the event loop within the call deadline."""

    def __init__(self, services_of: Callable[[], Services], throttle: FailedAuthThrottle) -> None:
        self._services_of = services_of
        self.throttle = throttle

    async def authenticate(self, key: str | None, address: str | None) -> User:
        """The key's active user; Unauthenticated for a missing, wrong or revoked key, TooManyAttempts when the
        address has spent its budget of failures (refused before any lookup), BackendUnavailable when Neo4j
        cannot say."""
        services = self._services_of()
        identity = services.identity
        try:
            cached = identity.authenticate_cached(key)
        except Unauthenticated:
            if key:  # a presented key known to be wrong: a guess like any other, though it cost no lookup
                self.throttle.check(address)
                self.throttle.spend(address)
            raise
        if cached is not None:
            return cached
        self.throttle.check(address)
        try:
            deadline_s = services.runtime.config.neo4j.call_deadline_s
            user = await within_deadline(lambda: identity.authenticate(key), deadline_s)
        except Unauthenticated:
            self.throttle.spend(address)  # a wrong key; Neo4j failing to say is not the client's failure
            raise
        return user

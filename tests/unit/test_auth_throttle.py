"""The failed-key throttle's buckets: per address (IPv6 by /64), refilled by the clock, bounded in number."""

from __future__ import annotations

import pytest

from memos_graph.errors import TooManyAttempts
from memos_graph.services.auth_throttle import FailedAuthThrottle, bucket_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_addresses_are_grouped_as_hosts_hold_them() -> None:
    assert bucket_of("2001:db8:1:2::1") == bucket_of("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert bucket_of("2001:db8:1:3::1") != bucket_of("2001:db8:1:2::1")
    assert bucket_of("::ffff:192.0.2.1") == bucket_of("192.0.2.1") == "192.0.2.1"
    assert bucket_of(None) == bucket_of("") and bucket_of("testclient") == "testclient"


def test_a_spent_budget_refuses_with_the_wait_and_refills() -> None:
    clock = Clock()
    throttle = FailedAuthThrottle(per_second=0.5, burst=2, max_addresses=10, clock=clock)
    throttle.spend("192.0.2.1")
    throttle.spend("192.0.2.1")
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check("192.0.2.1")
    assert refused.value.retry_after_s == 2 and refused.value.code == "TOO_MANY_REQUESTS"
    throttle.check("192.0.2.2")  # another address has its own budget
    clock.now += 2.0
    throttle.check("192.0.2.1")
    throttle.spend("192.0.2.1")
    with pytest.raises(TooManyAttempts):
        throttle.check("192.0.2.1")
    clock.now += 1_000
    assert throttle.remaining("192.0.2.1") == 2  # never more than the burst


def test_the_table_of_addresses_is_bounded() -> None:
    throttle = FailedAuthThrottle(per_second=1.0, burst=1, max_addresses=5, clock=Clock())
    for n in range(1_000):
        throttle.spend(f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) == 5


def test_zero_per_second_turns_it_off() -> None:
    throttle = FailedAuthThrottle(per_second=0, burst=1, max_addresses=5, clock=Clock())
    for _ in range(100):
        throttle.spend("192.0.2.1")
        throttle.check("192.0.2.1")
    assert len(throttle) == 0


def test_checking_spends_nothing_and_only_failures_spend() -> None:
    """Good keys are looked up after a check that spends nothing, so any number of them at once pass; each
    wrong key spends a token after its lookup (the load benchmark's 32 clients of one address got 429 for
    good keys when every lookup took a token first and gave it back after)."""
    clock = Clock()
    throttle = FailedAuthThrottle(per_second=0.5, burst=2, max_addresses=10, clock=clock)
    for _ in range(100):
        throttle.check("192.0.2.1")
    throttle.spend("192.0.2.1")
    throttle.check("192.0.2.1")
    throttle.spend("192.0.2.1")
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check("192.0.2.1")
    assert refused.value.retry_after_s == 2
    throttle.check("192.0.2.2")
    clock.now += 2.0
    throttle.check("192.0.2.1")

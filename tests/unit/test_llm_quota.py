"""LLMQuota's arithmetic on an injected clock: calls running at once reserve their prompt's tokens (so
concurrent calls cannot overshoot the hour's budget together), a call counts what the provider reported or
else an estimate (also when it failed), and places are given back however the work ends."""

from __future__ import annotations

import pytest

from memos_graph.config import LLMSettings
from memos_graph.errors import BackendUnavailable, RateLimited
from memos_graph.llm.base import ChatMessage
from memos_graph.services.llm_quota import LLMQuota, prompt_tokens


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def prompt(chars: int) -> list[ChatMessage]:
    return [{"role": "user", "content": "x" * chars}]


def settings(**bounds: int | None) -> LLMSettings:
    return LLMSettings(model="openai/unit", **bounds)


def test_running_calls_reserve_their_prompt_so_concurrent_calls_cannot_overshoot() -> None:
    quota = LLMQuota(settings(max_tokens_per_user_per_hour=1_000), clock=Clock())
    big = prompt(2_400)  # about 604 tokens
    assert prompt_tokens(big) == 604
    with quota.slot("u") as first, first.call(big) as meter:
        # A second place is free (4 per user), but the first call's prompt is reserved: 604 + 604 > 1000.
        with quota.slot("u") as second, pytest.raises(RateLimited, match="used about 604"), second.call(big):
            pass
        meter.reported = 100
    with quota.slot("u") as third, third.call(big):  # 100 + 604 fits now
        pass
    with quota.slot("u") as fourth, pytest.raises(RateLimited), fourth.call(big):
        pass


def test_a_failed_call_counts_its_prompt_and_what_it_answered() -> None:
    quota = LLMQuota(settings(max_tokens_per_user_per_hour=700), clock=Clock())
    with quota.slot("u") as slot, pytest.raises(BackendUnavailable), slot.call(prompt(2_000)) as meter:  # 504
        meter.answer_chars = 400  # 100 tokens more before the model failed
        raise BackendUnavailable("the chat model failed")
    with quota.slot("u") as slot, pytest.raises(RateLimited, match="used about 604"), slot.call(prompt(400)):
        pass
    assert quota.running() == 0


def test_places_are_per_user_and_in_all_and_given_back() -> None:
    quota = LLMQuota(settings(max_concurrent_per_user=1, max_concurrent=2), clock=Clock())
    with quota.slot("a"):
        with pytest.raises(RateLimited, match="max_concurrent_per_user"), quota.slot("a"):
            pass
        with quota.slot("b"):
            with pytest.raises(RateLimited, match=r"llm\.max_concurrent\)"), quota.slot("c"):
                pass
            assert quota.running() == 2 and quota.running("a") == 1
    assert quota.running() == 0
    with quota.slot("c"):
        assert quota.running("c") == 1


def test_no_model_means_no_bounds_here() -> None:
    quota = LLMQuota(None, clock=Clock())
    with quota.slot("u") as slot, slot.call(prompt(10**6)):
        assert quota.running() == 0

"""Per-user bounds on the chat model, whose provider key every user shares: model work running at once (per
user and in all), model calls per minute and tokens per hour per user. A call past a bound is refused with
RateLimited before the model is called. One LLMQuota per Runtime, so every door of a process (GraphQL over
HTTP and WebSocket, MOS, the CLI, MCP) counts against the same bounds; the counts live in memory, so each
server process keeps its own."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from memos_graph import metrics
from memos_graph.config import LLMSettings
from memos_graph.errors import MemosError, RateLimited
from memos_graph.llm.base import ChatMessage, TokenMeter

CALL_WINDOW_S = 60.0
TOKEN_WINDOW_S = 3_600.0
# Characters per token for an estimate where the provider reports no count (English text: about 4).
CHARS_PER_TOKEN = 4
# Tokens a chat message costs beyond its text (role and framing).
MESSAGE_OVERHEAD_TOKENS = 4
# How often the windows of users who stopped calling are dropped.
SWEEP_EVERY_S = 600.0


def estimate_tokens(chars: int) -> int:
    """About how many tokens `chars` characters of text are."""
    return math.ceil(chars / CHARS_PER_TOKEN)


def prompt_tokens(messages: Sequence[ChatMessage]) -> int:
    """About how many tokens a prompt is."""
    return sum(estimate_tokens(len(message["content"])) + MESSAGE_OVERHEAD_TOKENS for message in messages)


@dataclass
class _Call:
    """One model call in a user's windows: when it started, and its tokens (the prompt's estimate until it
    ends, then what it used)."""

    at: float
    tokens: int


class LLMQuota:
    """The bounds of llm.max_concurrent_per_user, llm.max_concurrent, llm.max_calls_per_user_per_minute and
    llm.max_tokens_per_user_per_hour, over rolling windows of `clock` (seconds; injectable for tests)."""

    def __init__(self, settings: LLMSettings | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._running_total = 0
        self._calls: dict[str, deque[_Call]] = {}
        self._next_sweep = clock() + SWEEP_EVERY_S

    @contextmanager
    def slot(self, user_id: str) -> Iterator[QuotaSlot]:
        """Hold one of the user's (and the server's) places for model work while the block runs; RateLimited
        when none is free, or when the user has no model call left in the current minute or hour."""
        settings = self._settings
        if settings is None:  # no model: whatever asks for one is refused as not configured, not here
            yield QuotaSlot(self, user_id)
            return
        with self._lock:
            running = self._running.get(user_id, 0)
            if running >= settings.max_concurrent_per_user:
                raise RateLimited(
                    f"you have {running} chat-model calls running, as many as one user may "
                    "(llm.max_concurrent_per_user); retry when one has finished"
                )
            if self._running_total >= settings.max_concurrent:
                raise RateLimited(
                    "the server is running as many chat-model calls as it may (llm.max_concurrent); retry shortly"
                )
            self._refuse_past_budget(settings, user_id, calls=1, tokens=0)
            self._running[user_id] = running + 1
            self._running_total += 1
        try:
            yield QuotaSlot(self, user_id)
        finally:
            with self._lock:
                self._running_total -= 1
                left = self._running[user_id] - 1
                if left:
                    self._running[user_id] = left
                else:
                    del self._running[user_id]

    def running(self, user_id: str | None = None) -> int:
        """Model work running now: the user's, or everyone's."""
        with self._lock:
            return self._running_total if user_id is None else self._running.get(user_id, 0)

    def _refuse_past_budget(self, settings: LLMSettings, user_id: str, calls: int, tokens: int) -> None:
        """RateLimited when `calls` more calls of `tokens` more tokens would pass the user's budget (lock held)."""
        now = self._clock()
        history = self._window(user_id, now)
        per_minute = settings.max_calls_per_user_per_minute
        if per_minute is not None:
            recent = [call.at for call in history if call.at > now - CALL_WINDOW_S]
            excess = len(recent) + calls - per_minute
            if excess > 0:
                if calls > per_minute:
                    raise RateLimited(
                        f"this needs {calls} chat-model calls, more than one user may make in a minute "
                        f"(llm.max_calls_per_user_per_minute: {per_minute})"
                    )
                wait = recent[excess - 1] + CALL_WINDOW_S - now
                raise RateLimited(
                    f"you have made {len(recent)} chat-model calls in the last minute; "
                    f"llm.max_calls_per_user_per_minute allows {per_minute}{_retry_in(wait)}",
                    retry_after_s=wait,
                )
        per_hour = settings.max_tokens_per_user_per_hour
        if per_hour is not None:
            if tokens > per_hour:
                raise RateLimited(
                    f"this prompt is about {tokens} tokens, more than one user may use in an hour "
                    f"(llm.max_tokens_per_user_per_hour: {per_hour})"
                )
            used = sum(call.tokens for call in history)
            # A check before the prompt is known (tokens 0) asks for one token: refused once the hour is spent.
            excess = used + max(tokens, 1) - per_hour
            if excess > 0:
                freed = 0
                wait = TOKEN_WINDOW_S
                for call in history:
                    freed += call.tokens
                    if freed >= excess:
                        wait = call.at + TOKEN_WINDOW_S - now
                        break
                raise RateLimited(
                    f"you have used about {used} chat-model tokens in the last hour; "
                    f"llm.max_tokens_per_user_per_hour allows {per_hour}{_retry_in(wait)}",
                    retry_after_s=wait,
                )

    def _window(self, user_id: str, now: float) -> deque[_Call]:
        """The user's calls of the last hour, oldest first (lock held); drops older ones, and now and then the
        windows of users who stopped calling."""
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY_S
            for other in list(self._calls):
                calls = self._calls[other]
                while calls and calls[0].at <= now - TOKEN_WINDOW_S:
                    calls.popleft()
                if not calls:
                    del self._calls[other]
        history = self._calls.setdefault(user_id, deque())
        while history and history[0].at <= now - TOKEN_WINDOW_S:
            history.popleft()
        return history

    def _charge(self, user_id: str, tokens: int) -> _Call:
        """Count one call of about `tokens` prompt tokens, or refuse it (RateLimited)."""
        settings = self._settings
        with self._lock:
            if settings is not None:
                self._refuse_past_budget(settings, user_id, calls=1, tokens=tokens)
            call = _Call(self._clock(), tokens)
            self._calls.setdefault(user_id, deque()).append(call)
            return call

    def _check(self, user_id: str, calls: int) -> None:
        settings = self._settings
        if settings is not None:
            with self._lock:
                self._refuse_past_budget(settings, user_id, calls=calls, tokens=0)

    def _settle(self, call: _Call, tokens: int) -> None:
        with self._lock:
            call.tokens = tokens

    def _record(self, user_id: str, code: str, meter: TokenMeter, prompt: int, seconds: float) -> None:
        """The call in the metrics: the provider's prompt and completion counts, else the estimates."""
        model = self._settings.model if self._settings is not None else "(none)"
        prompt_used = meter.prompt_tokens if meter.prompt_tokens is not None else prompt
        completion = meter.completion_tokens
        if completion is None:
            completion = meter.reported - prompt_used if meter.reported is not None else 0
            completion = max(completion, 0) or estimate_tokens(meter.answer_chars)
        metrics.count_llm_call(model, user_id, code, prompt_used, completion, seconds)


class QuotaSlot:
    """A user's place for model work (LLMQuota.slot); each model call made in it is counted with `call`."""

    def __init__(self, quota: LLMQuota, user_id: str) -> None:
        self._quota = quota
        self._user_id = user_id

    def require_calls(self, calls: int) -> None:
        """RateLimited unless the user may make `calls` more model calls this minute (work that needs several
        is refused before its first)."""
        self._quota._check(self._user_id, calls)

    @contextmanager
    def call(self, messages: Sequence[ChatMessage]) -> Iterator[TokenMeter]:
        """Count one model call with this prompt, refused (RateLimited) when it would pass the user's calls per
        minute or tokens per hour; the block makes the call and fills the meter. The call's tokens are then the
        provider's count, else an estimate of the prompt and the answer so far (also when it failed)."""
        prompt = prompt_tokens(messages)
        counted = self._quota._charge(self._user_id, prompt)
        meter = TokenMeter()
        began = time.perf_counter()
        code = metrics.OK
        try:
            yield meter
        except MemosError as exc:
            code = exc.code
            raise
        except (GeneratorExit, asyncio.CancelledError):  # the consumer of a stream left before its end
            code = "CANCELLED"
            raise
        except BaseException:
            code = "INTERNAL"
            raise
        finally:
            used = meter.reported if meter.reported is not None else prompt + estimate_tokens(meter.answer_chars)
            self._quota._settle(counted, used)
            self._quota._record(self._user_id, code, meter, prompt, time.perf_counter() - began)


def _retry_in(seconds: float) -> str:
    return f"; retry in {max(math.ceil(seconds), 1)} s"

"""Chat completions through litellm: any model string litellm accepts, keys from the environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable
from typing import Any, TypeVar

from memos_graph.config import LLMSettings
from memos_graph.errors import BackendUnavailable
from memos_graph.llm.base import ChatMessage, TokenMeter
from memos_graph.llm.loader import import_litellm

T = TypeVar("T")


class LiteLLMChat:
    """litellm.completion with the configured model, timeout and retries."""

    def __init__(self, settings: LLMSettings) -> None:
        self._litellm: Any = import_litellm()
        self._settings = settings

    def _options(self, messages: list[ChatMessage]) -> dict[str, Any]:
        settings = self._settings
        options: dict[str, Any] = {
            "model": settings.model,
            "messages": list(messages),
            "timeout": settings.timeout_s,
            # max_retries reaches the provider client alone; num_retries would also make litellm retry
            # around it, so N retries became 2N + 1 requests.
            "max_retries": settings.num_retries,
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
        }
        if settings.api_base:
            options["api_base"] = settings.api_base
        if settings.api_key is not None:
            options["api_key"] = settings.api_key.get_secret_value()
        return options

    def complete(self, messages: list[ChatMessage], meter: TokenMeter | None = None) -> str:
        """One completion; any provider error or an empty answer is BackendUnavailable."""
        meter = meter or TokenMeter()
        try:
            response = self._litellm.completion(**self._options(messages))
        except Exception as exc:  # litellm raises provider-specific types; all mean "the LLM failed"
            raise BackendUnavailable(f"the chat model failed: {type(exc).__name__}: {exc}") from exc
        _count_usage(response, meter)
        try:
            content = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise BackendUnavailable("the chat model returned a malformed answer") from exc
        if not isinstance(content, str) or not content.strip():
            raise BackendUnavailable("the chat model returned an empty answer")
        meter.answer_chars = len(content)
        return content.strip()

    async def stream(self, messages: list[ChatMessage], meter: TokenMeter | None = None) -> AsyncGenerator[str, None]:
        """A streamed completion (litellm.acompletion, stream=True): each non-empty text delta as it arrives.

        The whole stream ends within llm.timeout_s and each piece (the first included) arrives within
        llm.stream_idle_timeout_s, or BackendUnavailable says which bound it broke; so does any provider error,
        before or during the answer, and an answer with no text. The provider's stream is closed however the
        generator ends (also when the consumer closes it or is cancelled).
        """
        settings = self._settings
        meter = meter or TokenMeter()
        clock = asyncio.get_running_loop().time
        ends = clock() + settings.timeout_s

        async def bounded(step: Awaitable[T], idle: bool) -> T:
            left = ends - clock()
            wait = min(left, settings.stream_idle_timeout_s) if idle else left
            try:
                return await asyncio.wait_for(step, max(wait, 0.0))
            except TimeoutError:
                if idle and wait < left:
                    raise BackendUnavailable(
                        f"the chat model sent nothing for {wait:g} s (llm.stream_idle_timeout_s)"
                    ) from None
                raise BackendUnavailable(
                    f"the chat model's answer ran past llm.timeout_s ({settings.timeout_s:g} s)"
                ) from None
            except (BackendUnavailable, StopAsyncIteration):
                raise
            except Exception as exc:  # litellm raises provider-specific types; all mean "the LLM failed"
                raise BackendUnavailable(f"the chat model failed: {type(exc).__name__}: {exc}") from exc

        response = await bounded(self._litellm.acompletion(**self._options(messages), stream=True), idle=False)
        try:
            chunks = response.__aiter__()
            answered = False
            while True:
                try:
                    chunk = await bounded(chunks.__anext__(), idle=True)
                except StopAsyncIteration:
                    break
                _count_usage(chunk, meter)  # providers that report usage in a stream do so in a late chunk
                piece = _delta_text(chunk)
                if piece:
                    meter.answer_chars += len(piece)
                    answered = answered or bool(piece.strip())
                    yield piece
            if not answered:
                raise BackendUnavailable("the chat model returned an empty answer")
        finally:
            await response.aclose()


def _count_usage(response: Any, meter: TokenMeter) -> None:
    """The provider's token count for the call (prompt and answer), where the response carries one."""
    usage = getattr(response, "usage", None)
    total = _count(getattr(usage, "total_tokens", None))
    if total:
        meter.reported = total
        meter.prompt_tokens = _count(getattr(usage, "prompt_tokens", None))
        meter.completion_tokens = _count(getattr(usage, "completion_tokens", None))


def _count(value: object) -> int | None:
    """A token count the provider reported (a positive int), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _delta_text(chunk: Any) -> str | None:
    """The text a streamed chunk adds (None for role-only and final chunks); BackendUnavailable if malformed."""
    try:
        choices = chunk.choices
        if not choices:
            return None
        content = choices[0].delta.content
    except (AttributeError, IndexError, TypeError) as exc:
        raise BackendUnavailable("the chat model streamed a malformed chunk") from exc
    if content is not None and not isinstance(content, str):
        raise BackendUnavailable("the chat model streamed a malformed chunk")
    return content

"""The chat-model protocol."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    """One message of a chat completion request."""

    role: str
    content: str


@dataclass
class TokenMeter:
    """What one model call used, filled in by the model as it answers: the provider's token count where it
    reports one, and the characters of the answer so far (for an estimate where it does not)."""

    reported: int | None = None
    answer_chars: int = 0
    # The provider's split of `reported`, where it gives one (OpenAI-style usage: prompt and completion tokens).
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatModel(Protocol):
    """Answers a list of messages with one assistant message's text, whole or as a stream of pieces; `meter`,
    when given, learns what the call used (also when it fails)."""

    def complete(self, messages: list[ChatMessage], meter: TokenMeter | None = None) -> str:
        """The model's answer; raises BackendUnavailable when the model fails or answers nothing."""
        ...

    def stream(self, messages: list[ChatMessage], meter: TokenMeter | None = None) -> AsyncGenerator[str, None]:
        """The answer's text in the pieces the model sends them, as they arrive; raises BackendUnavailable when
        the model fails (also mid-answer), stalls, runs out of time or answers nothing. Closing the generator
        early closes the model's stream."""
        ...

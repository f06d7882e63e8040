"""The chat-model protocol."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    """One message of a chat completion request."""

    role: str
    content: str


class ChatModel(Protocol):
    """Answers a list of messages with one assistant message's text, whole or as a stream of pieces."""

    def complete(self, messages: list[ChatMessage]) -> str:
        """The model's answer; raises BackendUnavailable when the model fails or answers nothing."""
        ...

    def stream(self, messages: list[ChatMessage]) -> AsyncGenerator[str, None]:
        """The answer's text in the pieces the model sends them, as they arrive; raises BackendUnavailable when
        the model fails (also mid-answer), stalls, runs out of time or answers nothing. Closing the generator
        early closes the model's stream."""
        ...

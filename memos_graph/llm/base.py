"""The chat-model protocol."""

from __future__ import annotations

from typing import Protocol, TypedDict


class ChatMessage(TypedDict):
    """One message of a chat completion request."""

    role: str
    content: str


class ChatModel(Protocol):
    """Answers a list of messages with one assistant message's text."""

    def complete(self, messages: list[ChatMessage]) -> str:
        """The model's answer; raises BackendUnavailable when the model fails or answers nothing."""
        ...

"""Prompts as pure functions: data in, chat messages out."""

from __future__ import annotations

from collections.abc import Sequence

from memos_graph.domain import TextualMemoryItem
from memos_graph.llm.base import ChatMessage

SYSTEM_PROMPT = (
    "You are a helpful assistant with a long-term memory of this user. The numbered memories below were "
    "retrieved for the user's latest message; use those that are relevant, prefer recent ones when they "
    "conflict, and say so when they do not cover the question. Do not invent memories."
)


def chat_messages(
    memories: Sequence[TextualMemoryItem], history: Sequence[ChatMessage], query: str
) -> list[ChatMessage]:
    """System prompt with the numbered memories, then the history window, then the query."""
    if memories:
        listed = "\n".join(f"{index}. {item.memory}" for index, item in enumerate(memories, start=1))
    else:
        listed = "(no memories were found for this message)"
    system: ChatMessage = {"role": "system", "content": f"{SYSTEM_PROMPT}\n\nMemories:\n{listed}"}
    return [system, *history, {"role": "user", "content": query}]

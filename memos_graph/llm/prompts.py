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


EXTRACTION_PROMPT = """You turn a conversation into durable memories about its people.
Write each fact as one sentence in the third person: use names instead of pronouns, and absolute dates
instead of relative ones (resolve "yesterday" or "next week" against the message's time). Keep only what
is worth remembering later: facts, events, preferences, plans, opinions. Skip greetings and filler.
Answer with JSON only, no prose, in exactly this shape:
{"facts": [{"text": "...", "type": "fact|event|preference|plan|opinion", "message_ids": ["<id>", ...],
            "confidence": 0-100}]}
message_ids lists the ids (in square brackets below) of the messages each fact comes from.
If there is nothing worth remembering, answer {"facts": []}."""


def extraction_messages(window: Sequence[tuple[str, str, str]]) -> list[ChatMessage]:
    """Prompt for fact extraction over (message id, header, content) triples, header being "time speaker"."""
    lines = "\n".join(f"[{message_id}] {header}: {content}" for message_id, header, content in window)
    return [
        {"role": "system", "content": EXTRACTION_PROMPT},
        {"role": "user", "content": f"Conversation:\n{lines}"},
    ]

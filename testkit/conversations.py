"""Conversations the tests feed to fine (LLM-extracted) ingestion, in MemOS's message format."""

from __future__ import annotations

from typing import Any

# A LoCoMo-like exchange: the first message holds one datable event (the day before the chat), the second a
# question, the third an answer the extractor may turn into a second fact.
SUPPORT_GROUP_CHAT: list[dict[str, Any]] = [
    {
        "role": "user",
        "name": "Caroline",
        "content": "I went to the LGBTQ support group yesterday.",
        "chat_time": "8 May 2023",
        "message_id": "D1:3",
    },
    {
        "role": "assistant",
        "name": "Melanie",
        "content": "Nice! Are you still painting?",
        "chat_time": "8 May 2023",
        "message_id": "D1:4",
    },
    {
        "role": "user",
        "name": "Caroline",
        "content": "Yes, sunsets mostly.",
        "chat_time": "8 May 2023",
        "message_id": "D1:5",
    },
]

"""The chat model's client, warmed up on a thread at start-up: the first chat after a start does not wait for it.

litellm's import takes seconds, and its first call imports the provider's SDK and the tokenizer on top (about
6 s before the first token on a quiet machine, 10 s on a busy one, against 0.05 s for the second call). A
warm-up does all of that ahead, without asking the model anything: litellm answers a `mock_response` call
itself, so no request leaves the process and nothing is billed.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from memos_graph.config import LLMSettings
from memos_graph.llm.loader import import_litellm

logger = logging.getLogger(__name__)

# What litellm's first call imports: the OpenAI SDK's chat resources (OpenAI and every OpenAI-compatible
# provider go through them) and the tokenizer litellm counts tokens with.
FIRST_CALL_MODULES = ("openai.resources.chat", "litellm.litellm_core_utils.default_encoding")


@dataclass
class WarmUp:
    """A warm-up on its own thread: `done` is set when it ended, `error` says why it failed (the chat still
    works then, it is just slow the first time), `seconds` is how long it took."""

    done: threading.Event = field(default_factory=threading.Event)
    error: str | None = None
    seconds: float | None = None
    steps: list[str] = field(default_factory=list)


def warm_up(settings: LLMSettings, steps: list[str] | None = None) -> None:
    """Import litellm and what its first call needs, then run one mocked streamed completion for the model."""
    steps = [] if steps is None else steps
    litellm: Any = import_litellm()
    steps.append("litellm")
    for module in FIRST_CALL_MODULES:
        importlib.import_module(module)
        steps.append(module)
    asyncio.run(_mocked_stream(litellm, settings.model))
    steps.append("mock completion")


async def _mocked_stream(litellm: Any, model: str) -> None:
    messages = [{"role": "user", "content": "warm-up"}]
    response = await litellm.acompletion(model=model, messages=messages, stream=True, mock_response="ok")
    async for _ in response:
        pass


def start_warm_up(settings: LLMSettings | None) -> WarmUp | None:
    """Warm the configured chat model's client up on a daemon thread; None when no model is configured."""
    if settings is None:
        return None
    handle = WarmUp()

    def run() -> None:
        began = time.monotonic()
        try:
            warm_up(settings, handle.steps)
        except Exception as exc:  # a failed warm-up only costs the first chat its speed
            handle.error = f"{type(exc).__name__}: {exc}"
            logger.warning("warming the chat model's client up failed (the first chat will be slow): %s", handle.error)
        finally:
            handle.seconds = time.monotonic() - began
            handle.done.set()
            logger.info("chat model client warmed up in %.1f s", handle.seconds)

    threading.Thread(target=run, name="llm-warm-up", daemon=True).start()
    return handle

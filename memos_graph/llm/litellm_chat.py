"""Chat completions through litellm: any model string litellm accepts, keys from the environment."""

from __future__ import annotations

import os
from typing import Any

from memos_graph.config import LLMSettings
from memos_graph.errors import BackendUnavailable
from memos_graph.llm.base import ChatMessage


class LiteLLMChat:
    """litellm.completion with the configured model, timeout and retries."""

    def __init__(self, settings: LLMSettings) -> None:
        # litellm fetches a price list over the network at import unless told not to.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm

        self._litellm: Any = litellm
        self._settings = settings

    def complete(self, messages: list[ChatMessage]) -> str:
        """One completion; any provider error or an empty answer is BackendUnavailable."""
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
        try:
            response = self._litellm.completion(**options)
        except Exception as exc:  # litellm raises provider-specific types; all mean "the LLM failed"
            raise BackendUnavailable(f"the chat model failed: {type(exc).__name__}: {exc}") from exc
        try:
            content = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise BackendUnavailable("the chat model returned a malformed answer") from exc
        if not isinstance(content, str) or not content.strip():
            raise BackendUnavailable("the chat model returned an empty answer")
        return content.strip()

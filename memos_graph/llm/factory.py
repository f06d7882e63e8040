"""Build the configured chat model, or say how to configure one."""

from __future__ import annotations

from memos_graph.config import LLMSettings
from memos_graph.errors import FeatureNotAvailable
from memos_graph.llm.base import ChatModel


def chat_model_from(settings: LLMSettings | None, purpose: str) -> ChatModel:
    """The litellm chat model for `settings`; FeatureNotAvailable with a configuration hint when unset."""
    if settings is None:
        raise FeatureNotAvailable(
            f"{purpose} needs a chat model: set MEMOS_LLM_MODEL (any litellm model string, e.g. "
            "'openai/gpt-4o-mini') and the provider's key (e.g. OPENAI_API_KEY), or 'llm' in the config"
        )
    from memos_graph.llm.litellm_chat import LiteLLMChat

    return LiteLLMChat(settings)

"""Chat models: a small protocol and the litellm implementation."""

from memos_graph.llm.base import ChatMessage, ChatModel, TokenMeter
from memos_graph.llm.litellm_chat import LiteLLMChat

__all__ = ["ChatMessage", "ChatModel", "LiteLLMChat", "TokenMeter"]

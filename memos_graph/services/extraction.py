"""Fine mode of add(messages=...): the chat model extracts facts; each fact is a memory DERIVED_FROM the
messages it came from, and a fact the cube already holds updates that memory (its history kept) instead of
adding a copy. LLM calls are bounded and retried; nothing is written unless every call succeeded."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memos_graph import metrics
from memos_graph.config import MOSConfig
from memos_graph.domain import TextualMemoryMetadata, User
from memos_graph.embeddings.base import Embedder, stored_similarity_map
from memos_graph.errors import BackendUnavailable, InvalidInput
from memos_graph.graph.memory_nodes import MemoryChange
from memos_graph.llm.base import ChatModel
from memos_graph.llm.factory import chat_model_from
from memos_graph.llm.prompts import extraction_messages
from memos_graph.ranking.fusion import cosine_relevance
from memos_graph.services.llm_quota import LLMQuota, QuotaSlot
from memos_graph.services.memories import Entry, MemoryService
from memos_graph.services.memory_parts import message_nodes, message_source
from memos_graph.services.search import SearchService
from memos_graph.services.validation import check_messages, content_hash

logger = logging.getLogger(__name__)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


class ExtractedFact(BaseModel):
    """One fact as the model must return it."""

    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1, max_length=2000)
    type: str = "fact"
    message_ids: list[str] = Field(min_length=1)
    confidence: float | None = Field(default=None, ge=0, le=100)


class Extraction(BaseModel):
    """The model's whole answer."""

    facts: list[ExtractedFact]


def parse_facts(answer: str, known_ids: set[str]) -> list[ExtractedFact]:
    """The facts in a model answer; ValueError when it is not the expected JSON or names unknown messages."""
    try:
        extraction = Extraction.model_validate(json.loads(_FENCE.sub("", answer.strip())))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"not the expected JSON: {exc}") from exc
    for fact in extraction.facts:
        unknown = set(fact.message_ids) - known_ids
        if unknown:
            raise ValueError(f"fact names unknown messages {sorted(unknown)}")
    return [fact for fact in extraction.facts if fact.text.strip()]


class FineIngestion:
    """LLM fact extraction with dedup against the cube's stored memories."""

    def __init__(
        self,
        config: MOSConfig,
        embedder: Embedder,
        quota: LLMQuota,
        memories: MemoryService,
        search: SearchService,
        model: ChatModel | None = None,
    ) -> None:
        self._config = config
        self._embedder = embedder
        self._llm_quota = quota
        self._memories = memories
        self._search = search
        self._model = model

    @metrics.timed("add_fine")
    def add(self, actor: User, messages: object, cube_id: str | None, session_id: str | None = None) -> list[str]:
        """Extract, dedup and store in one transaction; returns the ids of the new or updated memories."""
        settings = self._config.ingest
        checked = check_messages(messages, self._config.limits)
        step = settings.messages_per_call
        windows = [checked[i : i + step] for i in range(0, len(checked), step)]
        if len(windows) > settings.max_llm_calls:
            raise InvalidInput(
                f"{len(checked)} messages need {len(windows)} extraction calls; the limit is {settings.max_llm_calls}"
            )
        target = self._memories.target_cube(actor, cube_id)
        model = self._model or chat_model_from(self._config.llm, "fine-mode ingestion")
        nodes = message_nodes(checked, session_id)
        by_key = {str(node["key"]): message for node, message in zip(nodes, checked, strict=True)}
        facts: list[ExtractedFact] = []
        offset = 0
        # One place in the actor's llm_quota for the whole extraction, every call counted; refused before the
        # first call when the actor's minute has no room for one call per window.
        with self._llm_quota.slot(actor.user_id) as slot:
            slot.require_calls(len(windows))
            for window in windows:
                keys = [str(node["key"]) for node in nodes[offset : offset + len(window)]]
                offset += len(window)
                facts.extend(self._extract(model, slot, window, keys))
        if not facts:
            return []
        vectors = self._embedder.embed([fact.text for fact in facts])
        entries: list[Entry] = []
        updates: dict[str, MemoryChange] = {}
        for fact, vector in zip(facts, vectors, strict=True):
            metadata = TextualMemoryMetadata(
                source="conversation",
                type=fact.type,
                confidence=fact.confidence,
                sources=[message_source(by_key[key]) for key in fact.message_ids],
            )
            nearest = self._search.search_cube(actor.user_id, target, vector, 1)
            score = nearest[0].metadata.relativity if nearest else None
            if nearest and score is not None and self._duplicate(fact.text, score):
                stored = nearest[0]
                earlier = updates[stored.id].message_keys if stored.id in updates else ()
                provenance = tuple(dict.fromkeys([*earlier, *fact.message_ids]))
                if content_hash(stored.memory) == content_hash(fact.text):
                    updates[stored.id] = MemoryChange(stored.id, message_keys=provenance)  # same words: link only
                    continue
                merged = metadata.model_copy(update={"sources": [*stored.metadata.sources, *metadata.sources]})
                updates[stored.id] = MemoryChange(
                    stored.id,
                    memory=fact.text,
                    content_hash=content_hash(fact.text),
                    embedding=vector,
                    metadata=merged,
                    fields=("sources", "type", "confidence"),
                    message_keys=provenance,
                )
                continue
            entries.append(Entry(fact.text, metadata, tuple(fact.message_ids), vector=vector))
        added = self._memories.store(actor, target, session_id, entries, messages=nodes, updates=list(updates.values()))
        return list(dict.fromkeys([*added, *updates]))

    def _duplicate(self, text: str, score: float) -> bool:
        """Whether a fact is a duplicate of its nearest stored memory (`score`: Neo4j's cosine score): the
        cosine, read on the English model's scale for the fact's model, reaches ingest.dedup_threshold's."""
        scale, offset = stored_similarity_map(self._embedder, text)
        return cosine_relevance(score, scale, offset) >= 2.0 * self._config.ingest.dedup_threshold - 1.0

    def _extract(
        self, model: ChatModel, slot: QuotaSlot, window: Sequence[dict[str, str | None]], keys: list[str]
    ) -> list[ExtractedFact]:
        """One bounded, retried extraction call for a window of messages."""
        triples = [
            (
                key,
                " ".join(part for part in (message["chat_time"], message["name"] or message["role"]) if part),
                str(message["content"]),
            )
            for key, message in zip(keys, window, strict=True)
        ]
        prompt = extraction_messages(triples)
        attempts = self._config.ingest.max_attempts
        problem = ""
        for attempt in range(1, attempts + 1):
            with slot.call(prompt) as meter:
                answer = model.complete(prompt, meter)
            try:
                return parse_facts(answer, set(keys))
            except ValueError as exc:
                problem = str(exc)
                logger.warning("extraction attempt %d/%d returned junk: %s", attempt, attempts, problem)
        raise BackendUnavailable(f"the chat model returned unusable facts {attempts} times; nothing was stored")

"""The pure parts of the LoCoMo cross-validation: the settings grid, the same-run baselines (BM25, dense, RRF),
the leave-one-conversation-out selection, pooling, and filler texts for the tenant check. No Neo4j here.

A *row* is one question's scores: (category, {"R@1": ..., "Hit@1": ..., ...}). A *table* holds the rows of
every method (a grid setting or a baseline) per conversation, questions in the same order for every method.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from memos_graph.config import IngestSettings, SearchSettings

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
SCORED = (1, 2, 3, 4)
ADVERSARIAL = 5
SELECTION_METRIC = "R@10"
DEFAULTS_NAME = "defaults"
# A grid entry cannot change these: the fulltext index is built with the analyzer when the runtime starts,
# so one shared runtime would keep searching the old index.
UNSUPPORTED_IN_GRID = frozenset({"fulltext_analyzer"})
BASELINE_NAMES = ("BM25 (bm25s)", "dense (cosine)", "RRF of BM25 + dense")

Row = tuple[int, Mapping[str, float]]
Table = Mapping[str, Mapping[str, Sequence[Row]]]


# -- the settings grid ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One grid entry: a name, the SearchSettings overrides it applies (empty: the project defaults) and the
    IngestSettings overrides the conversation is ingested with (entries with equal ones share an ingest)."""

    name: str
    overrides: Mapping[str, Any]
    ingest: Mapping[str, Any] = field(default_factory=dict)

    def ingest_key(self) -> str:
        """Entries with the same key share one ingest of each conversation."""
        return json.dumps(dict(self.ingest), sort_keys=True)


def setting_label(overrides: Mapping[str, Any]) -> str:
    """A name for an unnamed entry: its overrides as key=value, comma-separated."""
    return ",".join(f"{key}={json.dumps(value)}" for key, value in overrides.items()) or DEFAULTS_NAME


def check_overrides(overrides: Mapping[str, Any]) -> None:
    """Refuse keys SearchSettings does not have (or that a shared runtime cannot apply) and invalid values."""
    unknown = set(overrides) - set(SearchSettings.model_fields)
    if unknown:
        raise ValueError(f"not SearchSettings keys: {', '.join(sorted(unknown))}")
    fixed = set(overrides) & UNSUPPORTED_IN_GRID
    if fixed:
        raise ValueError(f"cannot vary in a grid (needs an index rebuild): {', '.join(sorted(fixed))}")
    SearchSettings.model_validate({**SearchSettings().model_dump(), **overrides})


def parse_grid(text: str) -> list[Setting]:
    """The grid from JSON text or a JSON file: a list of objects of overrides, each with an optional "name".
    The project defaults come first, added when the first entry is not `{}`."""
    raw = json.loads(text if text.lstrip()[:1] in ("[", "{") else Path(text).read_text())
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise ValueError("the grid must be a JSON list of objects")
    settings: list[Setting] = []
    for entry in raw:
        overrides = {key: value for key, value in entry.items() if key not in ("name", "ingest")}
        check_overrides(overrides)
        ingest = entry.get("ingest") or {}
        if not isinstance(ingest, dict):
            raise ValueError('"ingest" must be an object of IngestSettings overrides')
        IngestSettings.model_validate({**IngestSettings().model_dump(), **ingest})
        label = setting_label({**overrides, **{f"ingest.{k}": v for k, v in ingest.items()}})
        settings.append(Setting(str(entry.get("name") or label), overrides, ingest))
    if not settings or settings[0].overrides or settings[0].ingest:
        settings.insert(0, Setting(DEFAULTS_NAME, {}))
    names = [s.name for s in settings]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(f"grid names must be unique: {', '.join(repeated)}")
    return settings


# -- aggregation ------------------------------------------------------------------------------------


def mean_scores(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean of each metric over rows (rounded to 4 places), with the row count as "n"."""
    if not rows:
        return {"n": 0}
    return {"n": len(rows), **{key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]}}


def aggregate(rows: Sequence[Row]) -> dict[str, dict[str, float]]:
    """Per-category means for categories 1-4, "overall" over all their questions, "adversarial" (5) apart."""
    result = {CATEGORIES[c]: mean_scores([s for cat, s in rows if cat == c]) for c in SCORED}
    result["overall"] = mean_scores([s for cat, s in rows if cat in SCORED])
    adversarial = [s for cat, s in rows if cat == ADVERSARIAL]
    if adversarial:
        result[CATEGORIES[ADVERSARIAL]] = mean_scores(adversarial)
    return result


def pooled_rows(by_conversation: Mapping[str, Sequence[Row]], exclude: str | None = None) -> list[Row]:
    """Every row of every conversation but `exclude`, in conversation order."""
    return [row for conv, rows in by_conversation.items() if conv != exclude for row in rows]


def scored_mean(rows: Sequence[Row], metric: str = SELECTION_METRIC) -> float:
    """The unrounded mean of one metric over the rows of categories 1-4 (NaN when there are none)."""
    values = [scores[metric] for category, scores in rows if category in SCORED]
    return statistics.fmean(values) if values else math.nan


# -- leave-one-conversation-out ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fold:
    """One held-out conversation: the setting chosen on the others, its training and held-out means."""

    held_out: str
    chosen: str
    train_mean: float
    held_out_mean: float
    questions: int


def choose_setting(table: Table, names: Sequence[str], held_out: str, metric: str = SELECTION_METRIC) -> str:
    """The setting with the best mean `metric` over the scored questions of every conversation but `held_out`;
    a tie goes to the one earlier in `names`."""
    best_name, best_value = names[0], -math.inf
    for name in names:
        value = scored_mean(pooled_rows(table[name], exclude=held_out), metric)
        if value > best_value:  # strictly better: NaN never wins, ties keep the earlier setting
            best_name, best_value = name, value
    return best_name


def cross_validate(
    table: Table, names: Sequence[str], conversations: Sequence[str], metric: str = SELECTION_METRIC
) -> tuple[list[Fold], list[Row]]:
    """One fold per conversation; and the pooled held-out rows: each question scored once, by the setting
    chosen without its conversation."""
    folds: list[Fold] = []
    held_out_rows: list[Row] = []
    for conv in conversations:
        chosen = choose_setting(table, names, conv, metric)
        rows = list(table[chosen][conv])
        folds.append(
            Fold(
                conv,
                chosen,
                scored_mean(pooled_rows(table[chosen], exclude=conv), metric),
                scored_mean(rows, metric),
                sum(c in SCORED for c, _ in rows),
            )
        )
        held_out_rows.extend(rows)
    return folds, held_out_rows


# -- the same-run baselines -------------------------------------------------------------------------


def order_by_score(scores: npt.NDArray[np.float64], positive_only: bool = False) -> list[int]:
    """Indices by descending score, ties by index; with positive_only, only those scoring above zero."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    return [i for i in order if scores[i] > 0] if positive_only else order


def rrf_fuse(rankings: Sequence[Sequence[int]], k: int = 60) -> list[int]:
    """Reciprocal rank fusion of rankings of indices: sum of 1 / (k + rank); ties by first appearance."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, index in enumerate(ranking, start=1):
            scores[index] = scores.get(index, 0.0) + 1.0 / (k + rank)
    first_seen = list(scores)
    return sorted(first_seen, key=lambda index: -scores[index])  # sorted() is stable: ties keep first_seen


class Bm25Ranker:
    """bm25s with default parameters, English stop words and the Snowball English stemmer."""

    def __init__(self, texts: Sequence[str]) -> None:
        # Neither bm25s nor PyStemmer ships type information: use them as untyped modules.
        self._bm25s: Any = importlib.import_module("bm25s")
        self._stemmer: Any = importlib.import_module("Stemmer").Stemmer("english")
        self._retriever: Any = self._bm25s.BM25()
        self._retriever.index(self._tokenize(texts, return_ids=True), show_progress=False)

    def _tokenize(self, texts: Sequence[str], return_ids: bool) -> Any:
        return self._bm25s.tokenize(
            list(texts), stopwords="en", stemmer=self._stemmer, return_ids=return_ids, show_progress=False
        )

    def rank(self, query: str) -> list[int]:
        """The documents matching any query term, best first."""
        (tokens,) = self._tokenize([query], return_ids=False)
        if not tokens:
            return []
        return order_by_score(
            np.asarray(self._retriever.get_scores(list(tokens)), dtype=np.float64), positive_only=True
        )


def unit_rows(vectors: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    """The vectors as rows of unit length (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    unit: npt.NDArray[np.float64] = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
    return unit


def dense_rank(documents: npt.NDArray[np.float64], query: Sequence[float]) -> list[int]:
    """Every document by descending cosine with the query (documents given as unit rows)."""
    (unit_query,) = unit_rows([query])
    return order_by_score(documents @ unit_query)


def baseline_rankings(
    texts: Sequence[str],
    doc_vectors: Sequence[Sequence[float]],
    queries: Sequence[str],
    query_vectors: Sequence[Sequence[float]],
    rrf_k: int = 60,
    lexical_ranker: Callable[[Sequence[str]], Any] = Bm25Ranker,
    names: Sequence[str] = BASELINE_NAMES,
) -> dict[str, list[list[int]]]:
    """Per baseline, per query: the documents' indices ranked (BM25, exact cosine, RRF of the two), under
    `names`; `lexical_ranker` builds the BM25 side from the texts (an object with rank(query))."""
    bm25 = lexical_ranker(texts)
    documents = unit_rows(doc_vectors)
    result: dict[str, list[list[int]]] = {name: [] for name in names}
    for query, vector in zip(queries, query_vectors, strict=True):
        lexical, dense = bm25.rank(query), dense_rank(documents, vector)
        for name, ranking in zip(names, (lexical, dense, rrf_fuse([lexical, dense], rrf_k)), strict=True):
            result[name].append(ranking)
    return result


def turns_in_order(per_memory: Iterable[Sequence[str]]) -> list[str]:
    """The turns of ranked memories (each memory's turns in source order), without repeats."""
    return list(dict.fromkeys(turn for turns in per_memory for turn in turns))


# -- filler for the tenant check --------------------------------------------------------------------

_WORD = re.compile(r"[a-z]{4,}")


def vocabulary(texts: Iterable[str], size: int = 300) -> list[str]:
    """The `size` most frequent words of four letters or more (ties alphabetical)."""
    counts = Counter(word for text in texts for word in _WORD.findall(text.lower()))
    return [word for word, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:size]]


def filler_texts(count: int, words: Sequence[str], seed: int = 17) -> list[str]:
    """`count` distinct short sentences of everyday English, each carrying two words of `words`."""
    from bench.corpus import sentences

    rng = random.Random(seed)
    pool = list(words) or ["weather"]
    return [
        f"{sentence[:-1]}, talking about {rng.choice(pool)} and {rng.choice(pool)}."
        for sentence in sentences(count, seed=seed)
    ]

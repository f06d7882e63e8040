"""The pure parts of the CMRC benchmark: SQuAD-style parsing, folds of paragraphs, rank metrics and the same-run
baselines (BM25 over CJK character bigrams plus Latin words, dense cosine, their RRF). No Neo4j here.

The baselines' tokenizer is written here on purpose, apart from memos_graph/ranking/analyzer.py: a baseline
that shared the service's analyzer would move with it.
"""

from __future__ import annotations

import importlib
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.locomo_cv import BASELINE_NAMES, baseline_rankings, order_by_score

KS = (1, 5, 10)
MRR_DEPTH = 10
SELECTION_METRIC = "MRR@10"
# Every CMRC question counts as one category of the LoCoMo machinery's scored ones (single-hop), so that
# bench.locomo_cv.cross_validate and its means apply unchanged.
CATEGORY = 4
# Han (with extension A and compatibility ideographs), kana and Hangul syllables: scripts written without
# spaces between words, indexed as overlapping character pairs.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RUN = re.compile(f"[{CJK}]+")
WORD = re.compile(rf"[^\W{CJK}]+")  # a run of word characters of any other script


@dataclass(frozen=True)
class Question:
    """A question and the index of its paragraph among the distinct contexts."""

    question_id: str
    text: str
    paragraph: int


def load_squad(document: Mapping[str, Any]) -> tuple[list[str], list[Question]]:
    """The distinct contexts in order of first appearance, and every question with a non-blank text,
    pointing at its context's index (a context repeated across articles is one paragraph)."""
    contexts: dict[str, int] = {}
    questions: list[Question] = []
    for article in document["data"]:
        for paragraph in article["paragraphs"]:
            context = str(paragraph["context"])
            if not context.strip():
                continue
            index = contexts.setdefault(context, len(contexts))
            for qa in paragraph.get("qas", []):
                text = str(qa.get("question", "")).strip()
                if text:
                    questions.append(Question(str(qa["id"]), text, index))
    return list(contexts), questions


def fold_of_paragraphs(count: int, folds: int, seed: int = 23) -> list[int]:
    """Per paragraph, its fold (0 .. folds-1): a seeded shuffle dealt round-robin, so folds differ by at most one
    paragraph."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    assignment = [0] * count
    for position, paragraph in enumerate(order):
        assignment[paragraph] = position % folds
    return assignment


def fold_name(fold: int) -> str:
    return f"fold-{fold + 1}"


def rank_scores(ranked: Sequence[int], gold: int, ks: Sequence[int] = KS) -> dict[str, float]:
    """Hit@k for each k (the gold paragraph within the first k) and MRR@10 (1/rank, 0 beyond rank 10)."""
    rank = next((position for position, index in enumerate(ranked, start=1) if index == gold), None)
    scores = {f"Hit@{k}": 1.0 if rank is not None and rank <= k else 0.0 for k in ks}
    scores[f"MRR@{MRR_DEPTH}"] = 1.0 / rank if rank is not None and rank <= MRR_DEPTH else 0.0
    return scores


def ranked_paragraphs(memory_ids: Sequence[str], paragraph_of: Mapping[str, int]) -> list[int]:
    """The paragraphs behind ranked memory ids, in order, without repeats; ids of no paragraph dropped."""
    found = (paragraph_of.get(memory_id) for memory_id in memory_ids)
    return list(dict.fromkeys(index for index in found if index is not None))


# -- the same-run baselines -------------------------------------------------------------------------


def bigram_tokens(text: str) -> list[str]:
    """NFKC-folded, lower-cased text as CJK character bigrams (a lone CJK character as itself) and the words of
    other scripts: "我在Google工作" -> ["我在", "google", "工作"]."""
    folded = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    position = 0
    for match in CJK_RUN.finditer(folded):
        tokens += WORD.findall(folded[position : match.start()])
        run = match.group()
        tokens += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        position = match.end()
    tokens += WORD.findall(folded[position:])
    return tokens


class BigramBm25:
    """bm25s (default parameters) over bigram_tokens."""

    def __init__(self, texts: Sequence[str]) -> None:
        # bm25s ships no type information: used as an untyped module.
        self._retriever: Any = importlib.import_module("bm25s").BM25()
        self._retriever.index([bigram_tokens(text) or [""] for text in texts], show_progress=False)

    def rank(self, query: str) -> list[int]:
        """The documents sharing a term with the query, best first."""
        import numpy as np

        tokens = bigram_tokens(query)
        if not tokens:
            return []
        return order_by_score(np.asarray(self._retriever.get_scores(tokens), dtype=np.float64), positive_only=True)


def bigram_baselines(
    texts: Sequence[str],
    doc_vectors: Sequence[Sequence[float]],
    queries: Sequence[str],
    query_vectors: Sequence[Sequence[float]],
    rrf_k: int = 60,
) -> dict[str, list[list[int]]]:
    """Per baseline (BASELINES' order: BM25 over bigrams, dense, RRF), per query: the documents' indices ranked."""
    return baseline_rankings(texts, doc_vectors, queries, query_vectors, rrf_k, BigramBm25, BASELINES)


BASELINES = ("BM25 (bm25s, CJK bigrams + words)", BASELINE_NAMES[1], BASELINE_NAMES[2])

"""Pseudo-relevance feedback: what the best results say, beyond the question's words, lifts the results that
say it too.

A question names one thing ("What kind of writings does Joanna do?"); the memories that answer it may name
another ("my first full screenplay", "started on a book"). The best results of the first ranking share those
words, so (as RM3 does) the words of the top `FEEDBACK_DOCS` results that the question lacks, each weighted by
the result's relativity, its share of the result's length and its idf in the cube, make a second query of
`EXPANSION_TERMS` terms. Each candidate's BM25 score for it (over what its message said, the speaker left
out), divided by the best candidate's, times `weight`, is added to its relativity (capped at 1). Only the
candidates of the first ranking are re-scored: nothing new enters, and a cube's result still depends on its
own memories only. Words are the analyzer's (ranking/analyzer.py), so Chinese gets its bigrams.

The weight was chosen by leave-one-conversation-out cross-validation on LoCoMo (bench/results/locomo-prf-*.md);
0 turns it off.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FEEDBACK_DOCS = 3
EXPANSION_TERMS = 10
K1 = 0.9
B = 0.4


@dataclass(frozen=True)
class Candidate:
    """A result of the first ranking: its relativity and the analyzer's terms of what it says."""

    relativity: float
    terms: Sequence[str]


def idf(documents: int, frequency: int) -> float:
    """Lucene's BM25 idf, as the search statement computes it."""
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


def feedback_terms(candidates: Sequence[Candidate], question_terms: set[str]) -> set[str]:
    """The terms the expansion may pick: those of the top results that the question lacks."""
    return {t for c in candidates[:FEEDBACK_DOCS] for t in c.terms if t not in question_terms}


def expansion(
    candidates: Sequence[Candidate], question_terms: set[str], frequencies: Mapping[str, int], documents: int
) -> dict[str, float]:
    """The second query: up to EXPANSION_TERMS terms with weights summing to 1 (empty when there is none).
    `frequencies` are the cube's document frequencies (a term missing there is not picked)."""
    weight: dict[str, float] = {}
    for candidate in candidates[:FEEDBACK_DOCS]:
        counts, length = Counter(candidate.terms), max(len(candidate.terms), 1)
        for term, count in counts.items():
            if term in question_terms or term not in frequencies:
                continue
            weight[term] = weight.get(term, 0.0) + candidate.relativity * count / length * idf(
                documents, frequencies[term]
            )
    chosen = sorted(weight.items(), key=lambda pair: (-pair[1], pair[0]))[:EXPANSION_TERMS]
    total = sum(value for _, value in chosen)
    return {term: value / total for term, value in chosen} if total > 0 else {}


def fed_back(
    candidates: Sequence[Candidate],
    question_terms: set[str],
    frequencies: Mapping[str, int],
    documents: int,
    weight: float,
) -> list[float]:
    """Each candidate's relativity after feedback (in the candidates' order; unchanged without an expansion)."""
    query = expansion(candidates, question_terms, frequencies, documents)
    if weight <= 0 or not query:
        return [c.relativity for c in candidates]
    average = sum(len(c.terms) for c in candidates) / len(candidates) or 1.0
    scores = []
    for candidate in candidates:
        counts, norm = Counter(candidate.terms), K1 * (1.0 - B + B * len(candidate.terms) / average)
        scores.append(
            sum(
                w * idf(documents, frequencies[t]) * counts[t] * (K1 + 1.0) / (counts[t] + norm)
                for t, w in query.items()
                if counts[t]
            )
        )
    best = max(scores) or 1.0
    return [min(1.0, c.relativity + weight * s / best) for c, s in zip(candidates, scores, strict=True)]

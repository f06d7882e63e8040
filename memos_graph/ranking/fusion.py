"""Fusing a cube's vector and BM25 rankings into one ranking with a 0..1 relevance.

Both fusions return (memory id, score) pairs, best first, ties in order of first appearance:

- convex: score = w * cosine+ + (1 - w) * BM25 / ceiling, where cosine+ is the cosine similarity clipped at
  0 and the ceiling is the BM25 score no memory can reach for that query in that cube. Each part lies in
  [0, 1], so the score does too, and it means the same for every query: 1 is a perfect semantic and
  lexical match, 0 shares nothing with the query.
- rrf: reciprocal rank fusion, sum(1 / (k + rank)), divided by its maximum (first in every ranking), so
  1.0 is "first in both"; a rank-based score, comparable within one result list only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Ranking = Sequence[tuple[str, float]]


def cosine_relevance(similarity: float, scale: float = 1.0, offset: float = 0.0) -> float:
    """Neo4j's cosine score ((1 + cos) / 2, in [0, 1]) as scale * cos + offset clipped to [0, 1]: unrelated
    text scores about 0. The identity map suits MiniLM; a model whose cosines crowd near 1 (e5) comes with
    its own (embeddings/routed.py)."""
    return min(1.0, max(0.0, scale * (2.0 * similarity - 1.0) + offset))


def _ordered(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    # sorted() is stable and dicts keep insertion order: equal scores stay in order of first appearance.
    return sorted(scores.items(), key=lambda pair: -pair[1])


def reciprocal_rank(rankings: Sequence[Sequence[str]], rrf_k: int) -> list[tuple[str, float]]:
    """RRF of id rankings, normalised to [0, 1] by the score of an item first in every ranking."""
    if not rankings:
        return []
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, memory_id in enumerate(ranking, start=1):
            scores[memory_id] = scores.get(memory_id, 0.0) + 1.0 / (rrf_k + rank)
    best = len(rankings) / (rrf_k + 1)
    return _ordered({memory_id: score / best for memory_id, score in scores.items()})


def convex(vector: Mapping[str, float], text: Mapping[str, float], vector_weight: float) -> list[tuple[str, float]]:
    """Convex combination of per-memory relevances in [0, 1] (a memory missing from one side scores 0 there).

    Candidates are taken in order: the vector side's, then the text side's new ones.
    """
    candidates = dict.fromkeys([*vector, *text])
    return _ordered(
        {
            memory_id: vector_weight * vector.get(memory_id, 0.0) + (1.0 - vector_weight) * text.get(memory_id, 0.0)
            for memory_id in candidates
        }
    )

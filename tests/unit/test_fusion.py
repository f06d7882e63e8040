"""Reciprocal rank fusion and the Lucene query built from user text."""

from __future__ import annotations

import uuid

from memos_graph import TextualMemoryItem
from memos_graph.services.search import lucene_query, reciprocal_rank_fusion


def items(*names: str) -> list[TextualMemoryItem]:
    return [TextualMemoryItem(id=str(uuid.uuid5(uuid.NAMESPACE_DNS, n)), memory=n) for n in names]


def test_fusion_rewards_agreement_and_keeps_scores() -> None:
    vector = items("a", "b", "c")
    text = items("c", "d", "a")
    fused = reciprocal_rank_fusion([vector, text], rrf_k=60, top_k=3)
    assert [m.memory for m in fused] == ["a", "c", "b"]
    assert fused[0].metadata.relativity == 1 / 61 + 1 / 63
    assert fused[2].metadata.relativity == 1 / 62


def test_fusion_respects_top_k_and_single_ranking() -> None:
    assert [m.memory for m in reciprocal_rank_fusion([items("x", "y", "z")], 60, 2)] == ["x", "y"]
    assert reciprocal_rank_fusion([], 60, 5) == []


def test_lucene_query_strips_syntax() -> None:
    expected = "what OR did OR alice OR do OR title OR x OR and OR y OR or OR z"  # lowercase: plain terms
    assert lucene_query('What did "Alice" do? title:x AND y* OR (z)') == expected
    assert lucene_query("?!* ") == ""
    assert lucene_query("Café ünïcode") == "café OR ünïcode"

"""Fusion of a cube's vector and BM25 rankings into one 0..1 relevance."""

from __future__ import annotations

import pytest

from memos_graph.errors import InvalidInput
from memos_graph.ranking.fusion import convex, cosine_relevance, reciprocal_rank
from memos_graph.services.search import check_threshold


def test_rrf_rewards_agreement_and_is_normalised_to_one() -> None:
    fused = reciprocal_rank([["a", "b", "c"], ["c", "d", "a"]], rrf_k=60)
    assert [memory_id for memory_id, _ in fused] == ["a", "c", "b", "d"]
    best = 2 / 61
    assert fused[0][1] == pytest.approx((1 / 61 + 1 / 63) / best)
    assert fused[2][1] == pytest.approx((1 / 62) / best)
    assert reciprocal_rank([["x"], ["x"]], rrf_k=60)[0][1] == pytest.approx(1.0)
    assert reciprocal_rank([], 60) == []


def test_rrf_ties_keep_first_appearance() -> None:
    fused = reciprocal_rank([["a", "b"], ["b", "a"]], rrf_k=60)
    assert [memory_id for memory_id, _ in fused] == ["a", "b"]


def test_convex_weights_both_sides_and_stays_in_unit_interval() -> None:
    vector = {"a": 0.9, "b": 0.2}
    text = {"b": 0.8, "c": 0.5}
    fused = dict(convex(vector, text, vector_weight=0.5))
    assert fused == pytest.approx({"a": 0.45, "b": 0.5, "c": 0.25})
    assert [memory_id for memory_id, _ in convex(vector, text, 0.5)] == ["b", "a", "c"]
    only_vector = convex(vector, text, vector_weight=1.0)
    assert only_vector[0] == ("a", 0.9)
    assert all(0.0 <= score <= 1.0 for _, score in convex({"x": 1.0}, {"x": 1.0}, 0.3))


def test_cosine_relevance_maps_neo4j_scores_to_clipped_cosine() -> None:
    assert cosine_relevance(1.0) == 1.0
    assert cosine_relevance(0.75) == pytest.approx(0.5)
    assert cosine_relevance(0.5) == 0.0
    assert cosine_relevance(0.1) == 0.0  # negative cosine: no relevance, not a negative one


@pytest.mark.parametrize("bad", [-0.01, 1.5, float("nan"), "0.5", True])
def test_threshold_must_be_a_number_in_the_unit_interval(bad: object) -> None:
    with pytest.raises(InvalidInput):
        check_threshold(bad)  # type: ignore[arg-type]


def test_threshold_default_keeps_everything() -> None:
    assert check_threshold(None) == 0.0
    assert check_threshold(1) == 1.0

"""Maximal marginal relevance (ranking/diversity.py) on hand-made rankings and similarities."""

from __future__ import annotations

import pytest

from memos_graph.ranking.diversity import diversified


def test_a_near_copy_of_a_better_result_moves_below_a_different_one() -> None:
    scored = [("pottery", 0.9), ("pottery again", 0.85), ("camping", 0.8)]
    similar = {(0, 1): 0.95, (0, 2): 0.1, (1, 2): 0.1}
    picked = diversified(scored, similar, penalty=0.1, count=3)
    assert [item for item, _ in picked] == ["pottery", "camping", "pottery again"]
    assert [value for _, value in picked] == pytest.approx([0.9, 0.8 - 0.01, 0.85 - 0.095])


def test_the_reported_relativity_never_rises_down_the_list() -> None:
    scored = [(n, 1.0 - n / 20) for n in range(12)]
    similar = {(i, j): ((i * 7 + j * 3) % 10) / 10 for i in range(12) for j in range(i + 1, 12)}
    values = [value for _, value in diversified(scored, similar, penalty=0.3, count=12)]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= value <= 1.0 for value in values)


def test_zero_penalty_or_unrelated_results_keep_the_ranking() -> None:
    scored = [("a", 0.7), ("b", 0.6), ("c", 0.5)]
    assert diversified(scored, {(0, 1): 1.0, (0, 2): 1.0, (1, 2): 1.0}, penalty=0.0, count=2) == scored[:2]
    # negative cosines (opposites) earn nothing, missing pairs count as unrelated
    assert diversified(scored, {(0, 1): -0.8}, penalty=0.5, count=3) == scored


def test_count_bounds_the_result_and_ties_keep_the_earlier_result() -> None:
    scored = [("a", 0.5), ("b", 0.5), ("c", 0.5)]
    assert diversified(scored, {}, penalty=0.2, count=2) == [("a", 0.5), ("b", 0.5)]
    assert diversified(scored, {(0, 1): 0.5}, penalty=0.2, count=3) == [("a", 0.5), ("c", 0.5), ("b", 0.4)]

"""Pseudo-relevance feedback (ranking/feedback.py) on hand-made candidates and cube statistics."""

from __future__ import annotations

import pytest

from memos_graph.ranking.analyzer import analyze
from memos_graph.ranking.feedback import Candidate, expansion, fed_back, feedback_terms, idf


def candidate(relativity: float, text: str) -> Candidate:
    return Candidate(relativity, analyze(text))


CANDIDATES = [
    candidate(0.6, "I finished writing my screenplay, a drama"),
    candidate(0.5, "Writing my screenplay was hard work"),
    candidate(0.4, "Writing poems on the train"),
    candidate(0.3, "I started on a new screenplay about loss"),  # the answer the question's words miss
    candidate(0.3, "The bus was late again"),
]
QUESTION = set(analyze("What kind of writing does Joanna do?"))
FREQUENCIES = {term: 2 for c in CANDIDATES for term in c.terms}
FREQUENCIES.update({"screenplay": 3, "my": 40, "i": 45})  # common words are in most of a cube's memories


def test_the_expansion_takes_the_top_results_words_the_question_lacks() -> None:
    terms = feedback_terms(CANDIDATES, QUESTION)
    assert "screenplay" in terms and "write" not in terms  # "writing" is the question's own word
    assert "loss" not in terms  # the fourth result is not feedback
    query = expansion(CANDIDATES, QUESTION, FREQUENCIES, documents=50)
    assert max(query, key=lambda term: query[term]) == "screenplay"  # in two of the three top results
    assert sum(query.values()) == pytest.approx(1.0) and len(query) <= 10


def test_feedback_lifts_a_result_that_shares_the_top_results_words() -> None:
    values = fed_back(CANDIDATES, QUESTION, FREQUENCIES, documents=50, weight=0.2)
    assert values[3] > values[4]  # the new screenplay now beats the late bus, which tied it
    assert values[3] > CANDIDATES[3].relativity and values[4] == pytest.approx(CANDIDATES[4].relativity)
    assert all(0.0 <= value <= 1.0 for value in values)
    assert max(v - c.relativity for v, c in zip(values, CANDIDATES, strict=True)) == pytest.approx(0.2)


def test_no_weight_or_no_expansion_changes_nothing() -> None:
    before = [c.relativity for c in CANDIDATES]
    assert fed_back(CANDIDATES, QUESTION, FREQUENCIES, documents=50, weight=0.0) == before
    assert fed_back(CANDIDATES, QUESTION, {}, documents=50, weight=0.3) == before  # the cube holds none


def test_chinese_feedback_uses_the_analyzers_bigrams() -> None:
    found = [candidate(0.6, "我在学弹钢琴"), candidate(0.5, "钢琴老师很好"), candidate(0.2, "周末去钢琴课")]
    asked = set(analyze("小明在学什么乐器?"))
    frequencies = {term: 1 for c in found for term in c.terms}
    assert "钢琴" in expansion(found, asked, frequencies, documents=20)
    values = fed_back(found, asked, frequencies, documents=20, weight=0.1)
    assert values[2] > found[2].relativity


def test_idf_matches_lucene() -> None:
    assert idf(10, 1) == pytest.approx(1.9924301646902063)  # ln(1 + (10 - 1 + 0.5) / (1 + 0.5))
    assert idf(10, 10) < idf(10, 5) < idf(10, 1)

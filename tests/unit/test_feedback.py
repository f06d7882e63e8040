"""Pseudo-relevance feedback (ranking/feedback.py): the expansion's candidate terms and the raised scores."""

from __future__ import annotations

import pytest

from memos_graph.ranking.analyzer import analyze
from memos_graph.ranking.feedback import MAX_FEEDBACK_TERMS, fed_back, feedback_terms

SAID = [
    analyze("I finished my screenplay, a drama"),
    analyze("My screenplay was hard work"),
    analyze("Writing poems on the train"),
    analyze("I started on a new screenplay about loss"),  # not feedback: the fourth result
]
RELATIVITIES = [0.6, 0.5, 0.4, 0.3]
QUESTION = set(analyze("What kind of writing does Joanna do?"))


def test_the_expansion_takes_the_top_results_words_the_question_lacks() -> None:
    terms = feedback_terms(RELATIVITIES, SAID, QUESTION)
    assert "write" not in terms  # "writing" is the question's own word
    assert "loss" not in terms and "start" not in terms  # only the top three results give feedback
    # the words of two of them weigh most before idf ("my" loses to "screenplay" on the cube's idf, in Neo4j)
    assert sorted(terms, key=lambda term: -terms[term])[:2] == ["my", "screenplay"]
    assert terms["screenplay"] == pytest.approx(0.6 * 1 / 5 + 0.5 * 1 / 4)  # relativity x share of length
    assert terms["poem"] == pytest.approx(0.4 / 3)


def test_a_long_result_sends_at_most_the_weightiest_terms() -> None:
    long_text = [analyze(" ".join(f"word{n}" for n in range(400)))]
    assert len(feedback_terms([0.9], long_text, set())) == MAX_FEEDBACK_TERMS


def test_chinese_results_give_bigrams() -> None:
    said = [analyze("我在学弹钢琴"), analyze("钢琴老师很好")]
    terms = feedback_terms([0.6, 0.5], said, set(analyze("小明在学什么乐器?")))
    assert max(terms, key=lambda term: terms[term]) == "钢琴"


def test_feedback_adds_the_share_of_the_best_score_below_the_top_results() -> None:
    raised = fed_back([0.9, 0.8, 0.7, 0.6, 0.5, 0.3, 0.2], {0: 4.0, 3: 2.0, 5: 4.0, 6: 1.0}, weight=0.2)
    # the top three keep theirs (the first scored best: its own words); no score, no change
    assert raised == pytest.approx([0.9, 0.8, 0.7, 0.7, 0.5, 0.5, 0.25])


def test_no_candidate_passes_the_top_results() -> None:
    raised = fed_back([0.55, 0.5, 0.45, 0.44, 0.2], {3: 1.0, 4: 1.0}, weight=0.1)
    assert raised == pytest.approx([0.55, 0.5, 0.45, 0.45, 0.3])  # the fourth stops at the third's relativity
    assert fed_back([0.5, 0.4], {1: 1.0}, weight=0.1) == [0.5, 0.4]  # nothing below the top results


def test_no_weight_or_no_score_changes_nothing() -> None:
    assert fed_back([0.6, 0.5], {0: 2.0}, weight=0.0) == [0.6, 0.5]
    assert fed_back([0.6, 0.5], {}, weight=0.3) == [0.6, 0.5]

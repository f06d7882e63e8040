"""Text analysis and BM25 scoring of the per-cube index (the pure parts; Cypher is checked against these)."""

from __future__ import annotations

import math

import bm25s
import numpy as np
import pytest
import Stemmer

from memos_graph.ranking import bm25
from memos_graph.ranking.analyzer import analyze, postings, query_terms


def test_analyze_lowercases_stems_and_drops_stop_words() -> None:
    assert analyze("The Dogs are running in the PARK") == ["dog", "run", "park"]


def test_analyze_handles_possessives_contractions_and_numbers() -> None:
    assert analyze("Caroline's guitar, don't stop at 3.5 km") == ["carolin", "guitar", "don't", "stop", "3.5", "km"]
    assert analyze("Caroline\u2019s") == analyze("Caroline's")


def test_analyze_passes_no_query_syntax_through() -> None:
    assert analyze('title:x AND y* OR (z) "quoted"') == ["titl", "x", "y", "z", "quot"]
    assert analyze("?!* ") == []
    assert analyze("Café ünïcode") == ["café", "ünïcode"]


def test_postings_count_terms_and_length() -> None:
    found = postings("run, run, running! The end")
    assert found.frequencies == {"run": 3, "end": 1}
    assert found.length == 4
    assert found.rows() == [{"term": "end", "tf": 1}, {"term": "run", "tf": 3}]


def test_query_terms_are_distinct_in_order() -> None:
    assert query_terms("When did Mel run? Run, Mel!") == ["when", "did", "mel", "run"]
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)), limit=64)) == 64


def test_idf_is_lucenes_and_positive() -> None:
    assert bm25.idf(10, 1) == pytest.approx(math.log(1 + 9.5 / 1.5))
    assert bm25.idf(10, 10) > 0


def test_ceiling_bounds_every_score() -> None:
    docs = [analyze(t) for t in ["red red red red apple", "red car", "green apple pie"]]
    assert bm25.document_frequencies(docs) == {"red": 2, "appl": 2, "car": 1, "green": 1, "pie": 1}
    query = ["red", "appl"]
    ceiling = bm25.ceiling([bm25.idf(3, 2), bm25.idf(3, 2)], 1.2)
    scores = bm25.score_corpus(query, docs, 1.2, 0.75)
    assert all(0 <= s < ceiling for s in scores) and scores[0] > scores[1] > 0 and scores[2] > 0


def test_scores_rank_like_an_independent_bm25_implementation() -> None:
    texts = [
        "Caroline went to the LGBTQ support group yesterday",
        "Melanie painted a sunrise over the lake",
        "Caroline is researching adoption agencies",
        "The support group met again and Caroline spoke",
        "Melanie took her kids camping in the mountains",
    ]
    query = "When did Caroline go to the support group?"
    ours = bm25.score_corpus(query_terms(query), [analyze(text) for text in texts], 1.2, 0.75)
    # bm25s with Lucene's method and our tokens as its vocabulary: the same formula, written by others.
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False),
        show_progress=False,
    )
    theirs = retriever.get_scores(query_terms(query))
    assert list(np.argsort(-np.array(ours), kind="stable")[:3]) == list(np.argsort(-theirs, kind="stable")[:3])

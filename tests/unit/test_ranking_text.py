"""Text analysis and BM25 scoring of the per-cube index (the pure parts; Cypher is checked against these)."""

from __future__ import annotations

import math
import re

import bm25s
import numpy as np
import pytest
import Stemmer

from memos_graph.ranking import bm25
from memos_graph.ranking.analyzer import (
    CJK_RANGES,
    EAST_ASIAN_TEXT_JAVA,
    WIDTH_RANGES,
    analyze,
    has_east_asian,
    postings,
    query_terms,
)
from testkit.multilingual import version_one_terms


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


def test_chinese_runs_become_overlapping_bigrams() -> None:
    assert analyze("我在哪里工作？") == ["我在", "在哪", "哪里", "里工", "工作"]
    assert analyze("我对花生过敏。") == ["我对", "对花", "花生", "生过", "过敏"]


def test_a_lone_cjk_character_is_a_unigram_and_punctuation_splits_runs() -> None:
    assert analyze("我") == ["我"]
    assert analyze("你好，世界！猫") == ["你好", "世界", "猫"]
    assert analyze("第3章") == ["第", "3", "章"]


def test_japanese_runs_bigram_across_kana_and_kanji() -> None:
    assert analyze("東京に行きました。") == ["東京", "京に", "に行", "行き", "きま", "まし", "した"]
    assert analyze("コンピューター・ゲーム") == ["コン", "ンピ", "ピュ", "ュー", "ータ", "ター", "ゲー", "ーム"]


def test_korean_words_become_bigrams() -> None:
    assert analyze("저는 서울에 살아요") == ["저는", "서울", "울에", "살아", "아요"]


def test_mixed_text_keeps_english_words_as_today() -> None:
    assert analyze("我在Google工作") == ["我在", "googl", "工作"]
    assert analyze("She runs 每天跑步 in the park") == ["she", "run", "每天", "天跑", "跑步", "park"]


def test_full_width_letters_digits_and_half_width_katakana_are_normalised() -> None:
    assert analyze("Ｇｏｏｇｌｅ　２０２４年") == ["googl", "2024", "年"]
    assert analyze("ｶﾞｷﾞ") == ["ガギ"]


def test_emoji_are_dropped() -> None:
    assert analyze("今天很开心😀🎉！") == ["今天", "天很", "很开", "开心"]
    assert analyze("party 🎉 time") == ["parti", "time"]


def test_text_without_cjk_analyses_as_version_one() -> None:
    # Postings of such texts are never rebuilt: their terms must be those version 1 wrote.
    texts = [
        "Caroline's guitar, don't stop at 3.5 km",
        "ﬁnance² in Zürich… ½ ™ Straße",
        "Déjà vu: naïve café, 100% ÜBER",
        "Привет мир, Ελληνικά, עברית, हिन्दी",
    ]
    for text in texts:
        assert not has_east_asian(text)
        assert analyze(text) == version_one_terms(text)
    assert has_east_asian("Ｇ") and has_east_asian("中") and has_east_asian("한") and not has_east_asian("😀")
    assert analyze("我在上海工作") != version_one_terms("我在上海工作") == ["我在上海工作"]


def test_the_java_pattern_selects_what_the_python_one_does() -> None:
    # Neo4j selects the memories to re-index with EAST_ASIAN_TEXT_JAVA: the same ranges as has_east_asian.
    java = EAST_ASIAN_TEXT_JAVA
    assert java.startswith("(?s).*[") and java.endswith("].*")
    found = [(int(a, 16), int(b, 16)) for a, b in re.findall(r"\\x\{([0-9a-f]+)\}-\\x\{([0-9a-f]+)\}", java)]
    assert found == list(CJK_RANGES + WIDTH_RANGES)

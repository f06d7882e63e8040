"""The CMRC benchmark's pure parts: SQuAD parsing, folds, rank metrics, the bigram baseline, the CV and report."""

from __future__ import annotations

from collections import Counter

from bench.bench_cmrc import DEFAULT_GRID, MIXED, figures, markdown
from bench.cmrc_cv import (
    BASELINES,
    BigramBm25,
    Question,
    bigram_baselines,
    bigram_tokens,
    fold_of_paragraphs,
    load_squad,
    rank_scores,
    ranked_paragraphs,
)
from bench.locomo_cv import parse_grid

SQUAD = {
    "version": "v1.0",
    "data": [
        {
            "paragraphs": [
                {
                    "context": "上海是中国的城市。",
                    "qas": [
                        {"question": "上海在哪个国家？", "id": "Q1", "answers": [{"text": "中国", "answer_start": 3}]},
                        {"question": "  ", "id": "BLANK", "answers": []},
                    ],
                },
                {"context": "北京是首都。", "qas": [{"question": "首都是哪里？", "id": "Q2", "answers": []}]},
            ]
        },
        # The same context in another article is the same paragraph.
        {"paragraphs": [{"context": "上海是中国的城市。", "qas": [{"question": "上海是什么？", "id": "Q3"}]}]},
    ],
}


def test_squad_contexts_are_distinct_and_blank_questions_skipped() -> None:
    contexts, questions = load_squad(SQUAD)
    assert contexts == ["上海是中国的城市。", "北京是首都。"]
    assert [(q.question_id, q.paragraph) for q in questions] == [("Q1", 0), ("Q2", 1), ("Q3", 0)]


def test_folds_are_balanced_and_seeded() -> None:
    folds = fold_of_paragraphs(23, 5)
    assert sorted(Counter(folds).values()) == [4, 4, 5, 5, 5]
    assert folds == fold_of_paragraphs(23, 5) and folds != fold_of_paragraphs(23, 5, seed=1)


def test_rank_metrics() -> None:
    assert rank_scores([7, 3, 9], gold=3) == {"Hit@1": 0.0, "Hit@5": 1.0, "Hit@10": 1.0, "MRR@10": 0.5}
    beyond = rank_scores(list(range(20)), gold=12)
    assert beyond == {"Hit@1": 0.0, "Hit@5": 0.0, "Hit@10": 0.0, "MRR@10": 0.0}
    assert rank_scores([], gold=0)["MRR@10"] == 0.0
    assert ranked_paragraphs(["a", "x", "b", "a"], {"a": 2, "b": 0}) == [2, 0]


def test_bigrams_of_cjk_and_words_of_the_rest() -> None:
    assert bigram_tokens("我在Google工作") == ["我在", "google", "工作"]
    assert bigram_tokens("上海市，ＡＢＣ１２３ 猫!") == ["上海", "海市", "abc123", "猫"]
    assert bigram_tokens("서울에 살아요") == ["서울", "울에", "살아", "아요"]
    assert bigram_tokens("Hello, world") == ["hello", "world"]


def test_bigram_bm25_ranks_the_paragraph_sharing_the_question_s_bigrams() -> None:
    texts = ["我喜欢踢足球，最喜欢巴塞罗那。", "我在上海一家公司工作。", "我对花生过敏。"]
    bm25 = BigramBm25(texts)
    assert bm25.rank("我对什么过敏？")[0] == 2
    assert bm25.rank("我在哪里工作？")[0] == 1
    assert bm25.rank("？") == []
    vectors = [[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]
    ranked = bigram_baselines(texts, vectors, ["巴塞罗那"], [[0.0, 1.0]])
    assert list(ranked) == list(BASELINES)
    assert ranked[BASELINES[0]] == [[0]] and ranked[BASELINES[1]] == [[1, 2, 0]]
    assert sorted(ranked[BASELINES[2]][0]) == [0, 1, 2]


def test_cross_validation_chooses_on_the_other_folds_and_the_report_renders() -> None:
    grid = parse_grid('[{}, {"name": "other", "vector_weight": 0.1}]')
    # Four paragraphs, two folds; "other" is better on every question but those of paragraph 3.
    folds = [0, 1, 0, 1]
    questions = [Question(f"q{i}", "?", paragraph) for i, paragraph in enumerate([0, 1, 2, 3, 3])]
    good = [[q.paragraph] for q in questions]
    bad = [[9, q.paragraph] for q in questions]
    other = [*good[:3], [9], [9]]
    rankings = {"defaults": bad, "other": other, **{name: good for name in BASELINES}}
    latencies = {"defaults": [0.01] * 5, "other": [0.02] * 5}
    payload = figures(questions, folds, grid, rankings, latencies, 1.0, 0.5, None)
    chosen = {fold["held_out"]: fold["chosen"] for fold in payload["cv"]["folds"]}
    # Fold 1 (paragraphs 0, 2) is chosen on fold 2's questions, where "defaults" (MRR 0.5) beats "other" (1/3);
    # fold 2 on fold 1's, where "other" is perfect.
    assert chosen == {"fold-1": "defaults", "fold-2": "other"}
    held = payload["cv"]["held_out"]
    assert held["n"] == 5 and held["MRR@10"] == round((0.5 + 0.5 + 1.0 + 0 + 0) / 5, 4)
    assert payload["pooled"]["other"]["Hit@1"] == 0.6
    assert payload["ranks"]["defaults"] == [2] * 5 and payload["ranks"]["other"] == [1, 1, 1, None, None]
    assert payload["question_folds"] == [1, 2, 1, 2, 2]
    payload.update(
        started="now",
        machine="m",
        commit="c",
        data="d.json",
        top_k=10,
        batch=64,
        embedder="e",
        neo4j={"bolt_port": 1},
        grid=[{"name": s.name, "overrides": dict(s.overrides)} for s in grid],
    )
    report = markdown(payload, "cmrc")
    assert "| fold-2 | other |" in report and "Not run (`--no-mixed`)" in report


def test_the_default_grid_and_the_mixed_cube_are_valid() -> None:
    assert parse_grid(DEFAULT_GRID)[0].name == "defaults"
    assert set(MIXED) == {"en", "zh"} and all(len(pairs) == 4 for pairs in MIXED.values())

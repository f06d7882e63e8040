"""The LoCoMo cross-validation's pure parts: grid parsing, fold selection and pooling, the baselines, the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bench.bench_locomo import KS
from bench.locomo_cv import (
    BASELINE_NAMES,
    DEFAULTS_NAME,
    Bm25Ranker,
    Row,
    aggregate,
    baseline_rankings,
    choose_setting,
    cross_validate,
    dense_rank,
    filler_texts,
    order_by_score,
    parse_grid,
    pooled_rows,
    rrf_fuse,
    scored_mean,
    turns_in_order,
    vocabulary,
)
from bench.locomo_report import CV_LABEL, markdown, to_json
from bench.locomo_run import Conversation, figures


def rows(*r10: float, category: int = 4) -> list[Row]:
    """Rows whose every metric is the given R@10 (Hit@k: whether it is above zero)."""
    return [
        (category, {**{f"R@{k}": value for k in KS}, **{f"Hit@{k}": float(value > 0) for k in KS}}) for value in r10
    ]


# -- grid -------------------------------------------------------------------------------------------


def test_grid_puts_defaults_first_and_strips_names(tmp_path: Path) -> None:
    grid = parse_grid('[{"name": "no-expansion", "expand_top": 0}, {"rrf_k": 30}]')
    assert [(s.name, dict(s.overrides)) for s in grid] == [
        (DEFAULTS_NAME, {}),
        ("no-expansion", {"expand_top": 0}),
        ("rrf_k=30", {"rrf_k": 30}),
    ]
    path = tmp_path / "grid.json"
    path.write_text(json.dumps([{}, {"name": "x", "expand_top": 5}]))
    assert [s.name for s in parse_grid(str(path))] == [DEFAULTS_NAME, "x"]
    assert [s.name for s in parse_grid("[]")] == [DEFAULTS_NAME]


def test_grid_entries_with_ingest_overrides_share_an_ingest_key() -> None:
    grid = parse_grid(
        '[{}, {"ingest": {"context_messages": 1}}, {"name": "c", "ingest": {"context_messages": 1},'
        ' "fusion": "convex"}]'
    )
    assert [s.name for s in grid] == [DEFAULTS_NAME, "ingest.context_messages=1", "c"]
    assert grid[1].ingest_key() == grid[2].ingest_key() != grid[0].ingest_key()
    assert dict(grid[2].overrides) == {"fusion": "convex"}


@pytest.mark.parametrize(
    "grid",
    [
        '[{"expnd_top": 0}]',  # not a SearchSettings key
        '[{"expand_top": -1}]',  # invalid value
        '[{"fulltext_analyzer": "standard"}]',  # needs an index rebuild
        '[{"name": "a", "expand_top": 1}, {"name": "a", "expand_top": 2}]',  # repeated name
        '[{}, {"name": "defaults", "rrf_k": 10}]',  # collides with the defaults' name
        '{"expand_top": 0}',  # not a list
        '[{"ingest": {"context_messages": -1}}]',  # invalid ingest value
        '[{"ingest": {"contxt": 1}}]',  # not an IngestSettings key
        '[{"ingest": 1}]',  # not an object
    ],
)
def test_bad_grids_are_refused(grid: str) -> None:
    with pytest.raises(ValueError):
        parse_grid(grid)


# -- cross-validation -------------------------------------------------------------------------------


def test_fold_choice_ignores_the_held_out_conversation() -> None:
    # "b" is better on c1 and c2, "a" only on c3: a fold may choose either, never by the held-out's rows.
    table = {
        "a": {"c1": rows(0.5), "c2": rows(0.5), "c3": rows(1.0)},
        "b": {"c1": rows(0.9), "c2": rows(0.7), "c3": rows(0.0)},
    }
    assert choose_setting(table, ["a", "b"], "c3") == "b"  # a 0.5 vs b 0.8 on c1+c2
    assert choose_setting(table, ["a", "b"], "c1") == "a"  # a 0.75 vs b 0.35 on c2+c3
    folds, held_out = cross_validate(table, ["a", "b"], ["c1", "c2", "c3"])
    assert [(f.held_out, f.chosen) for f in folds] == [("c1", "a"), ("c2", "a"), ("c3", "b")]
    assert folds[0].train_mean == pytest.approx(0.75) and folds[2].held_out_mean == 0.0
    # Pooled: each held-out question once, scored by its fold's choice.
    assert [s["R@10"] for _, s in held_out] == [0.5, 0.5, 0.0]
    assert aggregate(held_out)["overall"]["R@10"] == pytest.approx(1 / 3, abs=1e-4)


def test_ties_go_to_the_earlier_setting() -> None:
    table = {"first": {"c1": rows(0.5), "c2": rows(0.5)}, "second": {"c1": rows(0.5), "c2": rows(0.5)}}
    assert choose_setting(table, ["first", "second"], "c1") == "first"
    assert choose_setting(table, ["second", "first"], "c1") == "second"


def test_selection_pools_questions_and_skips_adversarial() -> None:
    # Pooled over questions, not averaged per conversation: c2's three questions outweigh c1's one.
    table = {
        "a": {"c1": rows(1.0), "c2": rows(0.0, 0.0, 0.0), "c3": rows(0.0)},
        "b": {"c1": rows(0.0), "c2": rows(0.4, 0.4, 0.4), "c3": rows(0.0)},
    }
    assert choose_setting(table, ["a", "b"], "c3") == "b"  # a 0.25 vs b 0.3 (per-conversation mean: a 0.5)
    # Adversarial questions (category 5) count for nothing in the choice.
    table["a"]["c1"] = [*rows(1.0), *rows(0.0, 0.0, 0.0, category=5)]
    assert scored_mean(pooled_rows(table["a"], exclude="c3")) == pytest.approx(0.25)
    assert math.isnan(scored_mean(rows(1.0, category=5)))


def test_aggregate_reports_adversarial_apart() -> None:
    result = aggregate([*rows(1.0, category=1), *rows(0.0, category=4), *rows(1.0, category=5)])
    assert result["overall"]["n"] == 2 and result["overall"]["R@10"] == 0.5
    assert result["adversarial"]["n"] == 1 and result["temporal"] == {"n": 0}


# -- baselines --------------------------------------------------------------------------------------


def test_rrf_fusion_sums_reciprocal_ranks_and_breaks_ties_by_first_appearance() -> None:
    assert rrf_fuse([[0, 1, 2], [2, 3, 0]]) == [0, 2, 1, 3]  # 0 and 2: 1/61 + 1/63 each, 0 seen first
    assert rrf_fuse([[5, 6], [6, 5]]) == [5, 6]
    assert rrf_fuse([[1], []], k=1) == [1] and rrf_fuse([]) == []
    # One long ranking can outweigh a short one: 7 is 1st in one list, 4 is 2nd in both.
    assert rrf_fuse([[7, 4], [9, 4]], k=60)[0] == 4


def test_order_by_score_is_stable_and_can_drop_zero_scores() -> None:
    scores = np.array([0.0, 2.0, 1.0, 2.0])
    assert order_by_score(scores) == [1, 3, 2, 0]
    assert order_by_score(scores, positive_only=True) == [1, 3, 2]


def test_bm25_stems_drops_stop_words_and_returns_matches_only() -> None:
    bm25 = Bm25Ranker(["Caroline went to the support group", "Melanie painted a sunrise", "the cats were running"])
    assert bm25.rank("When did Caroline go to support groups?") == [0]
    assert bm25.rank("paintings") == [1]
    assert bm25.rank("the a of") == [] and bm25.rank("zebra") == []


def test_dense_ranks_every_document_by_cosine() -> None:
    documents = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    assert dense_rank(documents, [0.0, 2.0]) == [1, 2, 0]


def test_baseline_rankings_cover_every_query() -> None:
    texts = ["apples are red", "bananas are yellow", "cherries are red"]
    vectors = [[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]]
    result = baseline_rankings(texts, vectors, ["red apples", "yellow"], [[1.0, 0.0], [0.0, 1.0]])
    assert list(result) == list(BASELINE_NAMES)
    bm25, dense, fused = (result[name] for name in BASELINE_NAMES)
    assert bm25[0][0] == 0 and set(bm25[0]) == {0, 2} and bm25[1] == [1]
    assert dense[0] == [0, 2, 1] and dense[1] == [1, 2, 0]
    assert fused[0][0] == 0 and sorted(fused[1]) == [0, 1, 2]


def test_turns_in_order_flattens_without_repeats() -> None:
    assert turns_in_order([["D1:2"], ["D1:3", "D1:2"], [], ["D2:1"]]) == ["D1:2", "D1:3", "D2:1"]


def test_filler_is_distinct_and_carries_the_vocabulary() -> None:
    words = vocabulary(["Caroline loves painting; Caroline paints sunsets", "the sunset"])
    assert words[0] == "caroline" and "the" not in words
    filler = filler_texts(600, words)
    assert len(set(filler)) == 600 and filler == filler_texts(600, words)
    assert all(any(word in text for word in words) for text in filler)


# -- figures and report -----------------------------------------------------------------------------


def conversation(conv_id: str, r10: dict[str, float]) -> Conversation:
    result = Conversation(conv_id, turns=100, ingest_s=2.0, memories=100, baseline_s=0.5)
    for name, value in r10.items():
        result.rows[name] = [*rows(value, category=1), *rows(value, category=5)]
        result.rankings[name] = [["D1:1"], ["D1:2" if name == "x" else "D1:1"]]
        result.latencies[name] = [0.05, 0.07]
    return result


def test_figures_and_report_from_synthetic_conversations() -> None:
    grid = parse_grid('[{}, {"name": "x", "expand_top": 0}]')
    methods = {"defaults": 0.5, "x": 0.6, **dict.fromkeys(BASELINE_NAMES, 0.4)}
    convs = [conversation("c1", methods), conversation("c2", {**methods, "x": 0.1})]
    payload = figures(convs, grid, None)
    assert [f["chosen"] for f in payload["cv"]["folds"]] == ["defaults", "x"]  # c1 out: x 0.1 < 0.5
    assert payload["cv"]["held_out"]["overall"]["R@10"] == pytest.approx((0.5 + 0.1) / 2)
    assert payload["ranked_differently_from_defaults"] == {"defaults": 0, "x": 2}
    assert payload["ingest"]["turns_per_s"] == 50.0
    payload.update(
        {
            "started": "now",
            "machine": "m",
            "data": "d.json",
            "top_k": 20,
            "neo4j": {"bolt_port": 7693},
            "grid": [{"name": s.name, "overrides": dict(s.overrides)} for s in grid],
        }
    )
    assert payload["row_columns"] == ["category", *(f"R@{k}" for k in KS), *(f"Hit@{k}" for k in KS)]
    assert payload["rows"]["x"]["c2"][0] == [1, 0.1, 0.1, 0.1, 0.1, 1.0, 1.0, 1.0, 1.0]
    assert payload["latency_ms"]["x"]["c1"] == [50.0, 70.0]
    assert json.loads(to_json(payload)) == json.loads(json.dumps(payload))
    text = markdown(payload, "locomo-cv")
    assert CV_LABEL in text and "| c2 | x |" in text and "Not run (`--tenant-check`)" in text
    single = {
        **figures(convs[:1], grid, None),
        **{k: payload[k] for k in ("started", "machine", "data", "top_k", "neo4j", "grid")},
    }
    assert "cv" not in single and "it needs at least two conversations" in markdown(single, "one")

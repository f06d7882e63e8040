"""CMRC 2018 retrieval benchmark (Chinese): Hit@1/5/10 and MRR@10 of MOS.search over Wikipedia paragraphs, for a
grid of search settings chosen by cross-validation over folds of the paragraphs, beside same-run baselines.

    python -m bench.bench_cmrc --data PATH [--folds 5] [--grid PATH_OR_JSON] [--batch 64] [--top-k 10]
                               [--name cmrc] [--no-mixed] [--bolt-port 7695] [--http-port 7481]
                               [--keep-neo4j] [--dry-run]

Protocol (from the data's README): one user, one cube; every distinct context is one memory, added with
add(memory_content=[...]) in batches; every question is one search of that cube with top_k=10; a question is
answered at rank r when its own paragraph is the r-th result. Every setting of --grid (SearchSettings
overrides, as bench_locomo takes them; the project defaults first) answers every question on the one ingest.
Baselines in the same run, on the memory texts the service stored: BM25 (bm25s) over CJK character bigrams and
the words of other scripts, exact cosine with the project's embedder, and RRF (k=60) of the two.

Cross-validation: the paragraphs are dealt into --folds folds (seeded shuffle); for each fold, the setting
with the best MRR@10 over the other folds' questions (ties: earlier in the grid) is scored on the fold's own
questions; the headline pools those held-out scores, each question scored once.

Mixed-language cube (unless --no-mixed): English and Chinese memories on different subjects in one cube of
another user; each question, asked in its memory's language, should find that memory first.

Neo4j: as bench_locomo, a server of the benchmark's own on --bolt-port/--http-port, refused when it was
already running with nodes in it, emptied before, wiped at the end (--keep-neo4j leaves it running, emptied).
Writes bench/results/<name>.json and <name>.md, which hold no question or paragraph text of the data.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cmrc_cv import (
    BASELINES,
    CATEGORY,
    SELECTION_METRIC,
    Question,
    bigram_baselines,
    fold_name,
    fold_of_paragraphs,
    load_squad,
    rank_scores,
    ranked_paragraphs,
)
from bench.locomo_cv import Row, Setting, cross_validate, mean_scores, parse_grid

if TYPE_CHECKING:
    from memos_graph import MOS
    from memos_graph.services.runtime import Runtime

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "cmrc-trial" / "cmrc2018_trial.json"
# The fusion weight of questions the multilingual model embeds (every question here is Chinese) and the BM25
# parameters: what Chinese text might want otherwise than the defaults tuned on English conversations.
DEFAULT_GRID = json.dumps(
    [
        {},
        {"name": "bm25-alone", "multilingual_vector_weight": 0.0},
        {"name": "vector-0.1", "multilingual_vector_weight": 0.1},
        {"name": "vector-0.25", "multilingual_vector_weight": 0.25},
        {"name": "vector-0.35", "multilingual_vector_weight": 0.35},
        {"name": "vector-0.65", "multilingual_vector_weight": 0.65},
        {"name": "vector-0.75", "multilingual_vector_weight": 0.75},
        {"name": "rrf", "fusion": "rrf"},
        {"name": "bm25-lucene", "bm25_k1": 1.2, "bm25_b": 0.75},
    ]
)
METRICS = ("Hit@1", "Hit@5", "Hit@10", "MRR@10")
CV_LABEL = "CV: setting chosen per fold (held-out)"
# Quoted from the data's README: a larger held-out set of the same kind, measured outside the project.
QUOTED = [
    ("BM25 over CJK bigrams + Latin words (bm25s)", "0.958", "", "0.998"),
    ("dense all-MiniLM-L6-v2, cosine", "", "", "0.352"),
    ("RRF of the two", "", "", "0.952"),
    ("the service before issue 23", "", "", "0.451"),
]
# One cube, two languages, different subjects: (memory, question) pairs.
MIXED = {
    "en": [
        ("I play the violin in a community orchestra every Thursday evening.", "What instrument do I play?"),
        ("My sister Anna lives in Lisbon and works as an architect.", "Where does my sister live?"),
        ("I am saving money to buy an electric car next spring.", "What am I saving money for?"),
        ("Our cat Miso is afraid of the vacuum cleaner.", "What is the cat afraid of?"),
    ],
    "zh": [
        ("我喜欢踢足球，最喜欢的球队是巴塞罗那。", "我最喜欢哪支球队？"),
        ("我在上海一家公司做软件工程师。", "我在哪里工作？"),
        ("我对花生过敏。", "我对什么过敏？"),
        ("我周末经常去爬山。", "我周末做什么？"),
    ],
}


def add_in_batches(mos: MOS, user: str, cube: str, texts: Sequence[str], batch: int) -> tuple[list[str], float]:
    """add(memory_content=...) per batch of texts; the ids in the texts' order, and the seconds spent."""
    from bench.stats import timed

    ids: list[str] = []
    seconds = 0.0
    for start in range(0, len(texts), batch):
        chunk = list(texts[start : start + batch])
        elapsed, added = timed(partial(mos.add, memory_content=chunk, mem_cube_id=cube, user_id=user))
        if len(added) != len(chunk):
            raise RuntimeError(f"add returned {len(added)} ids for {len(chunk)} texts")
        ids += added
        seconds += elapsed
    return ids, seconds


def searched_ids(mos: MOS, user: str, cube: str, query: str, top_k: int) -> list[str]:
    """The ids of a search's results, best first."""
    found = mos.search(query, user_id=user, install_cube_ids=[cube], top_k=top_k)
    return [item.id for group in found.get("text_mem", []) for item in group["memories"]]


def mixed_check(moses: Sequence[tuple[str, MOS]], top_k: int) -> dict[str, Any]:
    """Per setting, per question of MIXED: the rank of its own memory in a cube holding both languages."""
    root = moses[0][1]
    from memos_graph import UserRole

    user = root.create_user(f"cmrc-mixed-{uuid.uuid4().hex[:8]}", UserRole.USER)
    cube = root.create_cube_for_user("cmrc mixed", owner_id=user)
    pairs = [(language, memory, question) for language, items in MIXED.items() for memory, question in items]
    ids, _ = add_in_batches(root, user, cube, [memory for _, memory, _ in pairs], batch=len(pairs))
    result: dict[str, Any] = {"memories": len(pairs), "settings": {}}
    for name, mos in moses:
        ranks = []
        for (language, _, question), own in zip(pairs, ids, strict=True):
            found = searched_ids(mos, user, cube, question, top_k)
            ranks.append({"language": language, "rank": found.index(own) + 1 if own in found else None})
        result["settings"][name] = {
            "ranks": ranks,
            **{f"first_{lang}": sum(r["rank"] == 1 for r in ranks if r["language"] == lang) for lang in MIXED},
        }
    root.delete_all(mem_cube_id=cube, user_id=user)
    return result


def run(
    runtime: Runtime,
    contexts: Sequence[str],
    questions: Sequence[Question],
    grid: Sequence[Setting],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Ingest once, answer with every setting, rank with the baselines; then the tables and the CV."""
    from bench.bench_core import log
    from bench.locomo_run import setting_runtime
    from bench.stats import timed
    from memos_graph import MOS, UserRole
    from memos_graph.embeddings.base import embed_query

    runtime.embedder.embed(["warm up"])  # load the model outside the timings
    runtimes = [setting_runtime(runtime, setting) for setting in grid]
    moses = [(setting.name, MOS(r.config, runtime=r)) for setting, r in zip(grid, runtimes, strict=True)]
    root = moses[0][1]
    user = root.create_user(f"cmrc-{uuid.uuid4().hex[:8]}", UserRole.USER)
    cube = root.create_cube_for_user("cmrc", owner_id=user)
    ids, ingest_s = add_in_batches(root, user, cube, contexts, args.batch)
    paragraph_of = {memory_id: index for index, memory_id in enumerate(ids)}
    log(f"{len(contexts)} paragraphs added in {ingest_s:.1f} s")

    rankings: dict[str, list[list[int]]] = {}
    latencies: dict[str, list[float]] = {}
    for name, mos in moses:
        rankings[name], latencies[name] = [], []
        for question in questions:
            elapsed, found = timed(partial(searched_ids, mos, user, cube, question.text, args.top_k))
            rankings[name].append(ranked_paragraphs(found, paragraph_of))
            latencies[name].append(elapsed)
        log(f"{name}: {len(questions)} questions in {sum(latencies[name]):.1f} s")

    stored = [item for group in root.get_all(mem_cube_id=cube, user_id=user)["text_mem"] for item in group["memories"]]
    by_paragraph = sorted((paragraph_of[item.id], item.memory) for item in stored if item.id in paragraph_of)
    if [index for index, _ in by_paragraph] != list(range(len(contexts))):
        raise RuntimeError("get_all did not return every added paragraph once")
    texts = [text for _, text in by_paragraph]
    embed = runtime.embedder.embed
    query_texts = [q.text for q in questions]
    baseline_s, baseline_rankings = timed(
        lambda: bigram_baselines(
            texts, embed(texts), query_texts, [embed_query(runtime.embedder, text).vector for text in query_texts]
        )
    )
    rankings.update(baseline_rankings)
    mixed = None if args.no_mixed else mixed_check(moses, args.top_k)
    for _, mos in moses:
        mos.close()

    folds = fold_of_paragraphs(len(contexts), args.folds)
    payload = figures(questions, folds, grid, rankings, latencies, ingest_s, baseline_s, mixed)
    return {"embedder": runtime.embedder.model_name, **payload}


def gold_rank(ranked: Sequence[int], gold: int) -> int | None:
    """The 1-based rank of the gold paragraph, None when it is not in the ranking."""
    return ranked.index(gold) + 1 if gold in ranked else None


def figures(
    questions: Sequence[Question],
    folds: Sequence[int],
    grid: Sequence[Setting],
    rankings: Mapping[str, Sequence[Sequence[int]]],
    latencies: Mapping[str, Sequence[float]],
    ingest_s: float,
    baseline_s: float,
    mixed: dict[str, Any] | None,
) -> dict[str, Any]:
    """The payload: pooled figures per method, the cross-validation over folds of paragraphs, costs."""
    from bench.stats import summary_ms

    names = [s.name for s in grid]
    methods = [*names, *BASELINES]
    fold_names = [fold_name(f) for f in sorted(set(folds))]
    table: dict[str, dict[str, list[Row]]] = {m: {f: [] for f in fold_names} for m in methods}
    for method in methods:
        for question, ranked in zip(questions, rankings[method], strict=True):
            row: Row = (CATEGORY, rank_scores(ranked, question.paragraph))
            table[method][fold_name(folds[question.paragraph])].append(row)
    chosen, held_out = cross_validate(table, names, fold_names, SELECTION_METRIC)
    pooled = {m: mean_scores([s for rows in table[m].values() for _, s in rows]) for m in methods}
    per_fold = {m: {f: mean_scores([s for _, s in table[m][f]]) for f in fold_names} for m in methods}
    return {
        "paragraphs": len(folds),
        "questions": len(questions),
        "ingest_s": round(ingest_s, 2),
        "paragraphs_per_s": round(len(folds) / max(ingest_s, 1e-9), 1),
        "baselines_s": round(baseline_s, 2),
        "cv": {
            "selection_metric": SELECTION_METRIC,
            "folds": [dataclasses.asdict(f) for f in chosen],
            "held_out": mean_scores([s for _, s in held_out]),
        },
        "pooled": pooled,
        "per_fold": per_fold,
        "search_latency": {n: summary_ms(latencies[n]) for n in names},
        "mixed": mixed,
        # Enough to redo any table: per question its id and fold, and per method the rank of its paragraph
        # (null when not returned; the baselines rank every paragraph).
        "question_ids": [q.question_id for q in questions],
        "question_folds": [folds[q.paragraph] + 1 for q in questions],
        "ranks": {m: [gold_rank(r, q.paragraph) for q, r in zip(questions, rankings[m], strict=True)] for m in methods},
        "summary": {"held_out_cv": mean_scores([s for _, s in held_out]), **pooled},
    }


def run_on_own_neo4j(
    contexts: Sequence[str], questions: Sequence[Question], grid: Sequence[Setting], args: argparse.Namespace
) -> dict[str, Any]:
    """Start (or reuse) the benchmark's server, refuse it if it holds someone's data, run, wipe."""
    from bench.bench_locomo import on_own_neo4j
    from bench.locomo_run import delete_everything

    def work(runtime: Runtime) -> dict[str, Any]:
        delete_everything(runtime.store)
        return run(runtime, contexts, questions, grid, args)

    return on_own_neo4j(args, work)


# -- the report -------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], text_columns: int = 1) -> list[str]:
    from bench.locomo_report import table

    return table(header, rows, text_columns)


def _figure(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(payload: Mapping[str, Any], name: str) -> str:
    """The report: headline, every method's figures, the folds, latency, the mixed cube, quoted baselines."""
    names = [entry["name"] for entry in payload["grid"]]
    cv = payload["cv"]
    labelled = [(CV_LABEL, cv["held_out"])]
    labelled += [(f"fixed: {n}", payload["pooled"][n]) for n in names]
    labelled += [(f"baseline: {b}", payload["pooled"][b]) for b in BASELINES]
    rows = [[label, means["n"], *(_figure(means[m]) for m in METRICS)] for label, means in labelled]
    fold_rows = [
        [
            f["held_out"],
            f["chosen"],
            _figure(f["train_mean"]),
            _figure(f["held_out_mean"]),
            _figure(payload["per_fold"][names[0]][f["held_out"]]["MRR@10"]),
            f["questions"],
        ]
        for f in cv["folds"]
    ]
    latency = [[n, payload["search_latency"][n]["p50_ms"], payload["search_latency"][n]["p95_ms"]] for n in names]
    grid = [[entry["name"], f"`{json.dumps(entry['overrides'])}`"] for entry in payload["grid"]]
    held = cv["held_out"]
    lines = [
        f"# {name}: CMRC 2018 retrieval through MOS, settings chosen by cross-validation over paragraph folds",
        "",
        f"Run {payload['started']} on {payload['machine']} at commit {payload['commit']}; data `{payload['data']}`: "
        f"{payload['paragraphs']} paragraphs (one memory each, one cube), {payload['questions']} questions "
        f"({payload.get('questions_blank', 0)} more have a blank text and are skipped), search "
        f"top_k={payload['top_k']}; a Neo4j of the benchmark's own (port {payload['neo4j']['bolt_port']}). "
        f"Embedder `{payload['embedder']}`.",
        "",
        f"**Held-out (CV, {len(cv['folds'])} folds of paragraphs): Hit@1 {_figure(held['Hit@1'])}, Hit@5 "
        f"{_figure(held['Hit@5'])}, Hit@10 {_figure(held['Hit@10'])}, MRR@10 {_figure(held['MRR@10'])}**",
        "",
        "## Grid (SearchSettings overrides; the first is the project defaults)",
        "",
        *_table(["name", "overrides"], grid, text_columns=2),
        "",
        "## Every method",
        "",
        *_table(["method", "questions", *METRICS], rows),
        "",
        "A fixed setting's figures pool every question; the CV row scores each question once, with the setting "
        "chosen (best MRR@10) on the other folds' questions. Baselines ran in the same process on the texts the "
        "service stored: BM25 is bm25s (default parameters) over NFKC-folded, lower-cased CJK character bigrams "
        "plus the words of other scripts; dense is exact cosine with the project's embedder; RRF fuses the two "
        "full rankings with k=60.",
        "",
        "## Folds (paragraphs dealt into folds by a seeded shuffle; questions follow their paragraph)",
        "",
        *_table(
            ["held out", "chosen", "MRR@10 on the others", "held-out MRR@10", f"of {names[0]}", "questions"],
            fold_rows,
            text_columns=2,
        ),
        "",
        "## Costs",
        "",
        f"Ingest: {payload['paragraphs']} paragraphs in {payload['ingest_s']} s of add calls (batches of "
        f"{payload['batch']}), {payload['paragraphs_per_s']} paragraphs/s. Baselines (embedding included): "
        f"{payload['baselines_s']} s.",
        "",
        "MOS.search end to end, ms:",
        "",
        *_table(["setting", "p50", "p95"], latency),
        "",
        *mixed_lines(payload.get("mixed")),
        "",
        "## Quoted from the data's README (a larger held-out set of the same kind, measured outside the project)",
        "",
        *_table(["method", "Hit@1", "Hit@5", "Hit@10"], QUOTED),
    ]
    return "\n".join(lines) + "\n"


def mixed_lines(mixed: Mapping[str, Any] | None) -> list[str]:
    if not mixed:
        return ["## Mixed-language cube", "", "Not run (`--no-mixed`)."]
    per_language = {lang: len(items) for lang, items in MIXED.items()}
    rows = [
        [
            name,
            *(f"{figures[f'first_{lang}']}/{per_language[lang]}" for lang in MIXED),
            " ".join(str(r["rank"]) for r in figures["ranks"]),
        ]
        for name, figures in mixed["settings"].items()
    ]
    return [
        "## Mixed-language cube",
        "",
        f"{mixed['memories']} memories in one cube, English and Chinese on different subjects (bench_cmrc.MIXED); "
        "each question asked in its memory's language. Counted: questions whose own memory came first.",
        "",
        *_table(["setting", *(f"first ({lang})" for lang in MIXED), "rank of the own memory, per question"], rows),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a SQuAD-style JSON file (CMRC 2018)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--grid", default=DEFAULT_GRID, help="search-settings grid: JSON list or a file")
    parser.add_argument("--batch", type=int, default=64, help="paragraphs per add call")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--name", default="cmrc", help="results file stem")
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed-language cube")
    parser.add_argument("--bolt-port", type=int, default=7695, help="the benchmark's own Neo4j (Bolt)")
    parser.add_argument("--http-port", type=int, default=7481, help="the benchmark's own Neo4j (HTTP)")
    parser.add_argument("--keep-neo4j", action="store_true", help="leave the server running (emptied) at the end")
    parser.add_argument("--dry-run", action="store_true", help="parse and count only; no Neo4j")
    args = parser.parse_args()
    if args.folds < 2:
        parser.error("--folds must be at least 2")

    document = json.loads(args.data.read_text())
    contexts, questions = load_squad(document)
    asked = sum(len(p.get("qas", [])) for a in document["data"] for p in a["paragraphs"])
    grid = parse_grid(args.grid)
    if any(setting.ingest for setting in grid):
        parser.error("this benchmark ingests once: grid entries cannot carry ingest overrides")
    if args.dry_run:
        blank = asked - len(questions)
        print(f"{len(contexts)} paragraphs, {len(questions)} questions ({blank} blank), {args.folds} folds")
        print("grid: " + "; ".join(f"{s.name} {json.dumps(dict(s.overrides))}" for s in grid))
        return
    from bench.bench_core import RESULTS, log
    from bench.locomo_report import to_json

    commit = os.popen("git rev-parse --short HEAD 2>/dev/null").read().strip() or "unknown"
    payload: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "commit": commit,
        "data": args.data.name,
        "questions_blank": asked - len(questions),
        "top_k": args.top_k,
        "batch": args.batch,
        "grid": [{"name": s.name, "overrides": dict(s.overrides)} for s in grid],
    }
    payload.update(run_on_own_neo4j(contexts, questions, grid, args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(to_json(payload) + "\n")
    (RESULTS / f"{args.name}.md").write_text(markdown(payload, args.name))
    log(f"wrote {RESULTS / args.name}.md")
    print(json.dumps(payload["summary"], indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()

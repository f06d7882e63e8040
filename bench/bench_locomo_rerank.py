"""LoCoMo: ideas for connecting what was said across sessions (issue 24, part 2), each tried as a re-ranking of
the service's own candidates and its setting chosen by leave-one-conversation-out cross-validation.

    python -m bench.bench_locomo_rerank [--protocol content] [--name locomo-rerank] [--conversations N]
                                        [--bolt-port 7694] [--http-port 7480] [--keep-neo4j]

Per conversation, on a Neo4j of the benchmark's own (emptied before each, wiped at the end, as bench_locomo):
the conversation is added as bench_locomo adds it, each question is searched once with the project's settings
at top_k 60 (the pool), and each idea re-orders that pool offline; the first 20 are scored as bench_locomo
scores them. The ideas, each with its strength 0 (off: the pool's own order) first in its grid:

- session penalty: a result loses `alpha` for every better result said in the same session;
- term MMR: a result loses `p` times its highest Jaccard overlap of analyzer terms (the message's content, the
  speaker removed) with a better result;
- RM3 expansion: the top 3 results' most weighty terms (not in the question) become a second BM25 query over
  the cube's memories; a result gains `g` times that score over its best;
- vector MMR: as search.mmr_penalty does it, from the stored vectors' cosines (memory_similarities).

For each idea the folds choose its strength on the other four conversations and score the fifth; the pooled
held-out figure beside "off" is what the idea gave. Writes bench/results/<name>.json and .md (no text).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.bench_locomo import (
    DEFAULT_DATA,
    PROTOCOLS,
    Question,
    load_questions,
    memory_turns,
    on_own_neo4j,
    ranked_memories,
    score,
)
from bench.locomo_cv import CATEGORIES, SCORED, Row, aggregate, cross_validate, scored_mean, turns_in_order
from bench.locomo_report import table
from bench.locomo_run import Conversation, delete_everything, ingest
from memos_graph import MOS, UserRole
from memos_graph.ranking.analyzer import analyze
from memos_graph.ranking.context import without_speaker
from memos_graph.ranking.diversity import diversified
from memos_graph.services.runtime import Runtime

POOL = 60
DEPTH = 20
TURN = re.compile(r"D:?(\d+):")
GRIDS: dict[str, tuple[str, tuple[float, ...]]] = {
    "session penalty": ("alpha", (0.0, 0.02, 0.05)),
    "term MMR": ("p", (0.0, 0.05, 0.1, 0.2)),
    "RM3 expansion": ("g", (0.0, 0.03, 0.06, 0.1)),
    "vector MMR": ("penalty", (0.0, 0.05, 0.075, 0.1)),
}


@dataclass(frozen=True)
class Pool:
    """One question's candidates from the service, best first: memory index and relativity, and the cosines
    of the candidates' stored vectors by position."""

    question: Question
    ranked: list[tuple[int, float]]
    cosine: dict[tuple[int, int], float]


@dataclass
class Cube:
    """One conversation as stored: per memory its turns, session and analyzer terms of its content."""

    turns: list[list[str]]
    sessions: list[int]
    terms: list[list[str]]
    pools: list[Pool]


def content_terms(item: Any) -> list[str]:
    """Analyzer terms of what the message said (its content without a "Name: " speaker), else the memory."""
    sources = item.metadata.sources or []
    text = sources[0].content if sources and sources[0].content else item.memory
    return analyze(without_speaker(text))


def collect(runtime: Runtime, sample: Mapping[str, Any], protocol: str) -> Cube:
    """Ingest one conversation into the emptied database and search each question's pool."""
    delete_everything(runtime.store)
    mos = MOS(runtime.config, runtime=runtime)
    user = mos.create_user(f"rerank-{uuid.uuid4().hex[:8]}", UserRole.USER)
    cube = mos.create_cube_for_user(f"rerank {sample['sample_id']}", owner_id=user)
    ingest(mos, user, cube, sample, Conversation(str(sample["sample_id"])), protocol)
    items = ranked_memories(mos.get_all(mem_cube_id=cube, user_id=user))
    index = {item.id: n for n, item in enumerate(items)}
    turns = [memory_turns(item) for item in items]
    sessions = [int(m.group(1)) if t and (m := TURN.match(t[0])) else -1 for t in turns]
    stored = Cube(turns, sessions, [content_terms(item) for item in items], [])
    questions, _ = load_questions(sample)
    for question in questions:
        found = ranked_memories(mos.search(question.text, user_id=user, install_cube_ids=[cube], top_k=POOL))
        ids = [item.id for item in found]
        cosine = runtime.search.similarities(cube, ids)
        ranked = [(index[item.id], item.metadata.relativity or 0.0) for item in found]
        stored.pools.append(Pool(question, ranked, cosine))
    mos.close()
    return stored


# -- the ideas, each a re-ordering of a pool --------------------------------------------------------


def session_penalty(cube: Cube, pool: Pool, alpha: float) -> list[int]:
    left, picked, said = list(pool.ranked), list[int](), collections.Counter[int]()
    while left and len(picked) < DEPTH:
        best = max(left, key=lambda pair: pair[1] - alpha * said[cube.sessions[pair[0]]])
        left.remove(best)
        picked.append(best[0])
        said[cube.sessions[best[0]]] += 1
    return picked


def term_mmr(cube: Cube, pool: Pool, p: float) -> list[int]:
    sets = {n: frozenset(cube.terms[n]) for n, _ in pool.ranked}

    def overlap(a: int, b: int) -> float:
        union = sets[a] | sets[b]
        return len(sets[a] & sets[b]) / len(union) if union else 0.0

    left, picked = list(pool.ranked), list[int]()
    while left and len(picked) < DEPTH:
        best = max(left, key=lambda pair: pair[1] - p * max((overlap(pair[0], q) for q in picked), default=0.0))
        left.remove(best)
        picked.append(best[0])
    return picked


class Bm25:
    """BM25 over the cube's memory terms (the service's k1 0.9, b 0.4) for weighted expansion queries."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.tf = [collections.Counter(doc) for doc in documents]
        self.lengths = [len(doc) for doc in documents]
        self.average = sum(self.lengths) / max(len(documents), 1)
        df = collections.Counter(term for doc in documents for term in set(doc))
        n = len(documents)
        self.idf = {term: math.log(1 + (n - k + 0.5) / (k + 0.5)) for term, k in df.items()}

    def score(self, n: int, query: Mapping[str, float]) -> float:
        tf, norm = self.tf[n], 0.9 * (1 - 0.4 + 0.4 * self.lengths[n] / max(self.average, 1e-9))
        return sum(w * self.idf.get(t, 0.0) * tf[t] * 1.9 / (tf[t] + norm) for t, w in query.items() if t in tf)


def rm3(cube: Cube, pool: Pool, g: float, bm25: Bm25) -> list[int]:
    if g <= 0:
        return [n for n, _ in pool.ranked[:DEPTH]]
    asked = set(analyze(pool.question.text))
    weight: dict[str, float] = collections.defaultdict(float)
    for n, relativity in pool.ranked[:3]:
        length = max(bm25.lengths[n], 1)
        for term, count in bm25.tf[n].items():
            if term not in asked:
                weight[term] += relativity * count / length * bm25.idf.get(term, 0.0)
    expansion = dict(sorted(weight.items(), key=lambda pair: -pair[1])[:10])
    total = sum(expansion.values()) or 1.0
    query = {term: value / total for term, value in expansion.items()}
    scores = {n: bm25.score(n, query) for n, _ in pool.ranked}
    best = max(scores.values(), default=0.0) or 1.0
    raised = {n: relativity + g * scores[n] / best for n, relativity in pool.ranked}
    return sorted(raised, key=lambda n: -raised[n])[:DEPTH]


def vector_mmr(pool: Pool, penalty: float) -> list[int]:
    return [n for n, _ in diversified(pool.ranked, pool.cosine, penalty, DEPTH)]


def reorderings(cube: Cube) -> dict[str, Callable[[Pool, float], list[int]]]:
    bm25 = Bm25(cube.terms)
    return {
        "session penalty": lambda pool, x: session_penalty(cube, pool, x),
        "term MMR": lambda pool, x: term_mmr(cube, pool, x),
        "RM3 expansion": lambda pool, x: rm3(cube, pool, x, bm25),
        "vector MMR": vector_mmr,
    }


# -- tables and report ------------------------------------------------------------------------------


def run(runtime: Runtime, samples: Sequence[Mapping[str, Any]], protocol: str) -> dict[str, Any]:
    runtime.embedder.embed(["warm up"])
    tables: dict[str, dict[str, dict[str, list[Row]]]] = {idea: {} for idea in GRIDS}
    conversations = []
    for sample in samples:
        conv = str(sample["sample_id"])
        started = time.perf_counter()
        cube = collect(runtime, sample, protocol)
        conversations.append(conv)
        for idea, reorder in reorderings(cube).items():
            name, values = GRIDS[idea]
            for value in values:
                rows = tables[idea].setdefault(f"{name}={value}", {}).setdefault(conv, [])
                for pool in cube.pools:
                    turns = turns_in_order(cube.turns[n] for n in reorder(pool, value))
                    rows.append((pool.question.category, score(turns, pool.question.gold)))
        print(f"[rerank] {conv}: {len(cube.pools)} questions, {time.perf_counter() - started:.0f} s", flush=True)
    ideas = {}
    for idea, by_setting in tables.items():
        names = list(by_setting)
        folds, held_out = cross_validate(by_setting, names, conversations)
        ideas[idea] = {
            "held_out": aggregate(held_out),
            "off": aggregate([row for conv in conversations for row in by_setting[names[0]][conv]]),
            "fixed": {
                name: aggregate([row for conv in conversations for row in by_setting[name][conv]]) for name in names
            },
            "folds": [
                {"held_out": f.held_out, "chosen": f.chosen, "held_out_mean": round(f.held_out_mean, 4)} for f in folds
            ],
            "folds_off": {conv: round(scored_mean(by_setting[names[0]][conv]), 4) for conv in conversations},
        }
    return {"conversations": conversations, "ideas": ideas}


def report(payload: Mapping[str, Any]) -> str:
    heads = [CATEGORIES[c] for c in SCORED]
    lines = [
        f"# {payload['name']}: re-ranking ideas for connecting sessions, leave-one-conversation-out",
        "",
        f"Run {payload['started']}; protocol `{payload['protocol']}`; each question's pool: the service's top "
        f"{POOL} with the project defaults, re-ordered offline, first {DEPTH} scored. R@10, categories 1-4.",
        "",
    ]
    rows = []
    for idea, figures in payload["ideas"].items():
        held, off = figures["held_out"], figures["off"]
        folds = ", ".join(
            f"{f['held_out']} {f['chosen']} {f['held_out_mean']:.3f}/{figures['folds_off'][f['held_out']]:.3f}"
            for f in figures["folds"]
        )
        scores = [held[h]["R@10"] for h in heads] + [held["overall"]["R@10"], off["overall"]["R@10"]]
        rows.append([idea, *(f"{value:.3f}" for value in scores), folds])
    header = ["idea", f"held out: {heads[0]}", *heads[1:], "overall", "off: overall", "folds (held out / off)"]
    lines += table(header, rows)
    lines += ["", "Fixed strengths, pooled over every conversation (R@10 overall):", ""]
    for idea, figures in payload["ideas"].items():
        cells = ", ".join(f"{name} {fig['overall']['R@10']:.3f}" for name, fig in figures["fixed"].items())
        lines.append(f"- {idea}: {cells}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--conversations", type=int, default=None)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="content")
    parser.add_argument("--name", default="locomo-rerank")
    parser.add_argument("--bolt-port", type=int, default=7694)
    parser.add_argument("--http-port", type=int, default=7480)
    parser.add_argument("--keep-neo4j", action="store_true")
    args = parser.parse_args()
    from bench.bench_core import RESULTS

    with open(args.data, encoding="utf-8") as handle:
        samples: list[dict[str, Any]] = json.load(handle)
    samples = samples[: args.conversations] if args.conversations else samples
    payload: dict[str, Any] = {
        "name": args.name,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "protocol": args.protocol,
    }
    payload.update(on_own_neo4j(args, lambda runtime: run(runtime, samples, args.protocol)))
    (RESULTS / f"{args.name}.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
    (RESULTS / f"{args.name}.md").write_text(report(payload), encoding="utf-8")
    print(report(payload))


if __name__ == "__main__":
    main()

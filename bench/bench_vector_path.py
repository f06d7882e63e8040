"""Issue 26: a large cube's vector ranking by its own HNSW index, asked inside the search statement.

    bash bench/run.sh vector_path [--sizes 1000,10000] [--queries 100] [--add-batches 12 --add-batch 32]

Same run, same graph, same queries, interleaved (the arms' order rotates query by query): one cube of each
size (generated sentences with their real embeddings, as bench_stages), each given its own vector index,
exact scan up to one memory below the smallest size.

- SearchService.search end to end per size, the own index's first request folded into the search statement
  (this) and in a round trip of its own after it (main): p50/p95 and the ratio of p50s; the statement with
  and without the index part, and the index round trip alone.
- Same results: the final top 10 (ids and scores, in order) of both paths, and the statement's index hits
  against nearest's, query by query.
- MOS.add of batches of new texts into the smallest cube (it has its own index: each add updates two HNSW
  graphs) and into a small cube, against the raw embedder on the same texts, interleaved batch by batch.

Runs on the Neo4j of NEO4J_URI, which must be empty; deletes its data. Results: bench/results/<--name>.md
and .json (vector-path-fold; vector-path.md is the previous step's, exact scan against own index, from
commit 8c09b39's version of this bench).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.bench_stages import CACHE, load_cube, log, sized_queries, summary, timed
from bench.corpus import pool_vectors, sentences
from memos_graph import MOS, MOSConfig, UserRole
from memos_graph.graph.search import CubeSearch, SearchIndexes, SearchStart
from memos_graph.ranking.analyzer import query_terms
from memos_graph.services.search import SearchService

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--add-batches", type=int, default=12)
    parser.add_argument("--add-batch", type=int, default=32)
    parser.add_argument("--request-sizes", default="", help="e.g. 30,60,120: the own index's first request")
    parser.add_argument("--name", default="vector-path-fold")
    args = parser.parse_args()
    mos = MOS(MOSConfig.load(), apply_schema=True)
    used = "MATCH (n) WHERE n:MemCube OR n:Memory OR (n:User AND n.role <> 'root') RETURN count(n) > 0 AS used"
    if mos.runtime.store.run_statement(used)[0]["used"]:
        sys.exit("bench_vector_path needs an empty Neo4j of its own")
    owner = mos.create_user("bench-vector-path", UserRole.USER)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        requests = [int(s) for s in args.request_sizes.split(",") if s]
        result = run(mos, owner, sizes, args.queries, args.add_batches, args.add_batch, requests)
    finally:
        mos.delete_user(owner)
        mos.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = report(result)
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


class TwoRoundTrips(SearchIndexes):
    """The search path before the fold: the first statement never asks a cube's own index."""

    def own_index_request(self, top_k: int) -> int:
        return 0


def run(
    mos: MOS, owner: str, sizes: list[int], count: int, add_batches: int, add_batch: int, request_sizes: list[int]
) -> dict[str, Any]:
    rt = mos.runtime
    settings = rt.config.search
    texts = sentences(sum(sizes), seed=23)
    vectors = pool_vectors(rt.embedder, texts, CACHE)
    cubes: dict[int, str] = {}
    start = 0
    for size in sizes:
        cube = mos.create_cube_for_user(f"vector path {size}", owner_id=owner, cube_id=f"vector-path-{size}")
        load_cube(mos, owner, cube, texts[start : start + size], vectors[start : start + size].tolist())
        start += size
        cubes[size] = cube
    rt.store.run_slow_statement("CALL db.awaitIndexes(600)", 630, {})
    own = {size: rt.cube_indexes.promote(cube) for size, cube in cubes.items()}
    log(f"own indexes: {own}")
    small = min(sizes)
    index_settings = settings.model_copy(
        update={"exact_scan_max_memories": small - 1, "dedicated_index_min_memories": small}
    )
    config = rt.config.model_copy(update={"search": index_settings})
    folded = SearchService(config, rt.embedder, SearchIndexes(rt.store, config), mos.cubes)
    two_trips = SearchService(config, rt.embedder, TwoRoundTrips(rt.store, config), mos.cubes)
    pool = folded.pool_size(10)
    first_request = math.ceil(pool * settings.overfetch_factor)

    def statement(cube: str, terms: list[str], vector: list[float], own_candidates: int) -> SearchStart:
        return rt.search.search_cubes_hybrid(
            CubeSearch(
                owner,
                [cube],
                terms,
                vector,
                pool,
                small - 1,
                settings.bm25_k1,
                settings.bm25_b,
                20,
                own_candidates=own_candidates,
            )
        )

    queries = sized_queries(count)
    samples: dict[str, list[float]] = {}
    identical = dict.fromkeys(sizes, 0)
    index_identical = dict.fromkeys(sizes, 0)
    for _, warm in queries[:10]:
        for cube in cubes.values():
            folded.search(owner, warm, [cube])
            two_trips.search(owner, warm, [cube])
    for number, (_, question) in enumerate(queries):
        (vector,) = rt.embedder.embed([question])
        terms = query_terms(question)
        arms: list[tuple[str, Callable[[], object]]] = []
        for size, cube in cubes.items():
            arms += [
                (
                    f"{size:,}: SearchService.search, two round trips (main)",
                    partial(two_trips.search, owner, question, [cube]),
                ),
                (
                    f"{size:,}: SearchService.search, own index folded (this)",
                    partial(folded.search, owner, question, [cube]),
                ),
                (f"{size:,}: statement, without the own index (main)", partial(statement, cube, terms, vector, 0)),
                (
                    f"{size:,}: statement, own index folded in (this)",
                    partial(statement, cube, terms, vector, first_request),
                ),
                (
                    f"{size:,}: own index round trip alone (top {first_request} asked)",
                    partial(rt.search.nearest, cube, vector, pool, first_request, own[size] or ""),
                ),
            ]
        shift = number % len(arms)
        for name, work in arms[shift:] + arms[:shift]:
            samples.setdefault(name, []).append(timed(work))
        for size, cube in cubes.items():
            a = [(m.id, m.metadata.relativity) for m in two_trips.search(owner, question, [cube]).cubes[0].memories]
            b = [(m.id, m.metadata.relativity) for m in folded.search(owner, question, [cube]).cubes[0].memories]
            identical[size] += a == b
            separate = rt.search.nearest(cube, vector, pool, first_request, own[size] or "")
            found = statement(cube, terms, vector, first_request).candidates[cube].by_own_index
            index_identical[size] += found is not None and [(m.id, m.metadata.relativity) for m in found] == [
                (m.id, m.metadata.relativity) for m in separate
            ]
        if (number + 1) % 25 == 0:
            log(f"{number + 1}/{len(queries)} queries")
    rows = {name: summary(values) for name, values in samples.items()}
    ratios = {}
    for size in sizes:
        for this, main in (
            (
                f"{size:,}: SearchService.search, own index folded (this)",
                f"{size:,}: SearchService.search, two round trips (main)",
            ),
            (f"{size:,}: statement, own index folded in (this)", f"{size:,}: statement, without the own index (main)"),
        ):
            ratios[f"{this} / {main}"] = round(rows[this]["p50_ms"] / rows[main]["p50_ms"], 3)
    checks = {}
    for size in sizes:
        checks[f"{size:,}: final results identical, ids and scores in order (folded vs two round trips)"] = (
            f"{identical[size]}/{count}"
        )
        checks[f"{size:,}: the statement's index hits identical to nearest's"] = f"{index_identical[size]}/{count}"
    return {
        "run": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sizes": sizes,
        "queries": count,
        "pool": pool,
        "own_indexes": own,
        "stages": rows,
        "ratios_p50": ratios,
        "checks": checks,
        "request_sizes": bench_request_sizes(mos, cubes, own, queries, pool, request_sizes),
        "add": bench_add(mos, owner, cubes[small], add_batches, add_batch),
    }


def bench_request_sizes(
    mos: MOS,
    cubes: dict[int, str],
    own: dict[int, str | None],
    queries: list[tuple[str, str]],
    pool: int,
    sizes: list[int],
) -> dict[str, Any]:
    """The own index's first request at each size (neighbours asked): its round trip p50/p95 (interleaved)
    and the recall of its top 10 and top `pool` against the exact scan's."""
    reads = mos.runtime.search
    samples: dict[str, list[float]] = {}
    recall: dict[str, list[float]] = {}
    for number, (_, question) in enumerate(queries):
        (vector,) = mos.runtime.embedder.embed([question])
        arms = [(size, cube, asked) for size, cube in cubes.items() for asked in sizes]
        shift = number % len(arms)
        for size, cube, asked in arms[shift:] + arms[:shift]:
            name = f"{size:,}: own index, {asked} asked"
            samples.setdefault(name, []).append(
                timed(partial(reads.nearest, cube, vector, pool, asked, own[size] or ""))
            )
        for size, cube in cubes.items():
            exact = [m.id for m in reads.search_exact(cube, vector, pool)]
            for asked in sizes:
                found = [m.id for m in reads.nearest(cube, vector, pool, asked, own[size] or "")]
                for k in (10, pool):
                    key = f"{size:,}: own index, {asked} asked, recall@{k}"
                    recall.setdefault(key, []).append(len(set(found[:k]) & set(exact[:k])) / k)
    return {
        "latency": {name: summary(values) for name, values in samples.items()},
        "recall": {key: round(sum(v) / len(v), 4) for key, v in recall.items()},
        "recall_min": {key: min(v) for key, v in recall.items()},
    }


def bench_add(mos: MOS, owner: str, large: str, batches: int, batch: int) -> dict[str, Any]:
    """MOS.add of batches of new texts into a cube with its own vector index (two HNSW graphs per memory) and
    into a small cube (the shared index only), against the raw embedder on the same texts; the three
    interleaved batch by batch, the order rotating."""
    embedder = mos.runtime.embedder
    small = mos.create_cube_for_user("vector path add small", owner_id=owner, cube_id="vector-path-add-small")
    texts = sentences(batches * batch * 2 + 64, seed=71)
    embedder.embed(texts[-64:])
    mos.add(memory_content=texts[-64:-32], mem_cube_id=small, user_id=owner)
    mos.add(memory_content=texts[-32:], mem_cube_id=large, user_id=owner)
    elapsed: dict[str, float] = {}
    names = ("raw embedder", "MOS.add, cube with its own index", "MOS.add, small cube (shared index only)")
    for number in range(batches):
        # each cube gets texts of its own (an add of a text the cube holds is a duplicate); the embedder the
        # large cube's
        own_texts = texts[number * 2 * batch : number * 2 * batch + batch]
        small_texts = texts[number * 2 * batch + batch : (number + 1) * 2 * batch]
        arms: list[tuple[str, Callable[[], object]]] = [
            (names[0], partial(embedder.embed, own_texts)),
            (names[1], partial(mos.add, memory_content=own_texts, mem_cube_id=large, user_id=owner)),
            (names[2], partial(mos.add, memory_content=small_texts, mem_cube_id=small, user_id=owner)),
        ]
        shift = number % len(arms)
        for name, work in arms[shift:] + arms[:shift]:
            elapsed[name] = elapsed.get(name, 0.0) + timed(work)
    rates = {name: round(batches * batch / seconds, 1) for name, seconds in elapsed.items()}
    return {
        "batches": batches,
        "batch": batch,
        "texts_per_s": rates,
        "ratio to the raw embedder": {name: round(rates[name] / rates[names[0]], 3) for name in names[1:]},
        "target": 0.8,
    }


def report(result: dict[str, Any]) -> list[str]:
    add = result["add"]
    lines = [
        "# issue 26 step 3: a large cube's own vector index asked inside the search statement",
        "",
        f"Run {result['run']}; {result['queries']} queries (short and long alternating), top_k 10 (pool "
        f"{result['pool']}), cubes of {', '.join(f'{s:,}' for s in result['sizes'])} memories (generated "
        "sentences, real embeddings), each with its own vector index; exact scan up to one memory below the "
        "smallest size, own index from it (the defaults: 999 / 1,000). 'main' is the path before the fold (the "
        "first statement, then the own index's first request in a round trip of its own), 'this' the folded "
        "one (same code, same settings, the statement asked for the index's first request). Every arm on every "
        "query in one loop, the arms' order rotating. `bash bench/run.sh vector_path`.",
        "",
        "| arm | p50 ms | p95 ms |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {s['p50_ms']} | {s['p95_ms']} |" for name, s in result["stages"].items()]
    lines += ["", "| ratio of p50 (same run) | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in result["ratios_p50"].items()]
    lines += ["", "| same results | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in result["checks"].items()]
    lines += [
        "",
        f"## MOS.add: {add['batches']} batches of {add['batch']} new texts per arm, interleaved batch by batch",
        "",
        "| arm | texts/s | ratio to the raw embedder (target >= " + str(add["target"]) + ") |",
        "|---|---:|---:|",
    ]
    for name, rate in add["texts_per_s"].items():
        lines.append(f"| {name} | {rate} | {add['ratio to the raw embedder'].get(name, 1.0)} |")
    requests = result.get("request_sizes") or {}
    if requests.get("latency"):
        lines += [
            "",
            "## The own index's first request: neighbours asked (`--request-sizes`), round trip and recall",
            "",
            f"Same queries, the arms interleaved; recall of its top 10 and top {result['pool']} against the exact "
            "scan's, mean (min).",
            "",
            "| arm | p50 ms | p95 ms | recall@10 | recall@pool |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, s in requests["latency"].items():
            mean, least = requests["recall"], requests["recall_min"]
            at10, atpool = f"{name}, recall@10", f"{name}, recall@{result['pool']}"
            lines.append(
                f"| {name} | {s['p50_ms']} | {s['p95_ms']} | {mean[at10]} ({least[at10]}) "
                f"| {mean[atpool]} ({least[atpool]}) |"
            )
    return lines


if __name__ == "__main__":
    main()

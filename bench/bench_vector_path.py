"""Issue 26, step 2: a 1,000-memory cube's vector ranking by its own HNSW index instead of the exact scan.

    bash bench/run.sh vector_path [--sizes 1000,10000] [--queries 100] [--old-commit main]

Same run, same graph, same queries, interleaved (the arms' order rotates query by query): one cube of each
size (generated sentences with their real embeddings, as bench_stages), each given its own vector index.

- SearchService.search end to end on the smallest cube with the settings on main (exact scan up to
  exact_scan_max_memories 2,000) and with the index settings (exact scan up to one memory below the cube's
  size, dedicated index from its size): p50/p95 and the ratio of p50s.
- The search statement (both parts) as on `--old-commit` and as in this checkout, with each exact_max: the
  UNWIND in this checkout's vector part keeps a cube over the exact-scan size from having every memory
  sought and dropped; and the own index's round trip.
- Recall@10 against the exact ranking: the own index's vector top 10 against the exact scan's, and the
  index setting's final (fused) top 10 against the exact setting's.

Runs on the Neo4j of NEO4J_URI, which must be empty; deletes its data. Results: bench/results/vector-path.md
and .json.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.bench_stages import CACHE, load_cube, log, sized_queries, summary, timed
from bench.corpus import pool_vectors, sentences
from memos_graph import MOS, MOSConfig, UserRole
from memos_graph.graph.queries import query as cypher
from memos_graph.ranking.analyzer import query_terms
from memos_graph.services.runtime import Runtime
from memos_graph.services.search import SearchService

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def old_statement(commit: str) -> str:
    """search_cubes_hybrid as `commit` has it, its filter switched off (as queries.py renders it)."""
    text = subprocess.run(
        ["git", "show", f"{commit}:cypher/queries/search_cubes_hybrid.cypher"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return text.replace("{{memory_filter m}}", "true")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--old-commit", default="main")
    args = parser.parse_args()
    mos = MOS(MOSConfig.load(), apply_schema=True)
    used = "MATCH (n) WHERE n:MemCube OR n:Memory OR (n:User AND n.role <> 'root') RETURN count(n) > 0 AS used"
    if mos.runtime.store.run_statement(used)[0]["used"]:
        sys.exit("bench_vector_path needs an empty Neo4j of its own")
    owner = mos.create_user("bench-vector-path", UserRole.USER)
    try:
        result = run(mos, owner, [int(s) for s in args.sizes.split(",")], args.queries, args.old_commit)
    finally:
        mos.delete_user(owner)
        mos.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "vector-path.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = report(result)
    (RESULTS / "vector-path.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def run(mos: MOS, owner: str, sizes: list[int], count: int, old_commit: str) -> dict[str, Any]:
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

    def service_with(update: Any) -> SearchService:
        config = rt.config.model_copy(update={"search": update})
        runtime = Runtime(config, rt.store, rt.embedder, rt.users, rt.cubes, rt.memories)
        return SearchService(runtime, mos.cubes)

    exact_service, index_service = service_with(settings), service_with(index_settings)
    pool = exact_service.pool_size(10)
    old_text = old_statement(old_commit)
    new_text = cypher("search_cubes_hybrid", (("memory_filter", "off"),))
    driver, database = rt.store.driver, rt.store.database
    first_request = math.ceil(pool * settings.overfetch_factor)

    def statement(text: str, cube: str, terms: list[str], vector: list[float], exact_max: int) -> None:
        params = {
            "user_id": owner,
            "cube_ids": [cube],
            "terms": terms,
            "vector": vector,
            "top_k": pool,
            "exact_max": exact_max,
            "k1": settings.bm25_k1,
            "b": settings.bm25_b,
            "max_cubes": 20,
            "filter": None,
        }
        driver.execute_query(text, params, database_=database)

    queries = sized_queries(count)
    samples: dict[str, list[float]] = {}
    vector_recall: list[float] = []
    final_recall: list[float] = []
    identical = 0
    for _, warm in queries[:10]:
        exact_service.search(owner, warm, [cubes[small]])
        index_service.search(owner, warm, [cubes[small]])
    for number, (_, question) in enumerate(queries):
        (vector,) = rt.embedder.embed([question])
        terms = query_terms(question)
        arms: list[tuple[str, Callable[[], object]]] = [
            (
                f"{small:,}: SearchService.search, exact scan (main's settings)",
                partial(exact_service.search, owner, question, [cubes[small]]),
            ),
            (
                f"{small:,}: SearchService.search, own index (exact scan <= {small - 1:,}, own index from {small:,})",
                partial(index_service.search, owner, question, [cubes[small]]),
            ),
            (
                f"{small:,}: own index round trip (top {first_request} asked)",
                partial(rt.memories.search_index, own[small] or "", cubes[small], vector, pool, first_request),
            ),
        ]
        for size, cube in cubes.items():
            for exact_max in sorted({settings.exact_scan_max_memories, small - 1}):
                for label, text in (("main", old_text), ("this", new_text)):
                    name = f"{size:,}: statement, both parts, exact_max {exact_max:,}, {label}"
                    arms.append((name, partial(statement, text, cube, terms, vector, exact_max)))
        shift = number % len(arms)
        for name, work in arms[shift:] + arms[:shift]:
            samples.setdefault(name, []).append(timed(work))
        exact_top = [m.id for m in rt.memories.search_exact(cubes[small], vector, 10)]
        index_top = [m.id for m in rt.memories.search_index(own[small] or "", cubes[small], vector, 10, first_request)]
        vector_recall.append(len(set(exact_top) & set(index_top)) / max(1, len(exact_top)))
        a = [m.id for m in exact_service.search(owner, question, [cubes[small]]).cubes[0].memories]
        b = [m.id for m in index_service.search(owner, question, [cubes[small]]).cubes[0].memories]
        final_recall.append(len(set(a) & set(b)) / max(1, len(a)))
        identical += a == b
        if (number + 1) % 25 == 0:
            log(f"{number + 1}/{len(queries)} queries")
    rows = {name: summary(values) for name, values in samples.items()}
    names = list(samples)
    ratio_pairs = [(names[1], names[0])]
    ratio_pairs += [(names[i + 1], names[i]) for i in range(3, len(names), 2)]
    ratios = {f"{a} / {b}": round(rows[a]["p50_ms"] / rows[b]["p50_ms"], 3) for a, b in ratio_pairs}
    return {
        "run": time.strftime("%Y-%m-%d %H:%M:%S"),
        "sizes": sizes,
        "queries": count,
        "pool": pool,
        "old_commit": old_commit,
        "stages": rows,
        "ratios_p50": ratios,
        "recall_at_10": {
            "own index vector top 10 vs exact scan, mean": round(sum(vector_recall) / len(vector_recall), 4),
            "own index vector top 10 vs exact scan, min": min(vector_recall),
            "final top 10, index setting vs exact setting, mean": round(sum(final_recall) / len(final_recall), 4),
            "final top 10, index setting vs exact setting, min": min(final_recall),
            "final top 10 identical (lists, in order)": f"{identical}/{count}",
        },
    }


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        "# vector ranking of a 1,000-memory cube: exact scan or its own index (issue 26)",
        "",
        f"Run {result['run']}; {result['queries']} queries (short and long alternating), top_k 10 (pool "
        f"{result['pool']}), cubes of {', '.join(f'{s:,}' for s in result['sizes'])} memories each with its own "
        f"vector index; every arm on every query in one loop, the arms' order rotating. 'main' is the statement "
        f"of {result['old_commit']}, 'this' the statement of this checkout. `bash bench/run.sh vector_path`.",
        "",
        "| arm | p50 ms | p95 ms |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {s['p50_ms']} | {s['p95_ms']} |" for name, s in result["stages"].items()]
    lines += ["", "| ratio of p50 (same run) | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in result["ratios_p50"].items()]
    lines += ["", "| recall@10 | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in result["recall_at_10"].items()]
    return lines


if __name__ == "__main__":
    main()

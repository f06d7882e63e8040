"""Where a search's milliseconds go: each stage of MOS.search timed on its own, side by side in one run.

    bash bench/run.sh stages [--cubes 20] [--per-cube 100] [--queries 150]

Runs on the Neo4j of NEO4J_URI, which must be empty (start one of its own: `env -u NEO4J_URI
NEO4J_BOLT_PORT=7706 NEO4J_HTTP_PORT=7506 bash bench/run.sh stages`); the benchmark's data is deleted at the
end. One USER owns `--cubes` cubes of `--per-cube` memories (generated sentences, embedded for real). For
each query: the query embedding, the caller lookup and the access check as the round trips they were
before they moved into the search statement, the first search step of one cube as two statements (exact
vector scan and BM25, search_small_cube and search_terms) and folded (search_cubes_hybrid: caller, access,
both rankings in one round trip), the same for five cubes at once, the fusion in Python, and MOS.search end
to end for one cube and for five (embedding, one statement, fusion). Results: bench/results/stages.md and .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import SUBJECTS, sentences
from memos_graph import MOS, MOSConfig, UserRole
from memos_graph.ranking.analyzer import query_terms

RESULTS = Path(__file__).resolve().parent / "results"


def summary(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cubes", type=int, default=20)
    parser.add_argument("--per-cube", type=int, default=100)
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()

    mos = MOS(MOSConfig.load(), apply_schema=True)
    store = mos.runtime.store
    used = "MATCH (n) WHERE n:MemCube OR n:Memory OR (n:User AND n.role <> 'root') RETURN count(n) > 0 AS used"
    if store.run_statement(used)[0]["used"]:
        sys.exit("bench_stages needs an empty Neo4j of its own (see the module docstring)")
    owner = mos.create_user("bench-stages", UserRole.USER)
    try:
        run(mos, owner, args)
    finally:
        mos.delete_user(owner)
        mos.close()


def run(mos: MOS, owner: str, args: argparse.Namespace) -> None:
    texts = sentences(args.cubes * args.per_cube)
    cubes = []
    began = time.perf_counter()
    for index in range(args.cubes):
        cube = mos.create_cube_for_user(f"stages {index}", owner_id=owner, cube_id=f"stages-{index}")
        for start in range(0, args.per_cube, 100):
            chunk = texts[index * args.per_cube + start : index * args.per_cube + min(start + 100, args.per_cube)]
            mos.add(memory_content=chunk, mem_cube_id=cube, user_id=owner)
        cubes.append(cube)
        print(f"[stages] cube {index + 1}/{args.cubes} loaded ({time.perf_counter() - began:.0f} s)", file=sys.stderr)

    rt, service, settings = mos.runtime, mos.searcher, mos.runtime.config.search
    rng = random.Random(3)
    queries = [
        f"What did {rng.choice(SUBJECTS)} do {rng.choice(['last summer', 'in Lyon', 'at dawn'])}?"
        for _ in range(args.queries)
    ]
    pool = service.pool_size(10)
    exact_max = settings.exact_scan_max_memories
    five = cubes[:5]
    stages: dict[str, list[float]] = {}

    def record(name: str, work: Callable[[], object]) -> None:
        stages.setdefault(name, []).append(timed(work))

    for warm in queries[:10]:  # warm caches, plans and the model
        mos.search(warm, user_id=owner, install_cube_ids=five)

    def measure(query: str, cube: str) -> None:
        terms = query_terms(query)
        record("query embedding", lambda: rt.embedder.embed([query]))
        (vector,) = rt.embedder.embed([query])
        actor = mos.cubes.actor(owner)
        record("caller lookup (users.get; now inside the search statement)", lambda: mos.cubes.actor(owner))
        record(
            "access check (readable, 1 cube; now inside the search statement)",
            lambda: mos.cubes.readable(actor, [cube]),
        )

        def two_statements(names: list[str]) -> None:
            for name in names:
                rt.memories.search_small_cube(owner, name, vector, pool, exact_max)
                rt.memories.search_terms(owner, name, terms, vector, pool, settings.bm25_k1, settings.bm25_b)

        def folded(names: list[str]) -> None:
            rt.memories.search_cubes_hybrid(
                owner, names, terms, vector, pool, exact_max, settings.bm25_k1, settings.bm25_b, 20
            )

        record("vector + BM25, 1 cube: two round trips (as before)", lambda: two_statements([cube]))
        record("vector + BM25, 1 cube: one round trip (now)", lambda: folded([cube]))
        record("vector + BM25, 5 cubes: ten round trips (as before)", lambda: two_statements(five))
        record("vector + BM25, 5 cubes: one round trip (now)", lambda: folded(five))
        found = rt.memories.search_cubes_hybrid(
            owner, [cube], terms, vector, pool, exact_max, settings.bm25_k1, settings.bm25_b, 20
        ).candidates
        record(
            "fusion and shaping in Python", lambda: service.search_hybrid(owner, cube, query, vector, 10, found[cube])
        )
        record("MOS.search end to end, 1 cube", lambda: mos.search(query, user_id=owner, install_cube_ids=[cube]))
        record("MOS.search end to end, 5 cubes", lambda: mos.search(query, user_id=owner, install_cube_ids=five))
        record("SearchService.search, 1 cube (no MOS deadline)", lambda: service.search(owner, query, [cube]))

    for query in queries:
        measure(query, rng.choice(cubes))

    result: dict[str, Any] = {
        "run": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "cubes": args.cubes,
        "per_cube": args.per_cube,
        "queries": args.queries,
        "embedder": type(rt.embedder).__name__,
        "stages": {name: summary(samples) for name, samples in stages.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stages.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# where a search's time goes",
        "",
        f"Run {result['run']} on {result['machine']}; {args.cubes} cubes x {args.per_cube} memories of one USER, "
        f"{args.queries} queries, top_k 10 (pool {pool}), embedder {result['embedder']}. Each stage is timed on "
        "its own, in the same loop, on the same query; MOS.search includes every stage (its neighbour "
        "expansion is skipped here: the memories are not from conversations). `bash bench/run.sh stages` on a "
        "Neo4j of its own.",
        "",
        "| stage | p50 ms | p95 ms |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {s['p50_ms']} | {s['p95_ms']} |" for name, s in result["stages"].items()]
    (RESULTS / "stages.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

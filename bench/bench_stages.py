"""Where a search's milliseconds go: each stage of MOS.search timed on its own, side by side in one run.

    bash bench/run.sh stages [--cubes 20] [--per-cube 100] [--queries 150] [--sizes 1000,10000]
                             [--size-queries 150]

Runs on the Neo4j of NEO4J_URI, which must be empty (start one of its own: `env -u NEO4J_URI
NEO4J_BOLT_PORT=7706 NEO4J_HTTP_PORT=7506 bash bench/run.sh stages`); the benchmark's data is deleted at the
end. One USER owns everything.

Part 1, many small cubes (`--cubes` x `--per-cube`, added through MOS.add; `--cubes 0` skips it): for each
query, the query embedding, the caller lookup and the access check as the round trips they were before they
moved into the search statement, the first search step of one cube as two statements and folded into
search_cubes_hybrid, the same for five cubes at once, the fusion in Python, and MOS.search end to end.

Part 2, one cube of each of `--sizes` (generated sentences of bench/corpus.py, embedded for real once and
cached in bench/cache/, written through the repository call MOS.add uses; a cube at
search.dedicated_index_min_memories gets its own vector index, as an add past that size would start): the
search statement split into its parts, each the same statement with the other parts switched off by its
parameters: neither ranking (caller, access, counts), the vector part alone (exact scan, for a cube within
search.exact_scan_max_memories), the BM25 part alone, both (the statement a search runs); for a larger cube
the vector-index round trip the search adds and the exact scan for reference; the statement's candidates made
items in Python (part of each statement row); the fusion, the question's boosts and pseudo-relevance feedback
on the statement's candidates, and feedback's own statement alone, beside the version before issue 26 read
postings from the candidates' side (FEEDBACK_BEFORE, read from git); SearchService.search and MOS.search end
to end. Queries
alternate between a short question ("What did Alice do last summer?") and a long one ("Tell me about when
<a generated sentence>"); every stage runs on the same query in the same loop, the sizes interleaved. Each
part is also run once under PROFILE per query form: its db hits and rows. Results: bench/results/stages.md
and .json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

from bench.corpus import SUBJECTS, pool_vectors, sentences
from memos_graph import MOS, MOSConfig, UserRole
from memos_graph.domain import TextualMemoryMetadata
from memos_graph.graph.memory_nodes import NewMemory, item_from_node
from memos_graph.graph.queries import query as cypher
from memos_graph.graph.search import CubeSearch
from memos_graph.ranking.analyzer import query_terms
from memos_graph.services.validation import content_hash

RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path(__file__).resolve().parent / "cache"
# The feedback statement before it read postings from the candidates' side (issue 26), timed beside it.
FEEDBACK_BEFORE = "bbd25e6"


def statement_at(commit: str, name: str) -> str | None:
    """cypher/queries/<name>.cypher as it was at the commit (None outside a git checkout that has it)."""
    done = subprocess.run(
        ["git", "-C", str(RESULTS.parent.parent), "show", f"{commit}:cypher/queries/{name}.cypher"],
        capture_output=True,
        text=True,
    )
    return done.stdout if done.returncode == 0 else None


def summary(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def log(message: str) -> None:
    print(f"[stages] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cubes", type=int, default=20)
    parser.add_argument("--per-cube", type=int, default=100)
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--sizes", default="1000,10000", help="one cube of each size (comma-separated; '' skips)")
    parser.add_argument("--size-queries", type=int, default=150)
    args = parser.parse_args()

    mos = MOS(MOSConfig.load(), apply_schema=True)
    store = mos.runtime.store
    used = "MATCH (n) WHERE n:MemCube OR n:Memory OR (n:User AND n.role <> 'root') RETURN count(n) > 0 AS used"
    if store.run_statement(used)[0]["used"]:
        sys.exit("bench_stages needs an empty Neo4j of its own (see the module docstring)")
    owner = mos.create_user("bench-stages", UserRole.USER)
    result: dict[str, Any] = {
        "run": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "embedder": type(mos.runtime.embedder).__name__,
    }
    try:
        if args.cubes > 0:
            result["small_cubes"] = run_small(mos, owner, args)
        sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
        if sizes:
            result["sized_cubes"] = run_sized(mos, owner, sizes, args.size_queries)
    finally:
        mos.delete_user(owner)
        mos.close()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stages.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = report(result, mos.searcher.pool_size(10))
    (RESULTS / "stages.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def run_small(mos: MOS, owner: str, args: argparse.Namespace) -> dict[str, Any]:
    """Part 1: many cubes of a few memories each (the reference of issue 19's one-statement search)."""
    texts = sentences(args.cubes * args.per_cube)
    cubes = []
    began = time.perf_counter()
    for index in range(args.cubes):
        cube = mos.create_cube_for_user(f"stages {index}", owner_id=owner, cube_id=f"stages-{index}")
        for start in range(0, args.per_cube, 100):
            chunk = texts[index * args.per_cube + start : index * args.per_cube + min(start + 100, args.per_cube)]
            mos.add(memory_content=chunk, mem_cube_id=cube, user_id=owner)
        cubes.append(cube)
        log(f"cube {index + 1}/{args.cubes} loaded ({time.perf_counter() - began:.0f} s)")

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
                rt.search.search_small_cube(owner, name, vector, pool, exact_max)
                rt.search.search_terms(owner, name, terms, vector, pool, settings.bm25_k1, settings.bm25_b)

        def folded(names: list[str]) -> None:
            rt.search.search_cubes_hybrid(
                CubeSearch(owner, names, terms, vector, pool, exact_max, settings.bm25_k1, settings.bm25_b, 20)
            )

        record("vector + BM25, 1 cube: two round trips (as before)", lambda: two_statements([cube]))
        record("vector + BM25, 1 cube: one round trip (now)", lambda: folded([cube]))
        record("vector + BM25, 5 cubes: ten round trips (as before)", lambda: two_statements(five))
        record("vector + BM25, 5 cubes: one round trip (now)", lambda: folded(five))
        found = rt.search.search_cubes_hybrid(
            CubeSearch(owner, [cube], terms, vector, pool, exact_max, settings.bm25_k1, settings.bm25_b, 20)
        ).candidates
        record(
            "fusion and shaping in Python", lambda: service.search_hybrid(owner, cube, query, vector, 10, found[cube])
        )
        record("MOS.search end to end, 1 cube", lambda: mos.search(query, user_id=owner, install_cube_ids=[cube]))
        record("MOS.search end to end, 5 cubes", lambda: mos.search(query, user_id=owner, install_cube_ids=five))
        record("SearchService.search, 1 cube (no MOS deadline)", lambda: service.search(owner, query, [cube]))

    for query in queries:
        measure(query, rng.choice(cubes))
    return {
        "cubes": args.cubes,
        "per_cube": args.per_cube,
        "queries": args.queries,
        "stages": {name: summary(samples) for name, samples in stages.items()},
    }


def load_cube(mos: MOS, owner: str, cube_id: str, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
    """Write memories with their vectors through the repository call (and Cypher) MOS.add uses, postings
    included."""

    def no_guard(_: object) -> None:
        return None

    for offset in range(0, len(texts), 500):
        now = dt.datetime.now(dt.UTC)
        rows = [
            NewMemory(
                memory_id=str(uuid.uuid4()),
                content_hash=content_hash(text),
                memory=text,
                metadata=TextualMemoryMetadata(source="system", memory_type="LongTermMemory"),
                user_id=owner,
                created_at=now + dt.timedelta(microseconds=i),
                embedding=[float(x) for x in vector],
            )
            for i, (text, vector) in enumerate(
                zip(texts[offset : offset + 500], vectors[offset : offset + 500], strict=True)
            )
        ]
        mos.runtime.memories.add(cube_id, rows, no_guard)
    log(f"{cube_id}: {len(texts)} memories")


def sized_queries(count: int) -> list[tuple[str, str]]:
    """(form, question): short and long questions alternating, about the corpus's subjects and sentences."""
    rng = random.Random(11)
    long = sentences(count, seed=99)
    out = []
    for index in range(count):
        if index % 2 == 0:
            when = rng.choice(["last summer", "in Lyon", "at dawn", "two weeks ago", "at the museum"])
            out.append(("short", f"What did {rng.choice(SUBJECTS)} do {when}?"))
        else:
            out.append(("long", f"Tell me about when {long[index].rstrip('.')}"))
    return out


def plan_totals(plan: Any) -> dict[str, Any]:
    """A PROFILE plan's db hits summed over its operators, its rows out, and the three costliest operators."""
    operators: list[tuple[str, int, int]] = []

    def walk(node: Any) -> None:
        operators.append((str(node.get("operatorType", "?")), int(node.get("dbHits", 0)), int(node.get("rows", 0))))
        for child in node.get("children", []):
            walk(child)

    walk(plan)
    costliest = sorted(operators, key=lambda op: -op[1])[:3]
    return {
        "db_hits": sum(op[1] for op in operators),
        "rows_out": int(plan.get("rows", 0)),
        "costliest": [
            {"operator": name.split("@")[0], "db_hits": hits, "rows": rows} for name, hits, rows in costliest
        ],
    }


def profiled(mos: MOS, params: dict[str, Any]) -> dict[str, Any]:
    """search_cubes_hybrid under PROFILE with these parameters."""
    store = mos.runtime.store
    text = "PROFILE " + cypher("search_cubes_hybrid", (("memory_filter", "off"),))
    with store.driver.session(database=store.database) as session:
        summary_ = session.run(text, params).consume()
    return plan_totals(summary_.profile)


def run_sized(mos: MOS, owner: str, sizes: Sequence[int], count: int) -> dict[str, Any]:
    """Part 2: one cube of each size, the search statement split into its parts."""
    rt, service, settings = mos.runtime, mos.searcher, mos.runtime.config.search
    texts = sentences(sum(sizes), seed=23)
    log(f"embedding {len(texts)} texts (cached in {CACHE})")
    vectors = pool_vectors(rt.embedder, texts, CACHE)
    cubes: dict[int, str] = {}
    start = 0
    for size in sizes:
        cube = mos.create_cube_for_user(f"stages {size}", owner_id=owner, cube_id=f"stages-size-{size}")
        load_cube(mos, owner, cube, texts[start : start + size], vectors[start : start + size].tolist())
        start += size
        cubes[size] = cube
    rt.store.run_slow_statement("CALL db.awaitIndexes(600)", 630, {})
    own_index: dict[int, str | None] = {}
    for size, cube in cubes.items():
        threshold = settings.dedicated_index_min_memories
        own_index[size] = rt.cube_indexes.promote(cube) if threshold is not None and size >= threshold else None
        if own_index[size]:
            log(f"{cube}: own vector index {own_index[size]}")

    pool = service.pool_size(10)
    exact_max = settings.exact_scan_max_memories
    k1, b = settings.bm25_k1, settings.bm25_b
    queries = sized_queries(count)
    stages: dict[int, dict[str, list[float]]] = {size: {} for size in sizes}
    embedding: list[float] = []

    own = math.ceil(pool * settings.overfetch_factor)  # a large cube's own index's first request

    def hybrid(cube: str, terms: list[str], vector: list[float], exact: int, own_candidates: int = 0) -> Any:
        request = CubeSearch(owner, [cube], terms, vector, pool, exact, k1, b, 20, own_candidates=own_candidates)
        return rt.search.search_cubes_hybrid(request)

    def raw_rows(cube: str, terms: list[str], vector: list[float]) -> list[Any]:
        params = {
            "user_id": owner,
            "cube_ids": [cube],
            "terms": terms,
            "vector": vector,
            "top_k": pool,
            "exact_max": exact_max,
            "k1": k1,
            "b": b,
            "max_cubes": 20,
            "filter": None,
            "own_candidates": own,
        }
        return rt.store.read_chosen("search_cubes_hybrid", (("memory_filter", "off"),), params)

    def converted(rows: list[Any]) -> int:
        hits = [hit for row in rows for key in ("hits", "index_hits") for hit in row[key]]
        return len([item_from_node(hit["memory"], float(hit["score"])) for hit in hits]) + len(
            [item_from_node(hit["memory"], float(hit["similarity"])) for row in rows for hit in row["text_hits"]]
        )

    before = statement_at(FEEDBACK_BEFORE, "memory_feedback")
    if before is None:
        log(f"no git history with {FEEDBACK_BEFORE}: the feedback statement's reference row is left out")

    for _, warm in queries[:10]:
        for cube in cubes.values():
            mos.search(warm, user_id=owner, install_cube_ids=[cube])

    def measure(size: int, cube_id: str, query: str, vector: list[float], terms: list[str]) -> None:
        rows = stages[size]

        def record(name: str, work: Callable[[], object]) -> None:
            rows.setdefault(name, []).append(timed(work))

        record("statement, no ranking (caller, access, counts)", lambda: hybrid(cube_id, [], vector, -1))
        if size <= exact_max:
            record("statement, vector part alone (exact scan)", lambda: hybrid(cube_id, [], vector, exact_max))
        record("statement, BM25 part alone", lambda: hybrid(cube_id, terms, vector, -1))
        record(
            "statement, both parts (as searched; a large cube's own index asked inside)",
            lambda: hybrid(cube_id, terms, vector, exact_max, own),
        )
        found = hybrid(cube_id, terms, vector, exact_max, own).candidates[cube_id]
        if size > exact_max:
            record("exact scan, search_exact (reference)", lambda: rt.search.search_exact(cube_id, vector, pool))
            record(
                "own vector index alone, in a round trip of its own (reference)",
                lambda: rt.search.nearest(cube_id, vector, pool, own, found.own_index),
            )
        given = found
        statement_rows = raw_rows(cube_id, terms, vector)
        record(
            "the statement's candidates made items in Python (inside the rows above)", lambda: converted(statement_rows)
        )
        with mock.patch.object(rt.search, "feedback_scores", wraps=rt.search.feedback_scores) as spy:
            record(
                "fusion, boosts and feedback (candidates given; feedback's statement included)",
                lambda: service.search_hybrid(owner, cube_id, query, vector, 10, given),
            )
        if spy.call_args is not None:
            args = spy.call_args.args
            record(
                "feedback's statement (memory_feedback: candidates' postings)",
                lambda: rt.search.feedback_scores(*args),
            )
            if before is not None:
                params = {
                    "cube_id": args[0],
                    "memory_ids": list(args[1]),
                    "terms": [{"term": term, "weight": weight} for term, weight in args[2].items()],
                    "expansion_terms": args[3],
                    "k1": args[4],
                    "b": args[5],
                }
                record(
                    f"feedback's statement as of {FEEDBACK_BEFORE} (terms' postings; reference)",
                    lambda: rt.store.driver.execute_query(before, params, database_=rt.store.database),
                )
        record("SearchService.search end to end", lambda: service.search(owner, query, [cube_id]))
        record("MOS.search end to end", lambda: mos.search(query, user_id=owner, install_cube_ids=[cube_id]))

    for number, (_, query) in enumerate(queries):
        embedding.append(timed(partial(rt.embedder.embed, [query])))
        (vector,) = rt.embedder.embed([query])
        order = list(cubes.items())
        if number % 2:
            order.reverse()
        for size, cube in order:
            measure(size, cube, query, vector, query_terms(query))
        if (number + 1) % 25 == 0:
            log(f"{number + 1}/{len(queries)} queries")

    profiles: dict[int, dict[str, dict[str, Any]]] = {}
    for size, cube in cubes.items():
        profiles[size] = {}
        for form in ("short", "long"):
            query = next(text for kind, text in queries if kind == form)
            (vector,) = rt.embedder.embed([query])
            base = {
                "user_id": owner,
                "cube_ids": [cube],
                "vector": vector,
                "top_k": pool,
                "k1": k1,
                "b": b,
                "max_cubes": 20,
                "filter": None,
            }
            terms = query_terms(query)
            # As the timed rows: only "both parts" (the statement as searched) asks a large cube's own index.
            parts = {
                "no ranking": ([], -1, 0),
                "BM25 part alone": (terms, -1, 0),
                "both parts": (terms, exact_max, own),
            }
            if size <= exact_max:
                parts["vector part alone"] = ([], exact_max, 0)
            profiles[size][form] = {
                name: {"query": query, **profiled(mos, {**base, "terms": t, "exact_max": e, "own_candidates": o})}
                for name, (t, e, o) in parts.items()
            }
    return {
        "sizes": list(sizes),
        "queries": count,
        "pool": pool,
        "exact_scan_max_memories": exact_max,
        "own_index": {str(size): name for size, name in own_index.items()},
        "query_embedding": summary(embedding),
        "stages": {
            str(size): {name: summary(samples) for name, samples in rows.items()} for size, rows in stages.items()
        },
        "profiles": {str(size): forms for size, forms in profiles.items()},
    }


def report(result: dict[str, Any], pool: int) -> list[str]:
    lines = [
        "# where a search's time goes",
        "",
        f"Run {result['run']} on {result['machine']}, embedder {result['embedder']}; top_k 10 (pool {pool}). Each "
        "stage is timed on its own, in the same loop, on the same query. `bash bench/run.sh stages` on a Neo4j "
        "of its own.",
    ]
    sized = result.get("sized_cubes")
    if sized:
        sizes = sized["sizes"]
        lines += [
            "",
            f"## One cube of {' and of '.join(f'{s:,}' for s in sizes)} memories (the reference of issue 26)",
            "",
            f"Generated sentences (bench/corpus.py), each with its real embedding, written through the call MOS.add "
            f"uses; {sized['queries']} queries alternating a short question and a long one; the sizes interleaved "
            f"query by query. The statement's parts are search_cubes_hybrid with the other parts switched off by "
            f"its parameters (no query terms: no BM25; exact_max -1: no vector scan). Exact scan up to "
            f"{sized['exact_scan_max_memories']:,} memories; own vector index: "
            + ", ".join(f"{s}: {name or 'none'}" for s, name in sized["own_index"].items())
            + ". Fusion is timed on the statement's candidates (a larger cube's index hits given).",
            "",
            "| stage | " + " | ".join(f"{s:,}: p50 ms | {s:,}: p95 ms" for s in sizes) + " |",
            "|---|" + "---:|---:|" * len(sizes),
        ]
        embed = sized["query_embedding"]
        lines.append(
            "| query embedding | " + " | ".join(f"{embed['p50_ms']} | {embed['p95_ms']}" for _ in sizes) + " |"
        )
        names: list[str] = []
        for size in sizes:
            names += [name for name in sized["stages"][str(size)] if name not in names]
        for name in names:
            cells = []
            for size in sizes:
                row = sized["stages"][str(size)].get(name)
                cells.append(f"{row['p50_ms']} | {row['p95_ms']}" if row else "- | -")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "### PROFILE of the statement's parts (one query of each form; db hits summed over the plan)",
            "",
            "| cube | query | part | db hits | rows out | costliest operators (db hits / rows) |",
            "|---:|---|---|---:|---:|---|",
        ]
        for size in sizes:
            for form, parts in sized["profiles"][str(size)].items():
                for part, p in parts.items():
                    costliest = "; ".join(f"{op['operator']} {op['db_hits']}/{op['rows']}" for op in p["costliest"])
                    lines.append(f"| {size:,} | {form} | {part} | {p['db_hits']} | {p['rows_out']} | {costliest} |")
        lines += [
            "",
            "Queries profiled: "
            + "; ".join(
                f'{form}: "{parts["both parts"]["query"]}"' for form, parts in sized["profiles"][str(sizes[0])].items()
            ),
        ]
    small = result.get("small_cubes")
    if small:
        lines += [
            "",
            f"## {small['cubes']} cubes x {small['per_cube']} memories (the reference of issue 19's one-statement "
            "search)",
            "",
            f"Added through MOS.add; {small['queries']} short queries; MOS.search includes every stage (its "
            "neighbour expansion is skipped here: the memories are not from conversations). The 'as before' rows "
            "time the statements a search ran before issue 19 folded them.",
            "",
            "| stage | p50 ms | p95 ms |",
            "|---|---:|---:|",
        ]
        lines += [f"| {name} | {s['p50_ms']} | {s['p95_ms']} |" for name, s in small["stages"].items()]
    return lines


if __name__ == "__main__":
    main()

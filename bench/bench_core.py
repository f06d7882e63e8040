"""Foundation benchmark: add throughput vs the raw embedder, search latency and recall at 10k and 100k.

    python -m bench.bench_core [--sizes 10000 100000] [--cubes 100] [--per-other-cube 1000]
    python -m bench.bench_core --baseline CHECKOUT [--rounds 4] [--sizes 10000] [--cubes 10] [--queries 100]

Writes bench/results/core.json and bench/results/core.md. Needs NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD (the
scripts set them; `bash bench/run.sh core` does everything). Ratios are measured side by side in one run,
since this machine's speed varies from minute to minute. With --baseline (a checkout of earlier code),
MOS.add and MOS.search of this code and of that checkout's alternate on one seeded graph instead
(bench/baseline.py), written to bench/results/core-baseline.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from bench import baseline
from bench.corpus import noisy_vectors, pool_vectors, sentences
from bench.stats import summary_ms, timed
from memos_graph import MOS, MOSConfig, UserRole
from memos_graph.config import SearchSettings
from memos_graph.domain import TextualMemoryMetadata
from memos_graph.graph.memory_nodes import NewMemory
from memos_graph.graph.schema import rebuild_search_indexes
from memos_graph.graph.search import SearchIndexes
from memos_graph.ranking.analyzer import query_terms
from memos_graph.services.runtime import Runtime
from memos_graph.services.search import SearchService
from memos_graph.services.validation import content_hash

T = TypeVar("T")
RESULTS = Path(__file__).resolve().parent / "results"
CACHE = Path(__file__).resolve().parent / "cache"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- add throughput ---------------------------------------------------------------------------------


def bench_add(mos: MOS, owner: str, count: int, batch: int, repeats: int) -> dict[str, Any]:
    """MOS.add of `count` new texts in batches vs embedder.embed of the same texts, interleaved."""
    cube = mos.create_cube_for_user("bench add", owner_id=owner)
    embedder = mos.runtime.embedder
    all_texts = sentences(count * repeats + 100, seed=11)
    embedder.embed(all_texts[:64])  # warm up the model
    mos.add(memory_content=all_texts[count * repeats :], mem_cube_id=cube, user_id=owner)  # warm up the path
    raw_times, add_times = [], []
    for rep in range(repeats):
        texts = all_texts[rep * count : (rep + 1) * count]
        batches = [texts[i : i + batch] for i in range(0, count, batch)]

        def embed_all(batches: list[list[str]] = batches) -> list[list[list[float]]]:
            return [embedder.embed(b) for b in batches]

        def add_all(batches: list[list[str]] = batches) -> list[list[str]]:
            return [mos.add(memory_content=b, mem_cube_id=cube, user_id=owner) for b in batches]

        raw_elapsed, _ = timed(embed_all)
        add_elapsed, ids = timed(add_all)
        stored = sum(len(chunk) for chunk in ids)
        if stored != count:
            raise RuntimeError(f"add stored {stored} of {count}")
        raw_times.append(raw_elapsed)
        add_times.append(add_elapsed)
        log(f"add rep {rep}: embed {count / raw_elapsed:.0f}/s, add {count / add_elapsed:.0f}/s")
    raw_tps = count / statistics.median(raw_times)
    add_tps = count / statistics.median(add_times)
    return {
        "texts": count,
        "batch": batch,
        "repeats": repeats,
        "raw_embed_per_s": round(raw_tps, 1),
        "add_per_s": round(add_tps, 1),
        "ratio_add_to_embed": round(add_tps / raw_tps, 3),
        "target_ratio": 0.8,
    }


# -- search -----------------------------------------------------------------------------------------


def load_cube(
    rt: Runtime,
    cube_id: str,
    owner: str,
    texts: Sequence[str],
    vectors: npt.NDArray[np.float32],
    start: int,
    batch: int = 5_000,
) -> None:
    """Write memories with precomputed vectors through the same repository path (and Cypher) add uses."""
    import datetime as dt

    def no_guard(_: object) -> None:
        return None

    for offset in range(0, len(texts), batch):
        now = dt.datetime.now(dt.UTC)
        rows = [
            NewMemory(
                memory_id=str(uuid.uuid4()),
                content_hash=content_hash(text),
                memory=text,
                metadata=TextualMemoryMetadata(source="system", memory_type="LongTermMemory"),
                user_id=owner,
                created_at=now + dt.timedelta(microseconds=i),
                embedding=vector.tolist(),
            )
            for i, (text, vector) in enumerate(
                zip(texts[offset : offset + batch], vectors[offset : offset + batch], strict=True)
            )
        ]
        rt.memories.add(cube_id, rows, no_guard)
        log(f"  {cube_id}: {start + offset + len(rows)} memories")


def recall(found: Sequence[str], exact: Sequence[str]) -> float:
    return len(set(found) & set(exact)) / max(1, len(exact))


def index_sweep(
    mos: MOS,
    target: str,
    vectors: Sequence[list[float]],
    top_k: int,
    floors: Sequence[int],
    exact_ids: Sequence[list[str]],
) -> list[dict[str, Any]]:
    """Index-path latency and recall for several candidate floors (min_candidates), same queries."""
    rt = mos.runtime
    rows = []
    for floor in floors:
        settings = SearchSettings(exact_scan_max_memories=0, min_candidates=floor, dedicated_index_min_memories=None)
        config = rt.config.model_copy(update={"search": settings})
        service = SearchService(config, rt.embedder, SearchIndexes(rt.store, config), mos.cubes)
        times, recalls = [], []
        for vector, exact in zip(vectors, exact_ids, strict=True):
            elapsed, found = timed(partial(service.search_cube, mos.user_id, target, vector, top_k))
            times.append(elapsed)
            recalls.append(recall([m.id for m in found], exact))
        rows.append({"min_candidates": floor, **summary_ms(times), "recall": round(statistics.fmean(recalls), 4)})
        log(f"  sweep min_candidates={floor}: {rows[-1]}")
    return rows


def bench_search_at(
    mos: MOS,
    owner: str,
    target: str,
    queries: Sequence[str],
    top_k: int,
    index_settings: SearchSettings,
    floors: Sequence[int],
) -> dict[str, Any]:
    rt = mos.runtime
    default_service = mos.searcher  # the target's own vector index once it has one (graph/cube_index.py)

    def service_with(settings: SearchSettings) -> SearchService:
        config = rt.config.model_copy(update={"search": settings})
        return SearchService(config, rt.embedder, SearchIndexes(rt.store, config), mos.cubes)

    index_service = service_with(index_settings)
    shared_service = service_with(rt.config.search.model_copy(update={"dedicated_index_min_memories": None}))
    vectors = []
    embed_times = []
    for query in queries:
        elapsed, (vector,) = timed(partial(rt.embedder.embed, [query]))
        embed_times.append(elapsed)
        vectors.append(vector)
    timings: dict[str, list[float]] = {
        "exact": [],
        "index": [],
        "service": [],
        "shared": [],
        "bm25": [],
        "hybrid": [],
        "mos_search": [],
    }
    search = rt.config.search
    pool = default_service.pool_size(top_k)
    recalls: dict[str, list[float]] = {"index": [], "service": [], "shared": []}
    exact_by_query: list[list[str]] = []
    for query, vector in zip(queries, vectors, strict=True):
        # One round per query, the variants side by side so drift in machine speed hits all alike.
        t_exact, exact = timed(partial(rt.search.search_exact, target, vector, top_k))
        t_index, via_index = timed(partial(index_service.search_cube, owner, target, vector, top_k))
        t_service, via_service = timed(partial(default_service.search_cube, owner, target, vector, top_k))
        t_shared, via_shared = timed(partial(shared_service.search_cube, owner, target, vector, top_k))
        t_bm25, _ = timed(
            partial(
                rt.search.search_terms, owner, target, query_terms(query), vector, pool, search.bm25_k1, search.bm25_b
            )
        )
        t_hybrid, _ = timed(partial(default_service.search_hybrid, owner, target, query, vector, top_k))
        t_mos, _ = timed(partial(mos.search, query, user_id=owner, install_cube_ids=[target], top_k=top_k))
        exact_ids = [m.id for m in exact]
        exact_by_query.append(exact_ids)
        recalls["index"].append(recall([m.id for m in via_index], exact_ids))
        recalls["service"].append(recall([m.id for m in via_service], exact_ids))
        recalls["shared"].append(recall([m.id for m in via_shared], exact_ids))
        for name, value in (
            ("exact", t_exact),
            ("index", t_index),
            ("service", t_service),
            ("shared", t_shared),
            ("bm25", t_bm25),
            ("hybrid", t_hybrid),
            ("mos_search", t_mos),
        ):
            timings[name].append(value)
    return {
        "index_candidate_sweep": index_sweep(mos, target, vectors, top_k, floors, exact_by_query),
        "query_embedding": summary_ms(embed_times),
        "exact_scan": summary_ms(timings["exact"]),
        "vector_index_with_overfetch": summary_ms(timings["index"]),
        "service_default_path": summary_ms(timings["service"]),
        "default_path_shared_index": summary_ms(timings["shared"]),
        "bm25_per_cube": summary_ms(timings["bm25"]),
        "hybrid_without_embedding": summary_ms(timings["hybrid"]),
        "mos_search_end_to_end": summary_ms(timings["mos_search"]),
        "recall_at_k_index_vs_exact": round(statistics.fmean(recalls["index"]), 4),
        "recall_at_k_default_vs_exact": round(statistics.fmean(recalls["service"]), 4),
        "recall_at_k_shared_default_vs_exact": round(statistics.fmean(recalls["shared"]), 4),
        "top_k": top_k,
        "queries": len(queries),
    }


def seed_other_cubes(
    mos: MOS, owner: str, target_size: int, others: int, per_other: int
) -> tuple[list[str], npt.NDArray[np.float32]]:
    """Load `others` cubes of `per_other` memories; return the texts and vectors, the target's first."""
    total_texts = target_size + others * per_other
    texts = sentences(total_texts, seed=23)
    pool = pool_vectors(mos.runtime.embedder, sentences(20_000, seed=23), CACHE)
    vectors = noisy_vectors(pool, total_texts, seed=5)
    log(f"loading {others} cubes x {per_other} memories")
    for index in range(others):
        cube = mos.create_cube_for_user(f"bench other {index}", owner_id=owner)
        start = target_size + index * per_other
        load_cube(mos.runtime, cube, owner, texts[start : start + per_other], vectors[start : start + per_other], 0)
    return texts, vectors


def search_queries(count: int, seed: int = 99) -> list[str]:
    """Questions about generated sentences, phrased unlike the memories (no text matches exactly)."""
    return [f"Tell me about when {s.rstrip('.')}" for s in sentences(count, seed=seed)]


def settle_target(rt: Runtime, target: str, size: int) -> float | None:
    """Wait for the indexes to be online; build the target's own vector index when it is large enough (what
    an add past the size starts in the background) and return how long that took."""
    rt.store.run_slow_statement("CALL db.awaitIndexes(600)", 630, {})
    threshold = rt.config.search.dedicated_index_min_memories
    if threshold is None or size < threshold:
        return None
    own_index_s, _ = timed(partial(rt.cube_indexes.promote, target))
    log(f"the target's own vector index built in {own_index_s:.1f} s")
    return own_index_s


def bench_search(
    mos: MOS,
    owner: str,
    sizes: Sequence[int],
    cubes: int,
    per_other: int,
    queries: int,
    top_k: int,
    floors: Sequence[int],
    on_result: Callable[[list[dict[str, Any]]], None],
) -> list[dict[str, Any]]:
    rt = mos.runtime
    biggest = max(sizes)
    texts, vectors = seed_other_cubes(mos, owner, biggest, cubes - 1, per_other)
    target = mos.create_cube_for_user("bench target", owner_id=owner)
    query_texts = search_queries(queries)
    index_settings = SearchSettings(exact_scan_max_memories=0, dedicated_index_min_memories=None)
    results = []
    loaded = 0
    for size in sorted(sizes):
        load_cube(rt, target, owner, texts[loaded:size], vectors[loaded:size], loaded)
        loaded = size
        own_index_s = settle_target(rt, target, size)
        cube_size, total = rt.cubes.size(target)
        for state in ("as written", "after index rebuild"):
            if state == "after index rebuild":
                elapsed, _ = timed(
                    partial(rebuild_search_indexes, rt.store, rt.embedder.dimension, rt.config.search.fulltext_analyzer)
                )
                log(f"rebuilt the search indexes in {elapsed:.1f} s")
            log(f"searching ({state}): target {cube_size} of {total} memories")
            entry = {
                "target_cube_memories": cube_size,
                "total_memories": total,
                "cubes": cubes,
                "index": state,
                "own_index_build_s": None if own_index_s is None else round(own_index_s, 1),
            }
            entry.update(bench_search_at(mos, owner, target, query_texts, top_k, index_settings, floors))
            results.append(entry)
            on_result(results)
            log(json.dumps(entry))
    return results


# -- same run against a baseline checkout -----------------------------------------------------------


def bench_against_baseline(mos: MOS, owner: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed one target cube among the others once, then alternate this code's and the baseline's phases
    (bench/baseline.py): MOS.add of the same texts into a fresh cube each, MOS.search on the target."""
    rt = mos.runtime
    codes = baseline.both_codes(args.baseline)
    size = max(args.sizes)
    texts, vectors = seed_other_cubes(mos, owner, size, args.cubes - 1, args.per_other_cube)
    target = mos.create_cube_for_user("bench target", owner_id=owner)
    load_cube(rt, target, owner, texts[:size], vectors[:size], 0)
    settle_target(rt, target, size)
    queries = search_queries(args.queries)
    exact = [[m.id for m in rt.search.search_exact(target, v, args.top_k)] for v in rt.embedder.embed(queries)]
    add_texts = sentences(args.add_texts + 100, seed=11)
    answers: dict[str, list[list[list[str]]]] = {"this": [], "baseline": []}
    imported: dict[str, dict[str, str]] = {}

    def measure(code: baseline.Code, number: int) -> baseline.Samples:
        spec = {
            "owner": owner,
            "add_cube": mos.create_cube_for_user(f"bench add {code.name} {number}", owner_id=owner),
            "search_cube": target,
            "top_k": args.top_k,
            "queries": queries,
            "add_texts": add_texts[: args.add_texts],
            "warm_texts": add_texts[args.add_texts :],
            "batch": args.add_batch,
        }
        result = baseline.run_phase(code, "core", spec)
        imported[code.name] = result["modules"]
        answers[code.name].append(result["ids"]["mos_search"])
        samples: baseline.Samples = result["samples"]
        return samples

    rounds = baseline.alternate(args.rounds, codes, measure, log)
    recalls = {
        name: round(
            statistics.fmean(recall(ids, best) for one in runs for ids, best in zip(one, exact, strict=True)), 4
        )
        for name, runs in answers.items()
    }
    pairs = zip(answers["this"], answers["baseline"], strict=True)
    same = [a == b for this, base in pairs for a, b in zip(this, base, strict=True)]
    return {
        "codes": baseline.describe(codes, imported),
        "rounds": args.rounds,
        "target_cube_memories": size,
        "total_memories": size + (args.cubes - 1) * args.per_other_cube,
        "cubes": args.cubes,
        "queries": args.queries,
        "top_k": args.top_k,
        "add": {
            "texts": args.add_texts,
            "batch": args.add_batch,
            **baseline.rates(rounds, "add_batch", args.add_texts),
        },
        "latency": baseline.compare(rounds),
        "recall_at_k_vs_exact": recalls,
        "identical_top_k_share": round(sum(same) / len(same), 4),
        "samples": rounds,
    }


def write_baseline_results(payload: dict[str, Any], name: str) -> None:
    """core-baseline.json with every sample, core-baseline.md with the ratio tables."""
    add = payload["add"]
    lines = [
        f"# {name}: this code against a baseline, same run",
        "",
        f"Run {payload['started']} on {payload['machine']}. One target cube of {payload['target_cube_memories']} "
        f"memories among {payload['cubes']} cubes ({payload['total_memories']} memories), seeded once by this "
        f"code; {payload['queries']} queries, top_k={payload['top_k']}.",
        "",
        *baseline.header(payload["codes"], payload["rounds"]),
        f"## MOS.add: {add['texts']} texts in batches of {add['batch']}, each code into a fresh cube of its own",
        "",
        *baseline.rate_table(add, "memories/s"),
        "",
        "## Latency (ms): one MOS.add batch, MOS.search end to end on the target cube",
        "",
        *baseline.markdown_table(
            payload["latency"], {"add_batch": f"MOS.add of {add['batch']}", "mos_search": "MOS.search"}
        ),
        "",
        f"MOS.search (hybrid: vector and BM25 fused) top {payload['top_k']} against an exact vector scan's, "
        f"recall: this {payload['recall_at_k_vs_exact']['this']}, "
        f"baseline {payload['recall_at_k_vs_exact']['baseline']}; identical top {payload['top_k']} in "
        f"{payload['identical_top_k_share']:.1%} of the query-rounds.",
    ]
    baseline.write_results(name, payload, lines)


def cleanup(rt: Runtime, owner: str) -> None:
    """Delete the benchmark's user, cubes, memories and message nodes in batches (maintenance, not a service
    operation)."""
    rt.store.run_autocommit(
        "MATCH (:User {id: $owner})-[:OWNS]->(c:MemCube)-[:HAS_MEMORY]->(m:Memory) "
        "CALL (m) { DETACH DELETE m } IN TRANSACTIONS OF 10000 ROWS",
        timeout_s=3600,
        owner=owner,
    )
    rt.store.run_autocommit(
        "MATCH (:User {id: $owner})-[:OWNS]->(c:MemCube) MATCH (msg:Message {cube_id: c.id}) "
        "CALL (msg) { DETACH DELETE msg } IN TRANSACTIONS OF 10000 ROWS",
        timeout_s=3600,
        owner=owner,
    )
    rt.store.run_statement(
        "MATCH (u:User {id: $owner}) OPTIONAL MATCH (u)-[:OWNS]->(c:MemCube) OPTIONAL MATCH (u)-[:HAS_TURN]->(t) "
        "DETACH DELETE c, t, u",
        owner=owner,
    )


def write_results(payload: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [f"# {name} benchmark", "", f"Run {payload['started']} on {payload['machine']}.", ""]
    add = payload.get("add")
    if add:
        lines += [
            "## add throughput (MOS.add in batches vs the raw embedder, same texts, same run)",
            "",
            "| texts | batch | embedder/s | add/s | ratio | target |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {add['texts']} | {add['batch']} | {add['raw_embed_per_s']} | {add['add_per_s']} | "
            f"{add['ratio_add_to_embed']} | >= {add['target_ratio']} |",
            "",
        ]
    rows = payload.get("search", [])
    if rows:
        lines += [
            "## search, one target cube among the others (top_k=10; ms)",
            "",
            "| target / total | vector index | query embed p50 | exact p50/p95 | shared index forced p50/p95 | "
            "default path, shared index p50/p95 | default path, own index p50/p95 | BM25 (per-cube) p50/p95 | "
            "hybrid w/o embed p50/p95 | MOS.search p50/p95 | recall shared forced | recall default shared | "
            "recall default own |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:

            def pair(key: str, r: dict[str, Any] = r) -> str:
                return f"{r[key]['p50_ms']} / {r[key]['p95_ms']}"

            lines.append(
                f"| {r['target_cube_memories']} / {r['total_memories']} | {r['index']} | "
                f"{r['query_embedding']['p50_ms']} | "
                f"{pair('exact_scan')} | {pair('vector_index_with_overfetch')} | "
                f"{pair('default_path_shared_index') if 'default_path_shared_index' in r else '-'} | "
                f"{pair('service_default_path')} | "
                f"{pair('bm25_per_cube') if 'bm25_per_cube' in r else '-'} | "
                f"{pair('hybrid_without_embedding') if 'hybrid_without_embedding' in r else '-'} | "
                f"{pair('mos_search_end_to_end')} | {r['recall_at_k_index_vs_exact']} | "
                f"{r.get('recall_at_k_shared_default_vs_exact', '-')} | {r['recall_at_k_default_vs_exact']} |"
            )
        lines += [
            "",
            "## vector-index path by candidate floor (min_candidates), same queries",
            "",
            "| target / total | vector index | min_candidates | p50 ms | p95 ms | recall@k vs exact |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for r in rows:
            for sweep in r.get("index_candidate_sweep", []):
                lines.append(
                    f"| {r['target_cube_memories']} / {r['total_memories']} | {r['index']} | "
                    f"{sweep['min_candidates']} | "
                    f"{sweep['p50_ms']} | {sweep['p95_ms']} | {sweep['recall']} |"
                )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--cubes", type=int, default=100)
    parser.add_argument("--per-other-cube", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--add-texts", type=int, default=2_000)
    parser.add_argument("--add-batch", type=int, default=200)
    parser.add_argument("--add-repeats", type=int, default=3)
    parser.add_argument("--candidate-floors", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--skip-add", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark data in the graph")
    parser.add_argument("--name", default="core")
    baseline.add_arguments(
        parser, "MOS.add and MOS.search (a target cube of the largest of --sizes)", "<name>-baseline.md"
    )
    args = parser.parse_args()

    config = MOSConfig.load()
    # One benchmark user owns every cube: lift the per-user cube cap (100 by default) for it.
    most = max(args.cubes + 1 + 2 * args.rounds, config.limits.max_cubes_per_user)
    limits = config.limits.model_copy(update={"max_cubes_per_user": most})
    mos = MOS(config.model_copy(update={"limits": limits}), apply_schema=config.apply_schema)
    owner = mos.create_user(f"bench-{uuid.uuid4().hex[:8]}", UserRole.USER)
    payload: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "settings": mos.config.search.model_dump(),
    }
    try:
        if args.baseline is not None:
            payload.update(bench_against_baseline(mos, owner, args))
            write_baseline_results(payload, f"{args.name}-baseline")
            log(f"wrote {RESULTS / (args.name + '-baseline.md')}")
            return
        if not args.skip_add:
            payload["add"] = bench_add(mos, owner, args.add_texts, args.add_batch, args.add_repeats)
            write_results(payload, args.name)
        if not args.skip_search:

            def partial_results(rows: list[dict[str, Any]]) -> None:
                payload["search"] = rows
                write_results(payload, args.name)

            payload["search"] = bench_search(
                mos,
                owner,
                args.sizes,
                args.cubes,
                args.per_other_cube,
                args.queries,
                args.top_k,
                args.candidate_floors,
                partial_results,
            )
        write_results(payload, args.name)
        log(f"wrote {RESULTS / (args.name + '.md')}")
    finally:
        if not args.keep:
            cleanup(mos.runtime, owner)
        mos.close()


if __name__ == "__main__":
    main()

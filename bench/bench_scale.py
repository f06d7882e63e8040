"""Scale benchmark: search and add as the graph grows to 1,000,000 memories across 1,000 cubes.

    python -m bench.bench_scale [--stages 10000 100000 1000000] [--cubes 1000] [--queries 100]

At each stage (total memories in the graph, spread evenly over the cubes) it measures, side by side per
query on the same randomly chosen cubes: MOS.search end to end in-process (hybrid, the default), the
vector path as configured (exact per-cube scan for cubes up to search.exact_scan_max_memories), the
vector-index path forced (HNSW with adaptive over-fetch) with its recall against the exact per-cube scan,
and GraphQL `search` over HTTP against the real server (a subprocess); add throughput through MOS.add
(embedding included) next to the raw embedder on the same texts; the Neo4j store size and the resident
memory of the Neo4j server and of the GraphQL server. Writes bench/results/scale.json, scale.md and
scale.svg (latency against graph size) after every stage.

Memories are generated sentences; their vectors come from a pool of 20,000 real embeddings (cached in
bench/cache) with small noise (bench/corpus.py), written through the repository call MOS.add uses.
Run it against a Neo4j of its own (see bench/README.md): it leaves 1M memories behind unless it cleans up.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.bench_core import CACHE, RESULTS, cleanup, load_cube, log, recall
from bench.corpus import noisy_vectors, pool_vectors, sentences
from bench.stats import summary_ms, timed
from memos_graph import MOS, MOSConfig
from memos_graph.config import SearchSettings
from memos_graph.graph.search import SearchIndexes
from memos_graph.ranking.analyzer import query_terms
from memos_graph.services.search import SearchService
from testkit.servers import rss_mb, serve

TOP_K = 10


def neo4j_process(bolt_port: str) -> tuple[int | None, Path | None]:
    """The pid and home directory of the local Neo4j server listening on this Bolt port (scripts/neo4j.sh)."""
    marker = f"neo4j-home-{bolt_port}"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "CommunityEntryPoint" in command and marker in command:
            for part in command.split():
                if marker in part:
                    home = part[: part.index(marker) + len(marker)].split("=")[-1]
                    return int(entry.name), Path(home)
            return int(entry.name), None
    return None, None


def directory_mb(path: Path | None) -> float | None:
    """Bytes under a directory, in MB."""
    if path is None or not path.exists():
        return None
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return round(total / 2**20, 1)


class GraphQLClient:
    """Authorised GraphQL calls to the server under test; any error is a failed benchmark."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def call(self, key: str, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors']}")
        return body


SEARCH = (
    "query($q: String!, $c: [ID!]) { search(query: $q, cubeIds: $c, topK: 10) { textMem { memories { memoryId } } } }"  # noqa: E501
)


def cube_sizes(mos: MOS, owner: str) -> dict[str, int]:
    """Memories per cube of the benchmark's user (what a resumed run already holds)."""
    rows = mos.runtime.store.run_statement(
        "MATCH (:User {id: $owner})-[:OWNS]->(c:MemCube) "
        "RETURN c.id AS cube, COUNT { (c)-[:HAS_MEMORY]->() } AS memories",
        owner=owner,
    )
    return {row["cube"]: int(row["memories"]) for row in rows}


def rotate_key_of(mos: MOS, owner: str) -> str:
    """A fresh API key for the benchmark user of a resumed run (its old key was shown only once)."""
    return mos.services.identity.rotate(mos.cubes.actor(owner))


def measure_stage(
    mos: MOS,
    owner: str,
    owner_key: str,
    server: GraphQLClient,
    cubes: Sequence[str],
    queries: Sequence[str],
    rng: random.Random,
) -> dict[str, Any]:
    rt = mos.runtime
    config = rt.config.model_copy(update={"search": SearchSettings(exact_scan_max_memories=0)})
    forced = SearchService(config, rt.embedder, SearchIndexes(rt.store, config), mos.cubes)
    timings: dict[str, list[float]] = {
        "embed": [],
        "mos_search": [],
        "vector_default": [],
        "vector_index": [],
        "exact_scan": [],
        "graphql_search": [],
        "bm25_per_cube": [],
    }
    search = rt.config.search
    recalls: dict[str, list[float]] = {"default": [], "index": []}
    targets = [rng.choice(cubes) for _ in queries]
    for query, cube in zip(queries, targets, strict=True):
        t_embed, (vector,) = timed(partial(rt.embedder.embed, [query]))
        t_mos, _ = timed(partial(mos.search, query, user_id=owner, install_cube_ids=[cube], top_k=TOP_K))
        t_default, via_default = timed(partial(mos.searcher.search_cube, owner, cube, vector, TOP_K))
        t_index, via_index = timed(partial(forced.search_cube, owner, cube, vector, TOP_K))
        t_exact, exact = timed(partial(rt.search.search_exact, cube, vector, TOP_K))
        t_http, _ = timed(partial(server.call, owner_key, SEARCH, q=query, c=[cube]))
        t_bm25, _ = timed(
            partial(
                rt.search.search_terms,
                owner,
                cube,
                query_terms(query),
                vector,
                mos.searcher.pool_size(TOP_K),
                search.bm25_k1,
                search.bm25_b,
            )
        )
        exact_ids = [m.id for m in exact]
        recalls["default"].append(recall([m.id for m in via_default], exact_ids))
        recalls["index"].append(recall([m.id for m in via_index], exact_ids))
        for name, value in (
            ("embed", t_embed),
            ("mos_search", t_mos),
            ("vector_default", t_default),
            ("vector_index", t_index),
            ("exact_scan", t_exact),
            ("graphql_search", t_http),
            ("bm25_per_cube", t_bm25),
        ):
            timings[name].append(value)
    result: dict[str, Any] = {name: summary_ms(values) for name, values in timings.items()}
    result["recall_default_vs_exact"] = round(statistics.fmean(recalls["default"]), 4)
    result["recall_index_vs_exact"] = round(statistics.fmean(recalls["index"]), 4)
    result["recall_index_min"] = round(min(recalls["index"]), 4)
    return result


def measure_adds(
    mos: MOS, owner: str, cubes: Sequence[str], stage: int, rng: random.Random, batches: int = 10, batch: int = 50
) -> dict[str, Any]:
    """MOS.add in batches into random cubes, next to the raw embedder on the same texts."""
    texts = [
        [f"Stage {stage} note {b}-{i}: {s}" for i, s in enumerate(sentences(batch, seed=stage + b))]
        for b in range(batches)
    ]
    t_embed = sum(timed(partial(mos.runtime.embedder.embed, chunk))[0] for chunk in texts)
    t_add = sum(
        timed(partial(mos.add, memory_content=chunk, mem_cube_id=rng.choice(cubes), user_id=owner))[0]
        for chunk in texts
    )
    count = batches * batch
    return {
        "memories": count,
        "batch": batch,
        "add_per_s": round(count / t_add, 1),
        "raw_embed_per_s": round(count / t_embed, 1),
        "ratio_add_to_embed": round(t_embed / t_add, 3),
    }


def write_results(payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(payload, indent=2) + "\n")
    stages = payload["stages"]
    lines = [
        "# scale benchmark",
        "",
        f"Run {payload['started']} on {payload['machine']}; {payload['cubes']} cubes, memories spread evenly; "
        f"{payload['queries']} queries per stage on random cubes, top_k={TOP_K}; Neo4j {payload['neo4j_memory']}. "
        f"{payload.get('note', '')}",
        "",
        "## search latency (ms, p50 / p95)",
        "",
        "| memories (per cube) | MOS.search in-process | GraphQL search over HTTP | vector path (default) | "
        "vector index forced | exact per-cube scan | BM25 per cube | query embedding |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in stages:

        def pair(name: str, s: dict[str, Any] = s) -> str:
            return f"{s['search'][name]['p50_ms']} / {s['search'][name]['p95_ms']}"

        lines.append(
            f"| {s['memories']} ({s['per_cube']}) | {pair('mos_search')} | {pair('graphql_search')} | "
            f"{pair('vector_default')} | {pair('vector_index')} | {pair('exact_scan')} | "
            f"{pair('bm25_per_cube') if 'bm25_per_cube' in s['search'] else '-'} | {pair('embed')} |"
        )
    lines += [
        "",
        "## recall@10 against the exact per-cube scan, add throughput, size",
        "",
        "| memories | recall default path | recall index forced (mean / min) | add/s (MOS.add, batch 50) | "
        "raw embedder/s | load time (s) | store (MB) | Neo4j RSS (MB) | GraphQL server RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in stages:
        r, a = s["search"], s["add"]
        lines.append(
            f"| {s['memories']} | {r['recall_default_vs_exact']} | {r['recall_index_vs_exact']} / "
            f"{r['recall_index_min']} | {a['add_per_s']} | {a['raw_embed_per_s']} | {s['load_seconds']} | "
            f"{s['store_mb']} | {s['neo4j_rss_mb']} | {s['graphql_rss_mb']} |"
        )
    lines += [
        "",
        "Targets (issue 6): in-process search p95 <= 60 ms, recall >= 0.99.",
        "",
        "![latency against graph size](scale.svg)",
    ]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "scale.svg").write_text(svg_plot(stages))


def svg_plot(stages: Sequence[dict[str, Any]]) -> str:
    """p50 and p95 of in-process and HTTP search against memories (log scale), as a small SVG."""
    width, height, margin = 560, 320, 50
    series = [
        ("mos_search", "p95_ms", "#c0392b", "in-process p95"),
        ("mos_search", "p50_ms", "#e67e22", "in-process p50"),
        ("graphql_search", "p95_ms", "#2c3e50", "GraphQL p95"),
        ("graphql_search", "p50_ms", "#2980b9", "GraphQL p50"),
    ]
    xs = [float(np.log10(s["memories"])) for s in stages]
    top = float(max([s["search"][name][key] for s in stages for name, key, _, _ in series] + [60.0])) * 1.1
    x_lo, x_hi = (min(xs) - 0.2, max(xs) + 0.2) if xs else (3.8, 6.2)

    def px(x: float) -> float:
        return margin + (x - x_lo) / (x_hi - x_lo) * (width - 2 * margin)

    def py(y: float) -> float:
        return height - margin - y / top * (height - 2 * margin)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<line x1="{margin}" y1="{height - margin}" x2="{width - margin}" y2="{height - margin}" stroke="black"/>',
        f'<line x1="{margin}" y1="{margin}" x2="{margin}" y2="{height - margin}" stroke="black"/>',
        f'<line x1="{margin}" y1="{py(60):.1f}" x2="{width - margin}" y2="{py(60):.1f}" stroke="#999" '
        'stroke-dasharray="4 3"/>',
        f'<text x="{width - margin - 90}" y="{py(60) - 4:.1f}">target p95 60 ms</text>',
        f'<text x="{width / 2 - 60}" y="{height - 12}">memories in the graph (log)</text>',
        f'<text x="8" y="{margin - 12}">search latency, ms</text>',
    ]
    for s, x in zip(stages, xs, strict=True):
        parts.append(f'<text x="{px(x) - 18:.1f}" y="{height - margin + 15}">{s["memories"]:,}</text>')
    for tick in range(0, int(top) + 1, max(10, int(top / 6) // 10 * 10 or 10)):
        parts.append(f'<text x="{margin - 30}" y="{py(tick) + 4:.1f}">{tick}</text>')
    for index, (name, key, colour, label) in enumerate(series):
        points = " ".join(f"{px(x):.1f},{py(s['search'][name][key]):.1f}" for s, x in zip(stages, xs, strict=True))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(f'<text x="{margin + 10}" y="{margin + 14 * index}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--cubes", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's user, cubes and memories")
    parser.add_argument("--resume", metavar="OWNER", help="continue with a kept (or interrupted) run's user and cubes")
    args = parser.parse_args()
    bolt_port = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687").rsplit(":", 1)[-1]
    neo4j_pid, neo4j_home = neo4j_process(bolt_port)
    owner = args.resume or f"bench-scale-{secrets.token_hex(4)}"
    root_key = f"mgk_bench_{secrets.token_urlsafe(24)}"
    rng = random.Random(42)
    payload: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "cubes": args.cubes,
        "queries": args.queries,
        "neo4j_memory": f"heap {os.environ.get('NEO4J_HEAP', '1g')}, "
        f"page cache {os.environ.get('NEO4J_PAGECACHE', '1g')}",
        "stages": [],
    }
    if args.resume and (RESULTS / "scale.json").exists():
        # Keep the stages a resumed run does not measure again.
        earlier = json.loads((RESULTS / "scale.json").read_text())
        payload["stages"] = [stage for stage in earlier.get("stages", []) if stage["memories"] not in args.stages]
        kept = ", ".join(str(stage["memories"]) for stage in payload["stages"])
        payload["note"] = (
            (
                f"Resumed run: the stages at {kept} memories were measured by the run of {earlier['started']}; "
                "this run measured the others on the kept graph (load time 0 where nothing was missing)."
            )
            if kept
            else ""
        )
    config = MOSConfig.load()
    # One benchmark user owns every cube: lift the per-user cube cap (100 by default) for it.
    most = max(args.cubes + 1, config.limits.max_cubes_per_user)
    limits = config.limits.model_copy(update={"max_cubes_per_user": most})
    config = config.model_copy(update={"root_api_key": None, "limits": limits})
    with MOS(config, apply_schema=config.apply_schema) as mos:
        processes = contextlib.ExitStack()
        log_path = Path(tempfile.mkstemp(prefix="memos-scale-server-", suffix=".log")[1])
        process = processes.enter_context(serve(os.environ | {"MEMOS_ROOT_API_KEY": root_key}, log_path))
        server = GraphQLClient(processes.enter_context(httpx.Client(base_url=process.base_url, timeout=60)))
        try:
            if args.resume:
                owner_key = rotate_key_of(mos, owner)
                cubes = [f"{owner}-{i:04d}" for i in range(args.cubes)]
            else:
                created = server.call(
                    root_key,
                    "mutation($i: CreateUserInput!) { createUser(input: $i) { apiKey } }",
                    i={"id": owner, "name": "scale bench", "role": "USER"},
                )
                owner_key = created["data"]["createUser"]["apiKey"]
                cubes = [
                    mos.create_cube_for_user(f"scale {i}", owner, cube_id=f"{owner}-{i:04d}") for i in range(args.cubes)
                ]
            log(f"benchmark user {owner}")
            total = max(args.stages)
            per_cube_max = total // args.cubes
            texts = sentences(total, seed=31)
            pool = pool_vectors(mos.runtime.embedder, sentences(20_000), CACHE)
            log(f"deriving {total} vectors from the pool")
            vectors = noisy_vectors(pool, total, seed=31)
            queries = [f"Tell me about when {s.rstrip('.')}" for s in sentences(args.queries, seed=99)]
            for stage in sorted(args.stages):
                per_cube = stage // args.cubes
                start = time.perf_counter()
                held = cube_sizes(mos, owner)
                for index, cube in enumerate(cubes):
                    base = index * per_cube_max
                    have = held.get(cube, 0)
                    if have < per_cube:
                        # A resumed run may miss any of a cube's memories (an interrupted clean-up deletes
                        # in no particular order): it writes the whole block, and MERGE keeps what is there.
                        first = 0 if args.resume else have
                        rows = slice(base + first, base + per_cube)
                        load_cube(mos.runtime, cube, owner, texts[rows], vectors[rows], first, batch=5_000)
                    if index % 100 == 99:
                        log(f"stage {stage}: {index + 1}/{len(cubes)} cubes at {per_cube}")
                mos.runtime.store.run_slow_statement("CALL db.awaitIndexes(3000)", 3030, {})
                load_seconds = round(time.perf_counter() - start, 1)
                # The generated corpus (millions of strings) is not the service's: keep the collector from
                # walking it in the middle of timed calls.
                gc.collect()
                gc.freeze()
                log(f"stage {stage}: loaded in {load_seconds} s; measuring")
                entry: dict[str, Any] = {"memories": stage, "per_cube": per_cube, "load_seconds": load_seconds}
                entry["search"] = measure_stage(mos, owner, owner_key, server, cubes, queries, rng)
                entry["add"] = measure_adds(mos, owner, cubes, stage, rng)
                entry["store_mb"] = directory_mb(neo4j_home / "data" if neo4j_home else None)
                entry["neo4j_rss_mb"] = rss_mb(neo4j_pid) if neo4j_pid else None
                entry["graphql_rss_mb"] = rss_mb(process.pid)
                payload["stages"].append(entry)
                write_results(payload)
                log(json.dumps(entry))
        finally:
            processes.close()
            if not args.keep:
                log("cleaning up")
                cleanup(mos.runtime, owner)


if __name__ == "__main__":
    main()

"""GraphQL over HTTP vs in-process MOS.search, on the same queries in the same run.

    python -m bench.bench_graphql [--memories 10000] [--queries 200]

Starts the real server (python -m graphql_schema, uvicorn) as a subprocess on 127.0.0.1, fills one cube
with memories, then for each query times MOS.search in this process and the GraphQL `search` over HTTP
(keep-alive client), alternating. Writes bench/results/graphql.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.bench_core import CACHE, RESULTS, cleanup, load_cube, log, summary_ms, timed
from bench.corpus import noisy_vectors, pool_vectors, sentences
from bench.server import serve
from memos_graph import MOS, MOSConfig, UserRole

SEARCH = """query($q: String!, $cubes: [ID!], $k: Int) {
  search(query: $q, cubeIds: $cubes, topK: $k) { textMem { cubeId memories { id memory metadata { relativity } } } }
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args()

    mos = MOS(MOSConfig.load())
    rt = mos.runtime
    owner = mos.create_user(f"bench-{uuid.uuid4().hex[:8]}", UserRole.USER)
    key = mos.rotate_api_key(owner)
    server_env = {**os.environ, "MEMOS_ROOT_API_KEY": f"mgk_bench_root_{uuid.uuid4().hex}"}
    server_log = Path(tempfile.mkstemp(prefix="memos-graphql-bench-", suffix=".log")[1])
    try:
        with serve(server_env, server_log) as server:
            run(args, mos, owner, key, server.base_url)
    finally:
        cleanup(rt, owner)
        mos.close()


def run(args: argparse.Namespace, mos: MOS, owner: str, key: str, base_url: str) -> None:
    """Load the cube, then time in-process and HTTP search side by side; write the results."""
    rt = mos.runtime
    cube = mos.create_cube_for_user("bench graphql", owner_id=owner)
    texts = sentences(args.memories, seed=31)
    pool = pool_vectors(rt.embedder, sentences(20_000, seed=23), CACHE)
    load_cube(rt, cube, owner, texts, noisy_vectors(pool, args.memories, seed=9), 0)
    rt.store.run_slow_statement("CALL db.awaitIndexes(600)", 630, {})
    queries = [f"Tell me about when {s.rstrip('.')}" for s in sentences(args.queries, seed=77)]
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"})
    variables: dict[str, Any] = {"cubes": [cube], "k": args.top_k}
    for query in queries[:10]:  # warm both paths
        mos.search(query, user_id=owner, install_cube_ids=[cube], top_k=args.top_k)
        client.post("/graphql", json={"query": SEARCH, "variables": {**variables, "q": query}})
    in_process, over_http = [], []
    for query in queries:
        elapsed, local = timed(partial(mos.search, query, user_id=owner, install_cube_ids=[cube], top_k=args.top_k))
        in_process.append(elapsed)
        elapsed, response = timed(
            partial(client.post, "/graphql", json={"query": SEARCH, "variables": {**variables, "q": query}})
        )
        over_http.append(elapsed)
        remote = response.json()["data"]["search"]["textMem"][0]["memories"]
        if [m["id"] for m in remote] != [m.id for m in local["text_mem"][0]["memories"]]:
            log(f"results differ for {query!r} (ties or ANN variance)")
    local_summary, http_summary = summary_ms(in_process), summary_ms(over_http)
    payload = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "memories_in_cube": args.memories,
        "in_process_mos_search": local_summary,
        "graphql_over_http": http_summary,
        "http_adds_p50_ms": round(http_summary["p50_ms"] - local_summary["p50_ms"], 2),
        "http_adds_p95_ms": round(http_summary["p95_ms"] - local_summary["p95_ms"], 2),
        "median_of_per_query_difference_ms": round(
            float(np.median(np.asarray(over_http) - np.asarray(in_process))) * 1000, 2
        ),
        "target_http_adds_p50_ms": 5.0,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "graphql.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "graphql.md").write_text(
        "# graphql benchmark\n\n"
        f"Run {payload['started']} on {payload['machine']}; {args.memories} memories in one cube, "
        f"{args.queries} queries, top_k={args.top_k}.\n\n"
        "| path | p50 ms | p95 ms |\n|---|---:|---:|\n"
        f"| MOS.search in-process | {local_summary['p50_ms']} | {local_summary['p95_ms']} |\n"
        f"| GraphQL search over HTTP (uvicorn, keep-alive) | {http_summary['p50_ms']} | "
        f"{http_summary['p95_ms']} |\n"
        f"| HTTP adds (p50 difference; target <= 5) | {payload['http_adds_p50_ms']} | "
        f"{payload['http_adds_p95_ms']} |\n\n"
        f"Median of the per-query differences: {payload['median_of_per_query_difference_ms']} ms.\n"
    )
    log(json.dumps(payload))


if __name__ == "__main__":
    main()

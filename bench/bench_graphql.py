"""GraphQL over HTTP vs in-process MOS.search, on the same queries in the same run, and where the difference goes.

    python -m bench.bench_graphql [--memories 10000] [--queries 200] [--repeat 300]
    python -m bench.bench_graphql --baseline CHECKOUT [--rounds 4] [--memories 10000] [--queries 150]

Starts the real server (python -m graphql_schema, uvicorn) twice as subprocesses on 127.0.0.1: one as
configured (API-key cache on, limits.api_key_cache_s) and one with MEMOS_API_KEY_CACHE_S=0 (every request
looks its key up in Neo4j, as before the cache). Fills one cube with memories, then for each query times, in
turn: MOS.search in this process, the same GraphQL operation through Strawberry in this process
(schema.execute, the app's Context and worker pool, no HTTP), and the GraphQL `search` over HTTP to each
server (keep-alive client). Then times each stage of the overhead on its own (--repeat times each): the key
lookup in Neo4j and the thread it ran on, the cached lookup, DataLoader set-up, parse, validation,
Strawberry's whole execution with the search answered instantly, the worker-pool hop, JSON encoding.
Writes bench/results/graphql.json and .md. With --baseline (a checkout of earlier code), this code's and that
checkout's search and page paths alternate on one seeded cube instead, each with its own server
(bench/baseline.py), written to bench/results/graphql-baseline.json and .md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import httpx
import numpy as np
from graphql import parse, validate
from strawberry.dataloader import DataLoader

from bench import baseline
from bench.bench_core import CACHE, RESULTS, cleanup, load_cube, log, search_queries
from bench.corpus import noisy_vectors, pool_vectors, sentences
from bench.stats import summary_ms, timed
from graphql_schema.context import Context
from graphql_schema.schema import schema
from memos_graph import MOS, MOSConfig, UserRole
from memos_graph.domain import User
from memos_graph.services.identity import hash_api_key
from memos_graph.services.wiring import Services
from memos_graph.workers import WorkerPool, within_deadline
from testkit.servers import serve

T = TypeVar("T")

SEARCH = """query($q: String!, $cubes: [ID!], $k: Int) {
  search(query: $q, cubeIds: $cubes, topK: $k) {
    textMem { cubeId memories { memoryId memory metadata { relativity } } }
  }
}"""
TARGET_P50_MS = 3.0
# A page of the cube's memories, flat (the baseline) and with every memory's cube, history and provenance
# resolved through the traversal fields' DataLoaders (issue 13).
FLAT_PAGE = "query($c: ID!) { memories(cubeId: $c, first: 50) { edges { node { memoryId memory } } } }"
NESTED_PAGE = """query($c: ID!) {
  cube(id: $c) { name owner { name } sharedWith { permission }
    memories(first: 50) { totalCount edges { node { memoryId memory cube { cubeId name }
      history { edges { node { version memory } } } derivedFrom { kind node { __typename } } } } } }
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=300, help="repetitions of each stage timing")
    baseline.add_arguments(parser, "search and pages (each code's own server)", "graphql-baseline.md")
    args = parser.parse_args()

    mos = MOS(MOSConfig.load(), apply_schema=True)
    rt = mos.runtime
    owner = mos.create_user(f"bench-{uuid.uuid4().hex[:8]}", UserRole.USER)
    key = mos.rotate_api_key(owner)
    server_env = {**os.environ, "MEMOS_ROOT_API_KEY": f"mgk_bench_root_{uuid.uuid4().hex}"}
    logs = [Path(tempfile.mkstemp(prefix=f"memos-graphql-bench-{n}-", suffix=".log")[1]) for n in ("on", "off")]
    try:
        if args.baseline is not None:
            write_baseline(against_baseline(args, mos, owner, key, server_env, logs[0]))
            return
        with contextlib.ExitStack() as stack:
            cached = stack.enter_context(serve(server_env, logs[0]))
            uncached = stack.enter_context(serve({**server_env, "MEMOS_API_KEY_CACHE_S": "0"}, logs[1]))
            run(args, mos, owner, key, cached.base_url, uncached.base_url)
    finally:
        cleanup(rt, owner)
        mos.close()


def seed(mos: MOS, owner: str, memories: int, queries: int) -> tuple[str, list[str]]:
    """One cube of `memories` generated memories, its indexes online; the cube's id and the query texts."""
    rt = mos.runtime
    cube = mos.create_cube_for_user("bench graphql", owner_id=owner)
    texts = sentences(memories, seed=31)
    pool = pool_vectors(rt.embedder, sentences(20_000, seed=23), CACHE)
    load_cube(rt, cube, owner, texts, noisy_vectors(pool, memories, seed=9), 0)
    rt.store.run_slow_statement("CALL db.awaitIndexes(600)", 630, {})
    return cube, search_queries(queries, seed=77)


def stage_ms(samples: list[float]) -> dict[str, float]:
    """p50 and p95 of a stage, in ms with microsecond resolution."""
    ms = np.asarray(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3)}


def repeat(call: Callable[[], object], times: int) -> list[float]:
    return [timed(call)[0] for _ in range(times)]


def repeat_async(loop: asyncio.AbstractEventLoop, make: Callable[[], Awaitable[object]], times: int) -> list[float]:
    async def all_of() -> list[float]:
        samples = []
        for _ in range(times):
            start = time.perf_counter()
            await make()
            samples.append(time.perf_counter() - start)
        return samples

    return loop.run_until_complete(all_of())


def run(args: argparse.Namespace, mos: MOS, owner: str, key: str, cached_url: str, uncached_url: str) -> None:
    """Load the cube, then time the four paths side by side and each stage on its own; write the results."""
    rt = mos.runtime
    services = mos.services
    caller = rt.users.get(owner)
    assert caller is not None
    cube, queries = seed(mos, owner, args.memories, args.queries)
    headers = {"Authorization": f"Bearer {key}"}
    clients = {
        "cached": httpx.Client(base_url=cached_url, headers=headers),
        "uncached": httpx.Client(base_url=uncached_url, headers=headers),
    }
    variables: dict[str, Any] = {"cubes": [cube], "k": args.top_k}
    loop = asyncio.new_event_loop()
    workers = WorkerPool(rt.config.limits.max_worker_threads, rt.config.limits.max_workers_per_caller)

    def in_strawberry(query: str) -> Any:
        context = Context(services=services, caller=caller, pool=workers)
        result = loop.run_until_complete(
            schema.execute(SEARCH, variable_values={**variables, "q": query}, context_value=context)
        )
        assert not result.errors, result.errors
        return result.data

    def over_http(name: str, query: str) -> Any:
        response = clients[name].post("/graphql", json={"query": SEARCH, "variables": {**variables, "q": query}})
        return response.json()["data"]["search"]["textMem"][0]["memories"]

    def local(query: str) -> Any:
        return mos.search(query, user_id=owner, install_cube_ids=[cube], top_k=args.top_k)

    for query in queries[:10]:  # warm every path
        for warm in (local, in_strawberry, partial(over_http, "cached"), partial(over_http, "uncached")):
            warm(query)
    paths: dict[str, list[float]] = {
        "in_process": [],
        "strawberry_in_process": [],
        "http_cached": [],
        "http_uncached": [],
    }
    for index, query in enumerate(queries):
        # The order rotates, so no path always runs right after another (caches, scheduling).
        calls: list[tuple[str, Callable[[], Any]]] = [
            ("in_process", partial(local, query)),
            ("strawberry_in_process", partial(in_strawberry, query)),
            ("http_cached", partial(over_http, "cached", query)),
            ("http_uncached", partial(over_http, "uncached", query)),
        ]
        shift = index % len(calls)
        answers: dict[str, Any] = {}
        for name, call in calls[shift:] + calls[:shift]:
            elapsed, answers[name] = timed(call)
            paths[name].append(elapsed)
        expected = [m.id for m in answers["in_process"]["text_mem"][0]["memories"]]
        if any([m["memoryId"] for m in answers[name]] != expected for name in ("http_cached", "http_uncached")):
            log(f"results differ for {query!r} (ties or ANN variance)")

    pages = measure_pages(mos, owner, cube, clients["cached"], len(queries))
    stages = measure_stages(args, loop, services, caller, key, queries, variables, workers)
    loop.close()
    workers.shutdown()
    write(args, paths, stages, pages)


def against_baseline(
    args: argparse.Namespace, mos: MOS, owner: str, key: str, server_env: dict[str, str], log_path: Path
) -> dict[str, Any]:
    """Seed the cube once, then alternate the two codes (bench/baseline.py), each round with a server of the
    measured code's own: MOS.search in process and GraphQL search over HTTP (key cache on), query by query;
    a page of 50 in process, flat and nested over HTTP."""
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    codes = baseline.both_codes(args.baseline)
    cube, queries = seed(mos, owner, args.memories, args.queries)
    spec = {
        "owner": owner,
        "cube": cube,
        "key": key,
        "top_k": args.top_k,
        "queries": queries,
        "page_rounds": args.queries,
        "search_document": SEARCH,
        "flat_page_document": FLAT_PAGE,
        "nested_page_document": NESTED_PAGE,
    }
    answers: dict[str, list[dict[str, list[list[str]]]]] = {"this": [], "baseline": []}
    imported: dict[str, dict[str, str]] = {}

    def measure(code: baseline.Code, _: int) -> baseline.Samples:
        env = {**server_env, "PYTHONPATH": str(code.checkout)}
        with serve(env, log_path, cwd=code.checkout) as server:
            result = baseline.run_phase(code, "graphql", {**spec, "url": server.base_url})
        imported[code.name] = result["modules"]
        answers[code.name].append(result["ids"])
        samples: baseline.Samples = result["samples"]
        return samples

    rounds = baseline.alternate(args.rounds, codes, measure, log)
    reference = answers["this"][0]["in_process"]
    same = {
        name: round(
            statistics.fmean(
                ids == best for one in runs for path in one.values() for ids, best in zip(path, reference, strict=True)
            ),
            4,
        )
        for name, runs in answers.items()
    }
    return {
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "codes": baseline.describe(codes, imported),
        "rounds": args.rounds,
        "memories_in_cube": args.memories,
        "queries": args.queries,
        "top_k": args.top_k,
        "latency": baseline.compare(rounds),
        "identical_to_this_in_process_share": same,
        "samples": rounds,
    }


def write_baseline(payload: dict[str, Any]) -> None:
    """graphql-baseline.json with every sample, graphql-baseline.md with the ratio table."""
    labels = {
        "in_process": "MOS.search in-process",
        "http_cached": "GraphQL search over HTTP, key cache on",
        "page_in_process": "page of 50 in process (MemoryService.page)",
        "page_http_flat": "page of 50 over HTTP, flat",
        "page_http_nested": "page of 50 over HTTP, nested (cube, owner, shares, history, provenance)",
    }
    same = payload["identical_to_this_in_process_share"]
    lines = [
        "# graphql-baseline: this code against a baseline, same run",
        "",
        f"Run {payload['started']} on {payload['machine']}; {payload['memories_in_cube']} memories in one cube, "
        f"seeded once by this code; {payload['queries']} queries (each through both search paths, in rotating "
        f"order), top_k={payload['top_k']}, and as many rounds of the three page paths. Each phase had a server "
        "of its own code (`python -m graphql_schema` with the checkout as PYTHONPATH and working directory).",
        "",
        *baseline.header(payload["codes"], payload["rounds"]),
        *baseline.markdown_table(payload["latency"], labels),
        "",
        f"Search answers (memory ids, in order) identical to this code's first in-process round: this "
        f"{same['this']:.1%}, baseline {same['baseline']:.1%} (both paths, every round).",
    ]
    baseline.write_results("graphql-baseline", payload, lines)


def measure_pages(mos: MOS, owner: str, cube: str, client: httpx.Client, times: int) -> dict[str, list[float]]:
    """A page of 50 memories in process (MemoryService.page), flat over HTTP, and nested over HTTP (cube, owner,
    shares, totalCount and per memory its cube, history and provenance), in rotating order."""
    caller = mos.runtime.users.get(owner)
    assert caller is not None

    def in_process() -> object:
        return mos.services.memories.page(caller, cube, None, first=50)

    def over_http(query: str) -> object:
        body = client.post("/graphql", json={"query": query, "variables": {"c": cube}}).json()
        assert not body.get("errors"), body
        return body

    calls: list[tuple[str, Callable[[], object]]] = [
        ("page_in_process", in_process),
        ("page_http_flat", partial(over_http, FLAT_PAGE)),
        ("page_http_nested", partial(over_http, NESTED_PAGE)),
    ]
    for _, call in calls * 5:  # warm
        call()
    samples: dict[str, list[float]] = {name: [] for name, _ in calls}
    for index in range(times):
        shift = index % len(calls)
        for name, call in calls[shift:] + calls[:shift]:
            samples[name].append(timed(call)[0])
    return samples


def measure_stages(
    args: argparse.Namespace,
    loop: asyncio.AbstractEventLoop,
    services: Services,
    caller: User,
    key: str,
    queries: list[str],
    variables: dict[str, Any],
    workers: WorkerPool,
) -> dict[str, dict[str, float]]:
    """Each stage of the GraphQL overhead timed on its own, in this process."""
    rt = services.runtime
    times = args.repeat
    digest = hash_api_key(key)
    deadline = rt.config.neo4j.call_deadline_s
    shape = services.search.search(caller, queries[0], list(variables["cubes"]), args.top_k, None)
    # Services whose search answers at once: what is left is Strawberry's own cost (and the worker hop).
    instant = cast(Services, SimpleNamespace(runtime=rt, search=SimpleNamespace(search=lambda *_: shape)))
    document = parse(SEARCH)
    request = {**variables, "q": queries[0]}

    async def strawberry_alone() -> None:
        context = Context(services=instant, caller=caller, pool=workers)
        result = await schema.execute(SEARCH, variable_values=request, context_value=context)
        assert not result.errors, result.errors

    async def strawberry_alone_no_pool() -> None:
        context = Context(services=instant, caller=caller, pool=None)
        result = await schema.execute(SEARCH, variable_values=request, context_value=context)
        assert not result.errors, result.errors

    async def noop_on_worker() -> None:
        await workers.run(caller.user_id, lambda: None, deadline)

    async def noop_on_thread() -> None:
        await within_deadline(lambda: None, deadline)

    async def uncached_auth() -> None:  # what the app did on every request before the cache
        await within_deadline(lambda: rt.users.get_by_api_key_hash(digest), deadline)

    async def noop_loader(keys: list[str]) -> list[None]:
        return [None for _ in keys]

    body = {
        "data": loop.run_until_complete(
            schema.execute(
                SEARCH, variable_values=request, context_value=Context(services=instant, caller=caller, pool=None)
            )
        ).data
    }
    services.identity.authenticate(key)  # cached from here on
    return {
        "auth_before: key lookup in Neo4j on a thread (per request)": stage_ms(
            repeat_async(loop, uncached_auth, times)
        ),
        "auth_before: of which the thread hop": stage_ms(repeat_async(loop, noop_on_thread, times)),
        "auth_after: cached lookup on the event loop": stage_ms(
            repeat(partial(services.identity.authenticate_cached, key), times)
        ),
        "dataloader_setup_before: two DataLoaders per request (now made only when a field needs one)": stage_ms(
            repeat(lambda: (DataLoader(load_fn=noop_loader), DataLoader(load_fn=noop_loader)), times)
        ),
        "strawberry: parse": stage_ms(repeat(partial(parse, SEARCH), times)),
        "strawberry: validate (graphql-core rules)": stage_ms(
            repeat(partial(validate, schema._schema, document), times)
        ),
        "strawberry: whole execution, search answered at once, on the worker pool": stage_ms(
            repeat_async(loop, strawberry_alone, times)
        ),
        "strawberry: whole execution, search answered at once, on asyncio's threads": stage_ms(
            repeat_async(loop, strawberry_alone_no_pool, times)
        ),
        "worker pool hop (a no-op on the pool)": stage_ms(repeat_async(loop, noop_on_worker, times)),
        "json: encoding the response": stage_ms(repeat(partial(json.dumps, body), times)),
    }


def write(
    args: argparse.Namespace,
    paths: dict[str, list[float]],
    stages: dict[str, dict[str, float]],
    pages: dict[str, list[float]],
) -> None:
    summaries = {name: summary_ms(samples) for name, samples in paths.items()}
    page_summaries = {name: summary_ms(samples) for name, samples in pages.items()}
    nested_over_flat = round(
        float(np.median(np.asarray(pages["page_http_nested"]) / np.asarray(pages["page_http_flat"]))), 2
    )
    local = np.asarray(paths["in_process"])

    def adds(name: str) -> dict[str, float]:
        other = np.asarray(paths[name])
        return {
            "p50_difference_ms": round(summaries[name]["p50_ms"] - summaries["in_process"]["p50_ms"], 2),
            "p95_difference_ms": round(summaries[name]["p95_ms"] - summaries["in_process"]["p95_ms"], 2),
            "median_per_query_difference_ms": round(float(np.median(other - local)) * 1000, 2),
        }

    overhead = {name: adds(name) for name in ("strawberry_in_process", "http_uncached", "http_cached")}
    http_residual = round(
        float(np.median(np.asarray(paths["http_cached"]) - np.asarray(paths["strawberry_in_process"]))) * 1000, 2
    )
    payload = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "memories_in_cube": args.memories,
        "queries": args.queries,
        "paths": summaries,
        "overhead_over_in_process": overhead,
        "http_uvicorn_starlette_client_median_ms": http_residual,
        "stages": stages,
        "pages": page_summaries,
        "page_nested_over_flat_median_ratio": nested_over_flat,
        "target_http_adds_p50_ms": TARGET_P50_MS,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "graphql.json").write_text(json.dumps(payload, indent=2) + "\n")
    labels = {
        "in_process": "MOS.search in-process",
        "strawberry_in_process": "GraphQL through Strawberry in-process (no HTTP)",
        "http_uncached": "GraphQL over HTTP, key cache off (every request looks its key up: before)",
        "http_cached": "GraphQL over HTTP, key cache on (after)",
    }
    rows = []
    for name, label in labels.items():
        summary = summaries[name]
        extra = overhead.get(name)
        added = ""
        if extra is not None:
            differences = ("p50_difference_ms", "p95_difference_ms", "median_per_query_difference_ms")
            added = " | ".join(str(extra[key]) for key in differences)
        rows.append(f"| {label} | {summary['p50_ms']} | {summary['p95_ms']} | {added or '- | - | -'} |")
    stage_rows = [f"| {name} | {figures['p50_ms']} | {figures['p95_ms']} |" for name, figures in stages.items()]
    (RESULTS / "graphql.md").write_text(
        "# graphql benchmark\n\n"
        f"Run {payload['started']} on {payload['machine']}; {args.memories} memories in one cube, "
        f"{args.queries} queries (each through every path, in rotating order), top_k={args.top_k}. "
        f"Target: GraphQL over HTTP adds <= {TARGET_P50_MS:g} ms at p50.\n\n"
        "| path | p50 ms | p95 ms | adds at p50 | adds at p95 | median per-query difference |\n"
        "|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
        f"HTTP itself (uvicorn, Starlette, the app's body and key checks, the httpx client): median per-query "
        f"difference between GraphQL over HTTP (cache on) and GraphQL in-process: {http_residual} ms.\n\n"
        "## A page of 50 memories, flat and as a nested traversal\n\n"
        f"{len(pages['page_http_flat'])} rounds, in rotating order. Nested: the cube with its owner, shares and "
        "totalCount, and per memory its cube, history and provenance (derivedFrom), all through the per-request "
        "DataLoaders.\n\n| path | p50 ms | p95 ms |\n|---|---:|---:|\n"
        + "\n".join(f"| {name} | {row['p50_ms']} | {row['p95_ms']} |" for name, row in page_summaries.items())
        + f"\n\nMedian per-round ratio nested / flat over HTTP: {nested_over_flat}.\n\n"
        f"## Stages, each timed on its own ({args.repeat} times)\n\n"
        "| stage | p50 ms | p95 ms |\n|---|---:|---:|\n" + "\n".join(stage_rows) + "\n"
    )
    log(json.dumps(payload))


if __name__ == "__main__":
    main()

"""One measured phase of a same-run baseline (bench/baseline.py), in a child interpreter.

    python -P bench/baseline_phase.py core|graphql SPEC.json

Run by path with PYTHONPATH set to the checkout being measured, this checkout's or an earlier one's, so it
imports nothing of bench/ or testkit/ (the earlier checkout may not have them) and uses only what both codes
share: `memos_graph.MOS`, `MOSConfig`, `MOS.services.memories.page` and the GraphQL API over HTTP. The parent
seeds the graph, starts the server and writes SPEC.json (user, cubes, texts, queries, GraphQL documents);
this prints one JSON line: seconds per operation by path, the search results' ids, and where memos_graph
(and graphql_schema) were imported from, which the parent checks.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

import memos_graph
from memos_graph import MOS, MOSConfig


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def search_ids(found: dict[str, Any]) -> list[str]:
    """The memory ids of a MOS.search answer over one cube, best first."""
    return [item.id for item in found["text_mem"][0]["memories"]]


def rotating(calls: list[tuple[str, Callable[[], Any]]], index: int) -> list[tuple[str, Callable[[], Any]]]:
    """The calls starting at a different one each time, so none always runs right after another."""
    shift = index % len(calls)
    return calls[shift:] + calls[:shift]


def core(spec: dict[str, Any], mos: MOS) -> dict[str, Any]:
    """MOS.add of the same texts in batches into this code's fresh cube, then MOS.search on the seeded cube."""
    owner, add_cube, search_cube, top_k = spec["owner"], spec["add_cube"], spec["search_cube"], spec["top_k"]
    queries: list[str] = spec["queries"]
    mos.add(memory_content=spec["warm_texts"], mem_cube_id=add_cube, user_id=owner)
    for query in queries[:10]:
        mos.search(query, user_id=owner, install_cube_ids=[search_cube], top_k=top_k)
    texts: list[str] = spec["add_texts"]
    batch: int = spec["batch"]
    add_times, stored = [], 0
    for start in range(0, len(texts), batch):
        elapsed, ids = timed(
            partial(mos.add, memory_content=texts[start : start + batch], mem_cube_id=add_cube, user_id=owner)
        )
        add_times.append(elapsed)
        stored += len(ids)
    if stored != len(texts):
        raise RuntimeError(f"add stored {stored} of {len(texts)}")
    search_times, found = [], []
    for query in queries:
        elapsed, answer = timed(partial(mos.search, query, user_id=owner, install_cube_ids=[search_cube], top_k=top_k))
        search_times.append(elapsed)
        found.append(search_ids(answer))
    return {"samples": {"add_batch": add_times, "mos_search": search_times}, "ids": {"mos_search": found}}


def graphql(spec: dict[str, Any], mos: MOS) -> dict[str, Any]:
    """MOS.search in process and GraphQL search over HTTP, query by query in rotating order; then a page of 50
    memories in process, flat and nested over HTTP, in rotating order."""
    owner, cube, top_k = spec["owner"], spec["cube"], spec["top_k"]
    caller = mos.runtime.users.get(owner)
    assert caller is not None
    client = httpx.Client(base_url=spec["url"], headers={"Authorization": f"Bearer {spec['key']}"})

    def post(document: str, variables: dict[str, Any]) -> Any:
        body = client.post("/graphql", json={"query": document, "variables": variables}).json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def in_process(query: str) -> list[str]:
        return search_ids(mos.search(query, user_id=owner, install_cube_ids=[cube], top_k=top_k))

    def over_http(query: str) -> list[str]:
        data = post(spec["search_document"], {"q": query, "cubes": [cube], "k": top_k})
        return [memory["memoryId"] for memory in data["search"]["textMem"][0]["memories"]]

    queries: list[str] = spec["queries"]
    samples: dict[str, list[float]] = {"in_process": [], "http_cached": []}
    ids: dict[str, list[list[str]]] = {"in_process": [], "http_cached": []}
    for query in queries[:10]:
        in_process(query)
        over_http(query)
    for index, query in enumerate(queries):
        searches: list[tuple[str, Callable[[], Any]]] = [
            ("in_process", partial(in_process, query)),
            ("http_cached", partial(over_http, query)),
        ]
        for name, call in rotating(searches, index):
            elapsed, answer = timed(call)
            samples[name].append(elapsed)
            ids[name].append(answer)
    pages: list[tuple[str, Callable[[], Any]]] = [
        ("page_in_process", partial(mos.services.memories.page, caller, cube, None, first=50)),
        ("page_http_flat", partial(post, spec["flat_page_document"], {"c": cube})),
        ("page_http_nested", partial(post, spec["nested_page_document"], {"c": cube})),
    ]
    for _, call in pages * 5:
        call()
    samples.update({name: [] for name, _ in pages})
    for index in range(spec["page_rounds"]):
        for name, call in rotating(pages, index):
            samples[name].append(timed(call)[0])
    return {"samples": samples, "ids": ids}


PHASES = {"core": core, "graphql": graphql}


def main() -> None:
    phase, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path, encoding="utf-8") as file:
        spec = json.load(file)
    modules = {"memos_graph": str(memos_graph.__file__)}
    if phase == "graphql":  # what `python -m graphql_schema` resolves with the same PYTHONPATH and directory
        found = importlib.util.find_spec("graphql_schema")
        modules["graphql_schema"] = str(found.origin if found else None)
    config = MOSConfig.load().model_copy(update={"user_id": spec["owner"]})
    with MOS(config) as mos:
        result = PHASES[phase](spec, mos)
    print(json.dumps({"modules": modules, **result}))


if __name__ == "__main__":
    main()

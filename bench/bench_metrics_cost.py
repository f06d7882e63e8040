"""What the Prometheus metrics cost a search, and a preview of the Grafana dashboard's panels.

    (unset NEO4J_URI; export NEO4J_BOLT_PORT=7831 NEO4J_HTTP_PORT=7931; \
     bash bench/run.sh metrics_cost --bolt-port 7831 --http-port 7931 [--memories 500 --queries 40 --rounds 8])

On a Neo4j of the benchmark's own (started, refused when it holds someone's data, wiped at the end). One USER's
cube of `--memories` generated sentences; GraphQL `search` (topK 5) over the real ASGI app in process (Starlette's
TestClient: the worker pool, the key cache, the GraphQL extension, the search stages and the store all record),
the same `--queries` queries, each run with recording on and off back to back (memos_graph.metrics.set_recording),
the first side alternating, for `--rounds` rounds; p50 and p95 of each side, and the median of each query's
on/off ratio (pairs run back to back see the same machine, which drifts under load). "Off" still calls the
metric helpers, which return at once: the difference is what recording does (label lookups, locks, observations).

Then `--load-s` seconds of mixed traffic (searches, adds, chats against the tests' fake OpenAI server, a refused
search) with /metrics scraped every `--scrape-s` seconds, and the dashboard's panels computed from those scrapes
(the same formulas as docs/grafana-dashboard.json's PromQL, evaluated here in Python: rates and histogram quantiles
between consecutive scrapes) and drawn as SVG, screenshotted with headless Chromium into
docs/grafana-dashboard-preview.png. It is not Grafana (none is installable here): it shows what the panels read.
Results: bench/results/metrics-cost.md and .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from starlette.testclient import TestClient

from bench.corpus import sentences
from graphql_schema.app import create_app
from memos_graph import metrics
from memos_graph.config import LLMSettings
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import serve_fake_openai
from testkit.metrics import samples

RESULTS = Path(__file__).resolve().parent / "results"
PREVIEW = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard-preview.png"
SEARCH = "query($q: String!) { search(query: $q, topK: 5) { textMem { cubeId memories { memoryId } } } }"


def log(message: str) -> None:
    print(f"[metrics-cost] {message}", file=sys.stderr, flush=True)


class Api:
    """GraphQL over the in-process app with one key."""

    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.key = key

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {self.key}"}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        if body.get("errors"):
            raise RuntimeError(f"unexpected errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


def timed_searches(api: Api, queries: list[str]) -> list[float]:
    took = []
    for text in queries:
        began = time.perf_counter()
        api.ok(SEARCH, q=text)
        took.append(time.perf_counter() - began)
    return took


def p(samples_s: list[float], q: float) -> float:
    ordered = sorted(samples_s)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run(runtime: Runtime, args: argparse.Namespace) -> dict[str, Any]:
    root_key = "mk-bench-" + secrets.token_urlsafe(24)
    with serve_fake_openai() as llm_server:
        llm_server.reset("A short answer from the fake model.", usage_tokens=120)
        llm = LLMSettings(model="openai/fake-model", api_base=llm_server.url, api_key="sk-test", num_retries=0)
        config = runtime.config.model_copy(update={"root_api_key": SecretStr(root_key), "llm": llm})
        with TestClient(create_app(runtime=replace(runtime, config=config))) as client:
            root = Api(client, root_key)
            created = root.ok(
                'mutation { createUser(input: {id: "bench-metrics", name: "Bench", role: USER}) { apiKey } }'
            )
            api = Api(client, created["createUser"]["apiKey"])
            api.ok('mutation { createCube(input: {name: "metrics cost"}) { cubeId } }')
            texts = sentences(args.memories)
            for start in range(0, len(texts), 100):
                api.ok(
                    "mutation($t: [String!]) { addMemories(input: {content: $t}) { ids } }",
                    t=texts[start : start + 100],
                )
            log(f"{len(texts)} memories added")
            rng = random.Random(5)
            queries = [
                f"Who {word} {rng.choice(['today', 'last week', 'in Paris', 'at home'])}?"
                for word in rng.sample(
                    [
                        "walks",
                        "reads",
                        "cooks",
                        "sings",
                        "paints",
                        "runs",
                        "swims",
                        "writes",
                        "plays",
                        "studies",
                        "works",
                        "travels",
                        "dances",
                        "bakes",
                        "drives",
                    ],
                    15,
                )
            ]
            queries = (queries * (args.queries // len(queries) + 1))[: args.queries]
            timed_searches(api, queries[:20])  # warm-up
            sides: dict[str, list[float]] = {"on": [], "off": []}
            ratios: list[float] = []  # each query's time on / its time off, the two run back to back
            for round_index in range(args.rounds):
                for number, text in enumerate(queries):
                    # query by query, the side that goes first alternating: drift on a busy machine reaches both
                    order = ("on", "off") if (round_index + number) % 2 == 0 else ("off", "on")
                    took = {}
                    for side in order:
                        metrics.set_recording(side == "on")
                        (took[side],) = timed_searches(api, [text])
                        sides[side].append(took[side])
                    ratios.append(took["on"] / took["off"])
                metrics.set_recording(True)
                log(
                    f"round {round_index + 1}/{args.rounds}: on p50 {p(sides['on'], 0.5):.2f} ms, "
                    f"off p50 {p(sides['off'], 0.5):.2f} ms"
                )
            metrics.set_recording(True)
            scrapes = mixed_load(root, api, queries, args.load_s, args.scrape_s)
    figures = {
        side: {
            "n": len(took),
            "p50_ms": p(took, 0.5),
            "p95_ms": p(took, 0.95),
            "mean_ms": statistics.fmean(took) * 1000,
        }
        for side, took in sides.items()
    }
    return {
        "memories": args.memories,
        "queries": args.queries,
        "rounds": args.rounds,
        "search": figures,
        "paired_ratio": statistics.median(ratios),
        "scrapes": len(scrapes),
        "panels": panels(scrapes),
    }


def mixed_load(root: Api, api: Api, queries: list[str], load_s: float, scrape_s: float) -> list[tuple[float, str]]:
    """Searches, adds, chats and a refused search for load_s seconds; /metrics (root's key) every scrape_s."""
    scrapes: list[tuple[float, str]] = []
    began = next_scrape = time.monotonic()
    step = 0
    while time.monotonic() - began < load_s:
        if time.monotonic() >= next_scrape:
            response = root.client.get("/metrics", headers={"Authorization": f"Bearer {root.key}"})
            response.raise_for_status()
            scrapes.append((time.monotonic() - began, response.text))
            next_scrape += scrape_s
        step += 1
        api.ok(SEARCH, q=queries[step % len(queries)])
        if step % 5 == 0:
            api.ok("mutation($t: [String!]) { addMemories(input: {content: $t}) { ids } }", t=[f"Load note {step}."])
        if step % 7 == 0:  # past llm.max_calls_per_user_per_minute a chat is refused: a code the panels show
            answer = api('mutation { chat(query: "What did I note?") }')
            if answer.get("errors") and answer["errors"][0]["extensions"]["code"] != "TOO_MANY_REQUESTS":
                raise RuntimeError(f"unexpected errors: {answer['errors']}")
        if step % 11 == 0:
            api('query { search(query: "x", cubeIds: ["not-a-cube-of-mine"]) { textMem { cubeId } } }')
    log(f"mixed load: {step} steps, {len(scrapes)} scrapes")
    return scrapes


# -- the panels, evaluated in Python over consecutive scrapes -------------------------------------------------


Series = dict[str, list[tuple[float, float]]]


def _sum(
    text_samples: dict[tuple[str, frozenset[tuple[str, str]]], float],
    name: str,
    by: tuple[str, ...],
    where: dict[str, str] | None = None,
    exclude: dict[str, str] | None = None,
) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for (sample, labels), number in text_samples.items():
        have = dict(labels)
        if sample != name or any(have.get(k) != v for k, v in (where or {}).items()):
            continue
        if any(have.get(k) == v for k, v in (exclude or {}).items()):
            continue
        key = tuple(have.get(label, "") for label in by)
        out[key] = out.get(key, 0.0) + number
    return out


def _quantile(q: float, buckets: dict[float, float]) -> float | None:
    """histogram_quantile over cumulative bucket counts (upper bound -> count), as Prometheus interpolates."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if bound == float("inf"):
                return lower
            return lower + (bound - lower) * (rank - below) / max(buckets[bound] - below, 1e-12)
        lower, below = bound, buckets[bound]
    return lower


def panels(scrapes: list[tuple[float, str]]) -> list[dict[str, Any]]:
    parsed = [(at, samples(text)) for at, text in scrapes]
    pairs = list(zip(parsed, parsed[1:], strict=False))

    def rate(name: str, by: tuple[str, ...], label: str, scale: float = 1.0, **kw: Any) -> Series:
        series: Series = {}
        for (t0, s0), (t1, s1) in pairs:
            a, b = _sum(s0, name, by, **kw), _sum(s1, name, by, **kw)
            for key, value in b.items():
                series.setdefault(label.format(*key), []).append((t1, (value - a.get(key, 0.0)) / (t1 - t0) * scale))
        return series

    def gauge(name: str, label: str) -> Series:
        return {label: [(t, sum(_sum(s, name, ()).values())) for t, s in parsed]}

    def quantile(name: str, by: tuple[str, ...], q: float, label: str) -> Series:
        series: Series = {}
        for (_, s0), (t1, s1) in pairs:
            a, b = _sum(s0, name + "_bucket", (*by, "le")), _sum(s1, name + "_bucket", (*by, "le"))
            groups: dict[tuple[str, ...], dict[float, float]] = {}
            for key, value in b.items():
                groups.setdefault(key[:-1], {})[float(key[-1])] = value - a.get(key, 0.0)
            for key, buckets in groups.items():
                found = _quantile(q, buckets)
                if found is not None:
                    series.setdefault(label.format(*key), []).append((t1, found * 1000))
        return series

    def ratio(top: Series, bottom: Series) -> Series:
        out: Series = {}
        for name, points in top.items():
            below = dict(bottom.get(name, []))
            out[name] = [(t, v / below[t]) for t, v in points if below.get(t)]
        return out

    failing = rate("memos_requests_total", ("operation",), "{}", exclude={"code": "OK"})
    every = rate("memos_requests_total", ("operation",), "{}")
    hits = rate("memos_api_key_cache_lookups_total", (), "hits", where={"result": "hit"})
    lookups = rate("memos_api_key_cache_lookups_total", (), "hits")
    return [
        {
            "title": "Requests per second by operation and outcome",
            "unit": "req/s",
            "series": rate("memos_requests_total", ("operation", "code"), "{} {}"),
        },
        {
            "title": "Share of requests failing, by operation",
            "unit": "share",
            "series": ratio({k: v for k, v in failing.items()}, every),
        },
        {
            "title": "Operation latency p95",
            "unit": "ms",
            "series": quantile("memos_operation_seconds", ("operation",), 0.95, "p95 {}"),
        },
        {
            "title": "Search stages p50",
            "unit": "ms",
            "series": quantile("memos_search_stage_seconds", ("stage",), 0.5, "p50 {}"),
        },
        {
            "title": "Worker pool: calls waiting and running",
            "unit": "calls",
            "series": {**gauge("memos_worker_queue_depth", "waiting"), **gauge("memos_workers_busy", "running")},
        },
        {
            "title": "Worker wait p95",
            "unit": "ms",
            "series": quantile("memos_worker_wait_seconds", (), 0.95, "p95 wait"),
        },
        {
            "title": "Neo4j: transactions in flight and retries",
            "unit": "count",
            "series": {
                **gauge("memos_neo4j_sessions_in_use", "in flight"),
                **rate("memos_neo4j_transaction_retries_total", ("mode",), "retries/s {}"),
            },
        },
        {
            "title": "Chat-model calls per second by model and outcome",
            "unit": "calls/s",
            "series": rate("memos_llm_calls_total", ("model", "code"), "{} {}"),
        },
        {
            "title": "Chat-model tokens per second by user",
            "unit": "tokens/s",
            "series": rate("memos_llm_tokens_total", ("user", "kind"), "{} {}"),
        },
        {
            "title": "Chat-model call latency p95",
            "unit": "ms",
            "series": quantile("memos_llm_call_seconds", ("model",), 0.95, "p95 {}"),
        },
        {"title": "API-key cache hit ratio", "unit": "share", "series": ratio(hits, lookups)},
        {
            "title": "Process CPU seconds per second",
            "unit": "cpu",
            "series": rate("process_cpu_seconds_total", (), "CPU"),
        },
    ]


COLOURS = ["#7eb26d", "#eab839", "#6ed0e0", "#ef843c", "#e24d42", "#1f78c1", "#ba43a9", "#705da0", "#508642", "#cca300"]


def svg_panel(panel: dict[str, Any]) -> str:
    width, height, left, top, bottom = 560, 250, 52, 30, 70
    series = {name: points for name, points in panel["series"].items() if points}
    values = [v for points in series.values() for _, v in points] or [0.0]
    times = [t for points in series.values() for t, _ in points] or [0.0, 1.0]
    top_value = max(max(values), 1e-9) * 1.1
    t0, t1 = min(times), max(max(times), min(times) + 1e-9)
    plot_w, plot_h = width - left - 10, height - top - bottom

    def xy(t: float, v: float) -> str:
        return f"{left + (t - t0) / (t1 - t0) * plot_w:.1f},{top + plot_h - v / top_value * plot_h:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">',
        f'<rect width="{width}" height="{height}" fill="#181b1f" stroke="#2c3235"/>',
        f'<text x="10" y="19" fill="#d8d9da" font-size="13" font-weight="600">{panel["title"]}</text>',
    ]
    for i in range(5):
        y = top + plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#2c3235"/>')
        label = top_value * (4 - i) / 4
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" fill="#8e8e8e" font-size="10" text-anchor="end">{label:.3g}</text>'
        )
    parts.append(
        f'<text x="{left}" y="{top + plot_h + 14}" fill="#8e8e8e" font-size="10">{t0:.0f} s</text>'
        f'<text x="{width - 10}" y="{top + plot_h + 14}" fill="#8e8e8e" font-size="10" '
        f'text-anchor="end">{t1:.0f} s ({panel["unit"]})</text>'
    )
    if not series:
        parts.append(
            f'<text x="{width / 2}" y="{top + plot_h / 2}" fill="#8e8e8e" font-size="12" '
            'text-anchor="middle">no data in this run</text>'
        )
    for index, (name, points) in enumerate(sorted(series.items())[:10]):
        colour = COLOURS[index % len(COLOURS)]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
            f'points="{" ".join(xy(t, v) for t, v in points)}"/>'
        )
        x, y = 10 + (index % 3) * 183, top + plot_h + 30 + (index // 3) * 13
        parts.append(
            f'<rect x="{x}" y="{y - 8}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y - 4}" fill="#c7d0d9" font-size="9.5">{name[:30]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def draw(figures: dict[str, Any], path: Path) -> None:
    """The panels as an HTML page of SVG charts, screenshotted by headless Chromium."""
    title = (
        "memos-graph dashboard preview: the panels of docs/grafana-dashboard.json computed from /metrics "
        f"scrapes of a {figures['scrapes']}-scrape mixed load (bench/bench_metrics_cost.py); not rendered by "
        "Grafana"
    )
    page = (
        '<html><body style="background:#111217;margin:12px;font-family:sans-serif">'
        f'<div style="color:#d8d9da;font-size:14px;margin-bottom:8px">{title}</div>'
        '<div style="display:grid;grid-template-columns:repeat(2,560px);gap:8px">'
        + "".join(svg_panel(panel) for panel in figures["panels"])
        + "</div></body></html>"
    )
    rows = (len(figures["panels"]) + 1) // 2
    with tempfile.TemporaryDirectory() as scratch:
        html = Path(scratch) / "dashboard.html"
        html.write_text(page, encoding="utf-8")
        subprocess.run(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={scratch}/profile",
                f"--screenshot={path}",
                f"--window-size=1160,{rows * 258 + 60}",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def report(payload: dict[str, Any]) -> str:
    on, off = payload["search"]["on"], payload["search"]["off"]
    slower = (on["p50_ms"] / off["p50_ms"] - 1) * 100
    return "\n".join(
        [
            "# metrics-cost: GraphQL search with the Prometheus metrics recording and not",
            "",
            f"Run {payload['run']} on {payload['machine']}, 2 cores shared with other work; a Neo4j of the benchmark's "
            f"own. One cube of {payload['memories']} memories; GraphQL `search` (topK 5) through the in-process app, "
            f"{payload['queries']} queries a round, each run with recording on and off back to back (the first side "
            f"alternating) for {payload['rounds']} rounds. Off: memos_graph.metrics.set_recording(False), the "
            "helpers return at once. `bash bench/run.sh metrics_cost --bolt-port 7831 --http-port 7931`.",
            "",
            "| recording | searches | p50 ms | p95 ms | mean ms |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {side} | {f['n']} | {f['p50_ms']:.2f} | {f['p95_ms']:.2f} | {f['mean_ms']:.2f} |"
                for side, f in (("on", on), ("off", off))
            ),
            "",
            f"p50 with metrics / without: {on['p50_ms'] / off['p50_ms']:.3f} ({slower:+.1f} %; target: at most +3 %). "
            f"Median over the searches of (time on / time off) for the same query run back to back: "
            f"{payload['paired_ratio']:.3f}.",
            "",
            "The dashboard preview (`docs/grafana-dashboard-preview.png`) was drawn by this run from "
            f"{payload['scrapes']} scrapes of /metrics during its mixed load; it is not a Grafana rendering.",
            "",
        ]
    )


def main() -> None:
    from bench.bench_locomo import on_own_neo4j

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memories", type=int, default=500)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--load-s", type=float, default=60.0)
    parser.add_argument("--scrape-s", type=float, default=3.0)
    parser.add_argument("--bolt-port", type=int, default=7831)
    parser.add_argument("--http-port", type=int, default=7931)
    parser.add_argument("--keep-neo4j", action="store_true")
    parser.add_argument("--no-preview", action="store_true", help="do not draw docs/grafana-dashboard-preview.png")
    args = parser.parse_args()
    figures = on_own_neo4j(args, lambda runtime: run(runtime, args))
    payload = {
        "run": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        **figures,
    }
    if not args.no_preview:
        draw(payload, PREVIEW)
        log(f"wrote {PREVIEW}")
    panels_out = payload.pop("panels")
    payload["panel_series"] = {panel["title"]: sorted(panel["series"]) for panel in panels_out}
    (RESULTS / "metrics-cost.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "metrics-cost.md").write_text(report(payload))
    log(f"wrote {RESULTS / 'metrics-cost.md'}")


if __name__ == "__main__":
    main()

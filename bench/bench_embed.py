"""Query and batch embedding: torch (sentence-transformers) against the onnxruntime export, side by side.

    python -m bench.bench_embed [--queries 300] [--rounds 5] [--no-contention]

Same weights, same texts, same run, interleaved (torch, onnx, torch, ...) so drift on this shared machine
hits both alike. Single short queries: p50/p95 after a warm-up. Batches of 1, 8, 64 and 256 generated
memory texts (bench/corpus.py): texts/s, the median of several rounds. torch runs with its default thread
count (all cores); onnx with 1 intra-op thread (the embedder's setting) and, for batches, also with 2.
Under contention: the single-query run again while 1, then 2 busy processes spin (as Neo4j answering
other requests would). Checks the two sides' vectors agree (lowest cosine). Needs no Neo4j. Writes
bench/results/embed.json and .md.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bench.bench_core import RESULTS, log
from bench.corpus import sentences
from bench.stats import percentile
from memos_graph.embeddings.onnx import OnnxEmbedder
from memos_graph.embeddings.sentence_transformer import SentenceTransformerEmbedder

QUESTIONS = [
    "What instrument does Alice play?",
    "Where did Bob go hiking last summer?",
    "When did Carol start her new job?",
    "Who adopted a puppy?",
    "What does Dmitri cook on Saturdays?",
    "Which city did Fatima move to?",
    "How long has Grace been learning Japanese?",
    "Did Hiro run the half marathon?",
]
BATCH_SIZES = (1, 8, 64, 256)

Embed = Callable[[Sequence[str]], Any]


def burn(stop: Any) -> None:
    """Spin until told to stop: one core's worth of competing work."""
    value = 0
    while not stop.is_set():
        for index in range(100_000):
            value ^= index


def query_latency(sides: dict[str, Embed], repetitions: int, warmup: int = 20) -> dict[str, dict[str, float]]:
    """p50/p95/mean milliseconds per single short query, interleaved across sides."""
    for _ in range(warmup):
        for embed in sides.values():
            embed([QUESTIONS[0]])
    times: dict[str, list[float]] = {name: [] for name in sides}
    for repetition in range(repetitions):
        query = [QUESTIONS[repetition % len(QUESTIONS)]]
        for name, embed in sides.items():
            start = time.perf_counter()
            embed(query)
            times[name].append((time.perf_counter() - start) * 1000)
    return {
        name: {
            "p50_ms": round(percentile(values, 50), 2),
            "p95_ms": round(percentile(values, 95), 2),
            "mean_ms": round(float(np.mean(values)), 2),
        }
        for name, values in times.items()
    }


def batch_throughput(sides: dict[str, Embed], texts: list[str], rounds: int) -> list[dict[str, Any]]:
    """texts/s per side and batch size: the median over rounds, each round a fresh slice of texts."""
    rows = []
    for size in BATCH_SIZES:
        # Small batches repeat within a round so each timing lasts long enough to mean something.
        calls = max(1, 64 // size)
        rates: dict[str, list[float]] = {name: [] for name in sides}
        for embed in sides.values():
            embed(texts[:size])
        for round_index in range(rounds):
            for name, embed in sides.items():
                start = time.perf_counter()
                for call in range(calls):
                    offset = ((round_index * calls + call) * size) % (len(texts) - size)
                    embed(texts[offset : offset + size])
                rates[name].append(size * calls / (time.perf_counter() - start))
        row: dict[str, Any] = {"batch": size}
        for name, values in rates.items():
            row[name] = round(float(np.median(values)), 1)
        rows.append(row)
        log(json.dumps(row))
    return rows


def contended(sides: dict[str, Embed], count: int, repetitions: int) -> dict[str, dict[str, float]]:
    """query_latency while `count` processes spin beside it."""
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=burn, args=(stop,), daemon=True) for _ in range(count)]
    for burner in burners:
        burner.start()
    try:
        time.sleep(0.5)
        return query_latency(sides, repetitions)
    finally:
        stop.set()
        for burner in burners:
            burner.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300, help="single-query repetitions per side")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per batch size")
    parser.add_argument("--no-contention", action="store_true", help="skip the run beside busy processes")
    args = parser.parse_args()

    import torch

    torch_embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    onnx_embedder = OnnxEmbedder("all-MiniLM-L6-v2")
    onnx_two = OnnxEmbedder("all-MiniLM-L6-v2", threads=2)
    texts = sentences(4_000, seed=11)
    log(f"torch threads {torch.get_num_threads()}, onnx export {onnx_embedder.onnx_path.name}")

    check = texts[:256] + QUESTIONS
    cosine = float((np.asarray(torch_embedder.embed(check)) * onnx_embedder.embed_array(check)).sum(axis=1).min())
    payload: dict[str, Any] = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "torch": f"{torch.__version__}, {torch.get_num_threads()} threads",
        "onnx_file": onnx_embedder.onnx_path.name,
        "lowest_cosine": round(cosine, 6),
        "texts_checked": len(check),
        "load_average_before": round(os.getloadavg()[0], 2),
    }
    log(f"lowest cosine torch/onnx over {len(check)} texts: {cosine:.6f}")

    singles: dict[str, Embed] = {"torch": torch_embedder.embed, "onnx": onnx_embedder.embed}
    payload["query"] = query_latency(singles, args.queries)
    log(json.dumps(payload["query"]))

    sides: dict[str, Embed] = {**singles, "onnx_2_threads": onnx_two.embed}
    payload["batches"] = batch_throughput(sides, texts, args.rounds)

    if not args.no_contention:
        payload["query_contended"] = []
        for count in sorted({1, os.cpu_count() or 2}):
            figures = contended(singles, count, max(100, args.queries // 2))
            payload["query_contended"].append({"busy_processes": count, **figures})
            log(json.dumps(payload["query_contended"][-1]))
    payload["load_average_after"] = round(os.getloadavg()[0], 2)
    write_results(payload)


def write_results(payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    query = payload["query"]
    lines = [
        "# embed benchmark",
        "",
        f"Run {payload['started']} on {payload['machine']}; torch {payload['torch']}; onnxruntime with 1 "
        f"intra-op thread (`{payload['onnx_file']}`). Same weights, same texts, interleaved in one run. "
        f"Lowest cosine between the two sides' vectors over {payload['texts_checked']} texts: "
        f"{payload['lowest_cosine']}. One-minute load average {payload['load_average_before']} before, "
        f"{payload['load_average_after']} after (others' work on the same cores).",
        "",
        "## One short query (ms)",
        "",
        "| condition | torch p50 | torch p95 | onnx p50 | onnx p95 | p50 ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    conditions = [("no busy process", query)]
    for entry in payload.get("query_contended", []):
        count = entry["busy_processes"]
        conditions.append((f"{count} busy process{'es' if count > 1 else ''} beside", entry))
    for label, figures in conditions:
        ratio = figures["torch"]["p50_ms"] / figures["onnx"]["p50_ms"]
        lines.append(
            f"| {label} | {figures['torch']['p50_ms']} | {figures['torch']['p95_ms']} | "
            f"{figures['onnx']['p50_ms']} | {figures['onnx']['p95_ms']} | {ratio:.2f}x |"
        )
    lines += [
        "",
        "## Batches of memory texts (texts/s, median of rounds)",
        "",
        "| batch | torch | onnx (1 thread) | onnx (2 threads) |",
        "|---:|---:|---:|---:|",
    ]
    for row in payload["batches"]:
        lines.append(f"| {row['batch']} | {row['torch']} | {row['onnx']} | {row['onnx_2_threads']} |")
    lines += [
        "",
        'The default embedder (`embedder.backend = "onnx"`) runs calls of fewer than 8 texts on the 1-thread '
        "session and larger ones on the 2-thread session; torch serves only when no export can be loaded.",
    ]
    (RESULTS / "embed.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

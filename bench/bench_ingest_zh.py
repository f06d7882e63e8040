"""Adds of Chinese and English paragraphs batch after batch into one cube each: does an add slow down as the
cube grows, and how does it compare with the raw embedder on the same texts in the same run?

    bash bench/run.sh ingest_zh [--data cmrc2018_trial.json] [--locomo locomo-dev.json] [--batches 6]
                                [--batch 50] [--bolt-port 7861 --http-port 7961]

The protocol of shared/reports/chinese-ingest-2026-12.md: `MOS.add(memory_content=[50 paragraphs])` into one
cube, batch after batch; Chinese paragraphs are CMRC contexts (~540 characters), English ones LoCoMo turns
joined into paragraphs of about the same length. Each batch is timed whole (add) and the embedder alone on
the same texts right after (so the difference is the graph's: postings, vectors, the write), on a Neo4j of
the benchmark's own, emptied before and wiped after. The two languages alternate batch by batch, so drift on
this shared machine hits both alike. Writes bench/results/ingest-zh.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.bench_core import RESULTS, log
from bench.bench_embed_zh import DEFAULT_CMRC, DEFAULT_LOCOMO, cmrc, locomo_turns

if TYPE_CHECKING:
    from memos_graph.services.runtime import Runtime


def english_paragraphs(path: Path, count: int, length: int) -> list[str]:
    """LoCoMo turns joined (in order) into `count` paragraphs of about `length` characters."""
    paragraphs: list[str] = []
    current: list[str] = []
    for turn in locomo_turns(path, 100_000):
        current.append(turn)
        if sum(len(t) + 1 for t in current) >= length:
            paragraphs.append(" ".join(current))
            current = []
            if len(paragraphs) == count:
                break
    return paragraphs


def run(runtime: Runtime, texts: dict[str, list[str]], batch: int) -> dict[str, Any]:
    from memos_graph import MOS, UserRole

    mos = MOS(runtime.config, runtime=runtime)
    user = mos.create_user(f"ingest-{uuid.uuid4().hex[:8]}", UserRole.USER)
    cubes = {language: mos.create_cube_for_user(f"ingest-{language}", owner_id=user) for language in texts}
    runtime.embedder.embed(["warm up", "预热"])
    rows: dict[str, list[dict[str, float]]] = {language: [] for language in texts}
    batches = min(len(paragraphs) for paragraphs in texts.values()) // batch
    for index in range(batches):
        for language, paragraphs in texts.items():
            chunk = paragraphs[index * batch : (index + 1) * batch]
            started = time.perf_counter()
            added = mos.add(memory_content=chunk, mem_cube_id=cubes[language], user_id=user)
            add_s = time.perf_counter() - started
            if len(added) != len(chunk):
                raise RuntimeError(f"add returned {len(added)} ids for {len(chunk)} texts")
            started = time.perf_counter()
            runtime.embedder.embed(chunk)
            embed_s = time.perf_counter() - started
            rows[language].append({"before": index * batch, "add_s": add_s, "embed_s": embed_s})
            log(f"{language} batch {index + 1}: add {add_s:.2f} s, embedder {embed_s:.2f} s")
    return {"rows": rows, "embedder": runtime.embedder.model_name}


def main() -> None:
    from bench.bench_locomo import on_own_neo4j

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_CMRC)
    parser.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--bolt-port", type=int, default=7861)
    parser.add_argument("--http-port", type=int, default=7961)
    parser.add_argument("--keep-neo4j", action="store_true")
    args = parser.parse_args()
    count = args.batches * args.batch
    contexts, _ = cmrc(args.data)
    chinese = contexts[:count]
    length = round(sum(len(text) for text in chinese) / len(chinese))
    texts = {"zh": chinese, "en": english_paragraphs(args.locomo, count, length)}
    figures = on_own_neo4j(args, lambda runtime: run(runtime, texts, args.batch))
    payload = {
        "run": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "batch": args.batch,
        "mean_chars": {language: sum(map(len, t)) / len(t) for language, t in texts.items()},
        **figures,
    }
    (RESULTS / "ingest-zh.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "ingest-zh.md").write_text(report(payload))
    log(f"wrote {RESULTS / 'ingest-zh.md'}")


def report(payload: dict[str, Any]) -> str:
    rows = payload["rows"]
    lines = [
        "# ingest-zh: Chinese and English adds, batch after batch into one cube each",
        "",
        f"Run {payload['run']} on {payload['machine']}, 2 cores; embedder `{payload['embedder']}`; a Neo4j of the "
        f"benchmark's own. `MOS.add(memory_content=[{payload['batch']} paragraphs])` per batch; paragraphs of "
        f"{payload['mean_chars']['zh']:.0f} characters (Chinese, CMRC contexts) and "
        f"{payload['mean_chars']['en']:.0f} (English, LoCoMo turns joined); languages alternate batch by batch. "
        "Embedder: the same texts embedded alone right after each add. `bash bench/run.sh ingest_zh`.",
        "",
        "| memories already in the cube | zh add s | zh embedder s | zh add - embedder | en add s "
        "| en embedder s | en add - embedder |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for zh, en in zip(rows["zh"], rows["en"], strict=True):
        lines.append(
            f"| {zh['before']} | {zh['add_s']:.2f} | {zh['embed_s']:.2f} | {zh['add_s'] - zh['embed_s']:.2f} "
            f"| {en['add_s']:.2f} | {en['embed_s']:.2f} | {en['add_s'] - en['embed_s']:.2f} |"
        )
    for language in ("zh", "en"):
        add = sum(row["add_s"] for row in rows[language])
        embed = sum(row["embed_s"] for row in rows[language])
        count = len(rows[language]) * payload["batch"]
        lines.append("")
        lines.append(
            f"{language}: {count} paragraphs in {add:.1f} s of adds, {count / add:.1f} paragraphs/s; the embedder "
            f"alone {embed:.1f} s ({count / embed:.1f}/s); add / embedder time {add / embed:.2f}."
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

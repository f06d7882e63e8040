"""The data-version 4 migration's cost: rebuilding the BM25 postings of Chinese memories written by analyzer 1.

    python -m bench.bench_reindex --data ../shared/data/cmrc-trial/cmrc2018_trial.json
        [--chinese 20000] [--english 20000] [--cubes 10]

Builds a version-3 graph on an empty Neo4j of its own: `--cubes` cubes holding `--chinese` memories (the
sentences of the file's paragraphs, split at 。！？, numbered when repeated) and `--english` generated English
ones (bench/corpus.py), written through the repository call add uses (random vectors: the migration never
reads them), then the Chinese memories' postings replaced by those analyzer 1 wrote (a run of CJK characters
one term) and the data version set back to 3. Then times graph/schema.py reindex_terms: the one scan of the
graph that finds the cubes holding CJK text, and the whole migration; checks every memory's postings against
the analyzer's afterwards. Writes bench/results/reindex.json and reindex.md, with the extrapolation to
1,000,000 memories (linear in the memories re-indexed plus the scan over all memories, stated as such).
Refuses a Neo4j holding data; deletes what it wrote at the end.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from neo4j import ManagedTransaction

from bench.bench_core import RESULTS, cleanup, load_cube, log
from bench.corpus import sentences
from memos_graph import MOS, MOSConfig
from memos_graph.graph import schema
from memos_graph.graph.memories import posting_fields
from memos_graph.graph.store import run_named
from memos_graph.ranking.analyzer import ANALYZER_VERSION, EAST_ASIAN_TEXT_JAVA
from memos_graph.services.runtime import Runtime
from testkit.multilingual import version_one_terms

REWRITE_BATCH = 500


def chinese_sentences(path: Path, count: int) -> list[str]:
    """`count` distinct sentences of the file's paragraphs (cmrc2018 squad-style JSON)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            found += [s.strip() for s in re.split(r"(?<=[。！？])", paragraph["context"]) if len(s.strip()) > 4]
    unique = list(dict.fromkeys(found))
    return [unique[i % len(unique)] + ("" if i < len(unique) else f"（{i // len(unique)}）") for i in range(count)]


def _write_version_one(tx: ManagedTransaction, cube_id: str, rows: list[tuple[str, str]]) -> None:
    for memory_id, text in rows:
        terms = version_one_terms(text)
        postings = [{"term": t, "tf": n} for t, n in sorted(Counter(terms).items())]
        run_named(
            tx, "memory_terms_replace", cube_id=cube_id, memory_id=memory_id, length=len(terms), postings=postings
        )


def to_version_three(rt: Runtime, cube_ids: list[str]) -> int:
    """Replace the Chinese memories' postings by analyzer 1's, unmark the cubes, set the data version to 3."""
    rewritten = 0
    for cube_id in cube_ids:
        rows = rt.store.run_statement(
            "MATCH (:MemCube {id: $cube})-[:HAS_MEMORY]->(m:Memory) WHERE m.memory =~ $pattern "
            "RETURN m.id AS id, m.memory AS memory",
            cube=cube_id,
            pattern=EAST_ASIAN_TEXT_JAVA,
        )
        pairs = [(str(r["id"]), str(r["memory"])) for r in rows]
        for start in range(0, len(pairs), REWRITE_BATCH):
            rt.store.run_write(partial(_write_version_one, cube_id=cube_id, rows=pairs[start : start + REWRITE_BATCH]))
        rewritten += len(pairs)
        rt.store.run_statement("MATCH (c:MemCube {id: $id}) REMOVE c.terms_analyzer, c.terms_reindexed_to", id=cube_id)
    rt.store.run_statement("MATCH (s:MemosGraphSchema {id: 'memos-graph'}) SET s.data_version = 3")
    return rewritten


def check(rt: Runtime, cube_ids: list[str]) -> int:
    """Every memory's stored postings are the analyzer's, every cube's total length their sum; mismatches."""
    wrong = 0
    for cube_id in cube_ids:
        rows = rt.store.run_statement(
            "MATCH (c:MemCube {id: $cube})-[:HAS_MEMORY]->(m:Memory) "
            "RETURN c.term_total AS total, m.memory AS memory, m.term_count AS length, "
            "COLLECT { MATCH (m)-[p:HAS_TERM]->(t:Term) RETURN {term: t.term, tf: p.tf} ORDER BY t.term } AS postings",
            cube=cube_id,
        )
        wrong += sum(
            posting_fields(str(r["memory"])) != {"length": r["length"], "postings": r["postings"]} for r in rows
        )
        wrong += int(rows[0]["total"] != sum(int(r["length"]) for r in rows))
    return wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="cmrc2018_trial.json (squad-style)")
    parser.add_argument("--chinese", type=int, default=20_000)
    parser.add_argument("--english", type=int, default=20_000)
    parser.add_argument("--cubes", type=int, default=10)
    parser.add_argument("--name", default="reindex")
    args = parser.parse_args()

    config = MOSConfig.load()
    rt = Runtime.start(config, apply_schema=True)
    held = rt.store.run_statement(
        "MATCH (n) WHERE NOT n:MemosGraphSchema AND NOT n:MemosGraphTestSuite RETURN count(n) AS n"
    )
    if int(held[0]["n"]):
        raise SystemExit("this Neo4j holds data: run the benchmark on an empty Neo4j of its own")
    root = MOS(config, runtime=rt)
    owner = root.create_user("bench-reindex")
    cube_ids = [root.create_cube_for_user(f"reindex-{i}", owner_id=owner) for i in range(args.cubes)]
    chinese, english = chinese_sentences(args.data, args.chinese), sentences(args.english)
    rng = np.random.default_rng(3)
    try:
        for index, cube_id in enumerate(cube_ids):
            texts = chinese[index :: args.cubes] + english[index :: args.cubes]
            vectors = rng.standard_normal((len(texts), rt.embedder.dimension)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            load_cube(rt, cube_id, owner, texts, vectors, 0)
        started = time.perf_counter()
        rewritten = to_version_three(rt, cube_ids)
        log(f"version-3 state: {rewritten} postings rewritten in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        pending = rt.store.read(
            "cube_terms_reindex_pending", pattern=EAST_ASIAN_TEXT_JAVA, analyzer_version=ANALYZER_VERSION
        )
        scan_s = time.perf_counter() - started
        started = time.perf_counter()
        schema.reindex_terms(rt.store)
        migration_s = time.perf_counter() - started
        total = args.chinese + args.english
        wrong = check(rt, cube_ids)
        per_thousand = migration_s / args.chinese * 1000
        scan_per_million = scan_s / total * 1_000_000
        payload: dict[str, Any] = {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} ({platform.machine()}, {platform.python_version()})",
            "cubes": args.cubes,
            "chinese_memories": args.chinese,
            "english_memories": args.english,
            "cubes_found": len(pending),
            "scan_s": round(scan_s, 2),
            "migration_s": round(migration_s, 2),
            "seconds_per_1000_chinese": round(per_thousand, 2),
            "memories_mismatched_after": wrong,
            "extrapolated_1m_all_chinese_s": round(per_thousand * 1000 + scan_per_million, 0),
            "extrapolated_1m_no_cjk_s": round(scan_per_million, 1),
        }
    finally:
        cleanup(rt, owner)
        rt.close()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        f"# {args.name} benchmark",
        "",
        f"Run {payload['started']} on {payload['machine']}: graph/schema.py reindex_terms (data version 4) over a",
        f"version-3 graph of {args.chinese} Chinese and {args.english} English memories in {args.cubes} cubes.",
        "",
        "| scan for cubes with CJK text (s) | whole migration (s) | s per 1,000 Chinese memories | "
        "mismatched after | 1M memories, all Chinese (s, extrapolated) | 1M memories, none CJK (s, extrapolated) |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {payload['scan_s']} | {payload['migration_s']} | {payload['seconds_per_1000_chinese']} | {wrong} | "
        f"{payload['extrapolated_1m_all_chinese_s']} | {payload['extrapolated_1m_no_cjk_s']} |",
        "",
        "Extrapolation, not a measurement at 1M: the per-memory cost of this run times 1,000,000 (re-indexing is",
        "linear in the memories re-indexed, batch by batch; the scan linear in the graph's memories).",
    ]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    log("\n".join(lines))


if __name__ == "__main__":
    main()

"""Cube dump and import at scale: time, throughput, file size and peak memory of each.

    python -m bench.bench_transfer [--memories 100000] [--keep] [--baseline CHECKOUT]

Seeds one cube with generated memories (vectors from bench/corpus.py's cached pool), then runs the dump and
the import each in its own child process, so each one's peak resident memory is its own (ru_maxrss, with the
process's resident size just before the operation, embedder loaded, reported alongside). Checks that the
imported cube holds as many memories as the original and that sampled texts and vectors match. With
--baseline (a checkout of earlier code, e.g. `git worktree add /tmp/old <commit>`), the same file is imported
a second time by that code in the same run, and the two are reported side by side. Writes
bench/results/transfer.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bench.baseline import commit_of, run_child
from bench.bench_core import CACHE, RESULTS, cleanup, load_cube, log
from bench.corpus import noisy_vectors, pool_vectors, sentences
from memos_graph import MOS, MOSConfig, UserRole
from testkit.servers import memory_mb


def rss_mb() -> float:
    """This process's current resident memory."""
    return memory_mb(os.getpid())["rss_mb"]


class PeakSampler:
    """Samples this process's resident memory every 20 ms while an operation runs (ru_maxrss would also
    count the model loading that came before)."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def phase(name: str, owner: str, cube_id: str, directory: str, target: str) -> None:
    """Child process: one dump or import, timed; prints its figures as JSON."""
    config = MOSConfig.load().model_copy(update={"user_id": owner})
    with MOS(config) as mos:
        before = rss_mb()
        start = time.perf_counter()
        with PeakSampler() as sampler:
            if name == "dump":
                mos.dump(directory, mem_cube_id=cube_id)
            else:
                mos.register_mem_cube(directory, mem_cube_id=target)
        elapsed = time.perf_counter() - start
    figures = {"seconds": round(elapsed, 2), "rss_before_mb": round(before, 1), "peak_rss_mb": round(sampler.peak, 1)}
    print(json.dumps(figures))


def run_phase(
    name: str, owner: str, cube_id: str, directory: Path, target: str, checkout: Path | None = None
) -> dict[str, Any]:
    """Run a phase in a fresh interpreter (of another checkout's code, for the baseline) and parse its figures."""
    command = [
        sys.executable,
        "-m",
        "bench.bench_transfer",
        "--phase",
        name,
        "--owner",
        owner,
        "--cube",
        cube_id,
        "--dir",
        str(directory),
        "--target",
        target,
    ]
    return run_child(command, checkout, f"the {name} phase")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's user and cubes")
    parser.add_argument("--baseline", type=Path, help="a checkout of earlier code: its import runs too, same file")
    parser.add_argument("--phase", choices=["dump", "import"], help=argparse.SUPPRESS)
    parser.add_argument("--owner", help=argparse.SUPPRESS)
    parser.add_argument("--cube", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        phase(args.phase, args.owner, args.cube, args.dir, args.target)
        return

    token = uuid.uuid4().hex[:8]
    owner, cube_id, target = f"bench-transfer-{token}", f"bench-dump-{token}", f"bench-import-{token}"
    workdir = Path(tempfile.mkdtemp(prefix="memos-transfer-bench-"))
    payload: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "memories": args.memories,
    }
    with MOS(MOSConfig.load(), apply_schema=True) as mos:
        try:
            mos.create_user(owner, UserRole.USER)
            mos.create_cube_for_user("transfer bench", owner, cube_id=cube_id)
            texts = sentences(args.memories, seed=11)
            pool = pool_vectors(mos.runtime.embedder, sentences(20_000), CACHE)
            vectors = noisy_vectors(pool, args.memories, seed=11)
            log(f"seeding {args.memories} memories")
            load_cube(mos.runtime, cube_id, owner, texts, vectors, 0)

            log("dump")
            payload["dump"] = run_phase("dump", owner, cube_id, workdir / "dump", target)
            size = (workdir / "dump" / "textual_memory.json").stat().st_size
            payload["dump"]["file_mb"] = round(size / 2**20, 1)
            payload["dump"]["memories_per_s"] = round(args.memories / payload["dump"]["seconds"])
            log(json.dumps(payload["dump"]))

            log("import")
            payload["import"] = run_phase("import", owner, cube_id, workdir / "dump", target)
            payload["import"]["memories_per_s"] = round(args.memories / payload["import"]["seconds"])
            log(json.dumps(payload["import"]))

            payload["check"] = verify(mos, owner, cube_id, target)
            log(json.dumps(payload["check"]))
            if args.baseline is not None:
                log(f"import with the baseline code of {args.baseline}")
                baseline_target = f"{target}-baseline"
                payload["baseline_import"] = run_phase(
                    "import", owner, cube_id, workdir / "dump", baseline_target, args.baseline.resolve()
                )
                payload["baseline_import"]["code"] = commit_of(args.baseline)
                payload["baseline_import"]["memories_per_s"] = round(
                    args.memories / payload["baseline_import"]["seconds"]
                )
                log(json.dumps(payload["baseline_import"]))
                payload["baseline_check"] = verify(mos, owner, cube_id, baseline_target)
            write_results(payload)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
            if not args.keep:
                cleanup(mos.runtime, owner)


def verify(mos: MOS, owner: str, original: str, copy: str) -> dict[str, Any]:
    """Same number of memories; a sample of texts present in both with (nearly) the same vectors."""
    store = mos.runtime.store
    counts = {
        cube: int(store.run_statement("MATCH (m:Memory {cube_id: $c}) RETURN count(m) AS n", c=cube)[0]["n"])
        for cube in (original, copy)
    }
    rows = store.run_statement(
        "MATCH (a:Memory {cube_id: $a}) WITH a ORDER BY a.created_at LIMIT 500 "
        "MATCH (b:Memory {cube_id: $b, content_hash: a.content_hash}) RETURN a.embedding AS x, b.embedding AS y",
        a=original,
        b=copy,
    )
    cosines = [
        float(np.dot(row["x"], row["y"]) / (np.linalg.norm(row["x"]) * np.linalg.norm(row["y"]))) for row in rows
    ]
    return {
        "original_memories": counts[original],
        "imported_memories": counts[copy],
        "sampled": len(rows),
        "min_vector_cosine": round(min(cosines), 8) if cosines else None,
    }


def write_results(payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "transfer.json").write_text(json.dumps(payload, indent=2) + "\n")
    dump, imported, check = payload["dump"], payload["import"], payload["check"]
    lines = [
        "# transfer benchmark",
        "",
        f"Run {payload['started']} on {payload['machine']}: one cube of {payload['memories']} memories "
        "(384-d vectors), dumped to a MemOS tree_text directory, then imported as a new cube. Each operation "
        "ran in its own process; RSS before = that process with the embedder loaded, just before the call.",
        "",
        "| operation | seconds | memories/s | RSS before (MB) | peak RSS (MB) | file (MB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| dump | {dump['seconds']} | {dump['memories_per_s']} | {dump['rss_before_mb']} | {dump['peak_rss_mb']} | "
        f"{dump['file_mb']} |",
        f"| import | {imported['seconds']} | {imported['memories_per_s']} | {imported['rss_before_mb']} | "
        f"{imported['peak_rss_mb']} | |",
        "",
        f"Check: {check['original_memories']} memories dumped, {check['imported_memories']} imported; "
        f"{check['sampled']} sampled vectors, lowest cosine to the original {check['min_vector_cosine']}.",
    ]
    base = payload.get("baseline_import")
    if base is not None:
        growth = imported["peak_rss_mb"] - imported["rss_before_mb"]
        base_growth = base["peak_rss_mb"] - base["rss_before_mb"]
        lines += [
            "",
            f"Same run, same file, imported again by the baseline code ({base['code']}), after the import above:",
            "",
            "| import | seconds | memories/s | RSS before (MB) | peak RSS (MB) | peak growth (MB) |",
            "|---|---:|---:|---:|---:|---:|",
            f"| this code | {imported['seconds']} | {imported['memories_per_s']} | {imported['rss_before_mb']} | "
            f"{imported['peak_rss_mb']} | {growth:.1f} |",
            f"| baseline | {base['seconds']} | {base['memories_per_s']} | {base['rss_before_mb']} | "
            f"{base['peak_rss_mb']} | {base_growth:.1f} |",
            f"| ratio (this / baseline) | {imported['seconds'] / base['seconds']:.2f} | | | | "
            f"{growth / base_growth:.3f} |",
            "",
            f"Baseline check: {payload['baseline_check']['imported_memories']} imported.",
        ]
    (RESULTS / "transfer.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

"""An import's memory against the number of edges in its file (issue 22, M3).

    python -m bench.bench_transfer_edges [--edges 1000000] [--baseline DIR]

Writes a tree_text file of N dangling edges and no nodes (the probe report's `mk.py edges`), then runs the
import's validating pass (the shape pass and ImportSurvey.take, which refuse the first edge) in a child process
and reports how far its resident memory grew above what it was just before (sampled every 10 ms). With
--baseline DIR (a directory holding an earlier memos_graph package, e.g. `git archive 118547d memos_graph |
tar -x -C DIR`), the same file is also surveyed by that code. Writes bench/results/transfer-edges.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_core import RESULTS

# Run in the child: survey the file, print {"grew_mb", "seconds", "error"} as JSON.
CHILD = r"""
import json, os, sys, threading, time
from pathlib import Path
from typing import Any
directory = Path(sys.argv[1])

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

from memos_graph.cube_format.entries import CubeFormatError, unknown_source
from memos_graph.cube_format.reader import TextualMemoryFile
from memos_graph.services.import_survey import ImportSurvey
from memos_graph.config import LimitSettings
from memos_graph.errors import InvalidInput

before = rss_mb()
peak = [before]
done = threading.Event()
def sample():
    while not done.wait(0.01):
        peak[0] = max(peak[0], rss_mb())
threading.Thread(target=sample, daemon=True).start()
began = time.perf_counter()
error = None
try:
    try:
        file = TextualMemoryFile(directory, 10**10)
        limits = LimitSettings()
    except CubeFormatError:  # earlier code: the file's own path, and the text limit as a number
        file = TextualMemoryFile(directory / "textual_memory.json", 10**10)
        limits = LimitSettings().max_memory_chars
    shape = file.shape("tree_text")
    ImportSurvey.take(unknown_source("tree_text"), file, shape, limits, 384)
except (CubeFormatError, InvalidInput) as exc:
    error = str(exc)
seconds = time.perf_counter() - began
done.set()
peak[0] = max(peak[0], rss_mb())
print(json.dumps({"grew_mb": peak[0] - before, "seconds": seconds, "error": error}))
"""


def survey(directory: Path, package_root: Path | None) -> dict[str, Any]:
    """The child's figures, with `package_root` (earlier code) first on the path when given."""
    env = dict(os.environ)
    if package_root is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(package_root), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(directory)],
        env=env,
        cwd=directory.parent,  # not the checkout: `python -c` puts the working directory first on the path
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "edges"
        directory.mkdir()
        path = directory / "textual_memory.json"
        with path.open("w") as out:
            out.write('{"nodes": [], "edges": [')
            out.write(
                ",".join(
                    json.dumps({"source": f"s{i}", "target": f"t{i}", "type": "RELATED"}) for i in range(args.edges)
                )
            )
            out.write("]}")
        size_mb = path.stat().st_size / 2**20
        rows = [("this checkout", survey(directory, None))]
        if args.baseline is not None:
            rows.append((f"baseline ({args.baseline})", survey(directory, args.baseline)))
    lines = [
        "# Import memory against the number of edges (issue 22, M3)",
        "",
        f"`python -m bench.bench_transfer_edges --edges {args.edges}`: a tree_text file of {args.edges:,}",
        f"dangling edges and no nodes ({size_mb:.0f} MB), surveyed (shape pass + ImportSurvey.take) in a child",
        "process; the growth is the peak resident memory above the resident memory just before the survey.",
        "",
        "| code | RSS growth (MB) | seconds | answer |",
        "|---|---|---|---|",
    ]
    for name, row in rows:
        lines.append(f"| {name} | {float(row['grew_mb']):.0f} | {float(row['seconds']):.1f} | {row['error']} |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "transfer-edges.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

"""Same-run baselines: this code and an earlier checkout's measured side by side on one seeded graph.

This machine's speed drifts from minute to minute, and two benchmark runs back to back showed order effects
of 10-20 % (bench/results/refactor-cmp.md). So the seeded graph is shared and the measured phases of the two
codes alternate, in several rounds with the order swapped each round (A B, B A, ...), each phase in a fresh
interpreter whose PYTHONPATH is the checkout it measures. A phase is bench/baseline_phase.py of this
checkout run by path, so the baseline checkout needs no phase mode of its own; it may only use API that both
codes share (MOS, MOSConfig, the GraphQL server as `python -m graphql_schema`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.stats import summary_ms

REPO = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "baseline_phase.py"
RESULTS = Path(__file__).resolve().parent / "results"

MODULES = ("memos_graph", "graphql_schema")
Samples = dict[str, list[float]]
"""Seconds per operation, by path (e.g. "mos_search")."""


@dataclass(frozen=True)
class Code:
    """One of the two codes compared: `this` (the repository this file is in) or `baseline`."""

    name: str
    checkout: Path
    commit: str


def add_arguments(parser: argparse.ArgumentParser, measured: str, results: str) -> None:
    """--baseline and --rounds, for a benchmark that has a same-run baseline mode."""
    parser.add_argument(
        "--baseline",
        type=Path,
        help=f"a checkout of earlier code (git worktree add /tmp/old <commit>): {measured} of both codes "
        f"alternately on one seeded graph; results in {results}",
    )
    parser.add_argument("--rounds", type=int, default=4, help="with --baseline: rounds of both codes")


def write_results(name: str, payload: Mapping[str, Any], lines: Sequence[str]) -> None:
    """bench/results/<name>.json with every sample, <name>.md with the tables."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def commit_of(checkout: Path) -> str:
    """The checkout's commit, short hash and subject, for the results."""
    done = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    return done.stdout.strip()[:100] or str(checkout)


def both_codes(baseline: Path) -> tuple[Code, Code]:
    """This checkout and the baseline checkout, in that order."""
    old = baseline.resolve()
    if not (old / "memos_graph").is_dir():
        sys.exit(f"--baseline {baseline}: no memos_graph/ there (make one with `git worktree add {baseline} <commit>`)")
    return Code("this", REPO, commit_of(REPO)), Code("baseline", old, commit_of(old))


def run_child(command: Sequence[str], checkout: Path | None, what: str) -> dict[str, Any]:
    """Run a fresh interpreter on `checkout`'s code (PYTHONPATH and working directory; None: as inherited) and
    return the JSON object its last line of output holds."""
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    done = subprocess.run(list(command), capture_output=True, text=True, cwd=checkout, env=env)
    if done.returncode != 0:
        sys.exit(f"{what} failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_phase(code: Code, phase: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Run one phase of bench/baseline_phase.py on `code` and check it imported that checkout's memos_graph.

    `-P` keeps this file's directory off the child's sys.path, so only PYTHONPATH (the checkout) and the venv
    resolve imports."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="memos-baseline-") as file:
        json.dump(spec, file)
        file.flush()
        result = run_child([sys.executable, "-P", str(DRIVER), phase, file.name], code.checkout, f"{phase} {code.name}")
    for module, path in result["modules"].items():
        if not Path(path).resolve().is_relative_to(code.checkout):
            sys.exit(f"the {code.name} phase ran {module} from {path}, not from {code.checkout}")
    return result


def alternate(
    rounds: int, codes: tuple[Code, Code], measure: Callable[[Code, int], Samples], log: Callable[[str], None]
) -> list[dict[str, Samples]]:
    """Measure both codes in each round, the order swapped every round; round r's samples by code name."""
    results: list[dict[str, Samples]] = []
    for number in range(rounds):
        order = codes if number % 2 == 0 else codes[::-1]
        results.append({})
        for code in order:
            log(f"round {number + 1}/{rounds}: {code.name} ({code.commit[:7]})")
            results[-1][code.name] = measure(code, number)
    return results


def compare(rounds: Sequence[Mapping[str, Samples]]) -> dict[str, dict[str, Any]]:
    """Per path: each code's p50/p95 pooled over the rounds, the ratio this / baseline of the pooled p50 (and
    p95), and the ratio of p50 in each round, so the noise between rounds is visible."""
    table: dict[str, dict[str, Any]] = {}
    for path in rounds[0]["this"]:
        pooled = {name: [s for one in rounds for s in one[name][path]] for name in ("this", "baseline")}
        this, base = summary_ms(pooled["this"]), summary_ms(pooled["baseline"])
        table[path] = {
            "this": this,
            "baseline": base,
            "ratio_p50": round(this["p50_ms"] / base["p50_ms"], 3),
            "ratio_p95": round(this["p95_ms"] / base["p95_ms"], 3),
            "round_ratios_p50": [
                round(float(np.median(one["this"][path]) / np.median(one["baseline"][path])), 3) for one in rounds
            ],
            "n": len(pooled["this"]),
        }
    return table


def markdown_table(comparison: Mapping[str, Mapping[str, Any]], labels: Mapping[str, str]) -> list[str]:
    """The comparison as a markdown table, one row per path."""
    lines = [
        "| path | this p50 | baseline p50 | ratio p50 | this p95 | baseline p95 | ratio p95 | ratio p50 per round |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for path, row in comparison.items():
        rounds = ", ".join(f"{ratio:.2f}" for ratio in row["round_ratios_p50"])
        lines.append(
            f"| {labels.get(path, path)} | {row['this']['p50_ms']} | {row['baseline']['p50_ms']} | "
            f"{row['ratio_p50']:.3f} | {row['this']['p95_ms']} | {row['baseline']['p95_ms']} | "
            f"{row['ratio_p95']:.3f} | {rounds} |"
        )
    return lines


def rates(rounds: Sequence[Mapping[str, Samples]], path: str, items: int) -> dict[str, Any]:
    """Throughput of a path whose samples together handled `items` per round (e.g. memories added): each
    code's items/s pooled over the rounds, the ratio this / baseline (above 1 is faster), and per round."""

    def per_s(samples: Sequence[float], count: int) -> float:
        return count / sum(samples)

    pooled = {
        name: per_s([s for one in rounds for s in one[name][path]], items * len(rounds))
        for name in ("this", "baseline")
    }
    return {
        "this_per_s": round(pooled["this"], 1),
        "baseline_per_s": round(pooled["baseline"], 1),
        "ratio": round(pooled["this"] / pooled["baseline"], 3),
        "round_ratios": [
            round(per_s(one["this"][path], items) / per_s(one["baseline"][path], items), 3) for one in rounds
        ],
    }


def rate_table(rate: Mapping[str, Any], unit: str) -> list[str]:
    """A throughput comparison from `rates` as a markdown table."""
    rounds = ", ".join(f"{ratio:.2f}" for ratio in rate["round_ratios"])
    return [
        f"| this {unit} | baseline {unit} | ratio (this / baseline; above 1 is faster) | ratio per round |",
        "|---:|---:|---:|---|",
        f"| {rate['this_per_s']} | {rate['baseline_per_s']} | {rate['ratio']:.3f} | {rounds} |",
    ]


def describe(codes: tuple[Code, Code], imported: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The two codes for a results file: commit, checkout and the modules' paths the phases imported."""
    return {code.name: {"commit": code.commit, "checkout": str(code.checkout), **imported[code.name]} for code in codes}


def header(codes: Mapping[str, Mapping[str, str]], rounds: int) -> list[str]:
    """The lines that say which commits were compared (as `describe` gives them) and how."""
    this, base = codes["this"], codes["baseline"]
    return [
        f"This code: `{this['commit']}` ({this['checkout']}). Baseline: `{base['commit']}` ({base['checkout']}).",
        "",
        "Imported by the phases: "
        + "; ".join(f"{name}: {', '.join(str(code[m]) for m in MODULES if m in code)}" for name, code in codes.items())
        + ".",
        "",
        f"Same run, same seeded graph and queries; {rounds} rounds, the two codes alternating (order swapped each "
        "round), each phase in a fresh interpreter on its checkout's code (memos_graph's path checked in the "
        "child). Latency ratio = this / baseline: below 1 is faster. p50/p95 pooled over the rounds (ms).",
        "",
    ]

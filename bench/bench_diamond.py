"""Fragment diamonds (security probe 2026-12, H2): how fast they are refused, and what a flood of them costs
another client, against the real server.

    python -m bench.bench_diamond [--samples 40] [--flood-clients 1,2] [--flood-s 10] [--victim-gap-s 0.02]

Starts the real server (python -m graphql_schema) as a subprocess on 127.0.0.1 on the Neo4j of the
environment, creates a GUEST (the attacker) and a USER (the victim) through the API, and measures in one run:

1. the refusal time of the 19-level and the 95-level diamond (testkit/diamond.py), --samples each, one at a
   time (target: every one within 50 ms);
2. the victim's `{ me { user { userId } } }`, one at a time --victim-gap-s apart: alone, then during floods
   (for each count in --flood-clients, that many clients sending diamonds of 19 and 95 levels back to back
   for --flood-s seconds, each text new (a comment differs, so no cache answers it), then the same flood of
   `{ __typename }` as a control), then alone again (target: p50 during the flood within 2x of alone, alone
   being both idle phases pooled).

Both run twice, each on a server of its own: with the budget of refused documents turned off
(MEMOS_REFUSED_DOCUMENT_BYTES_PER_S=0: what validation and parsing cost) and with the default budget (what a
server answers: once a caller's refused documents spent 64 KB, its documents are answered 429 unparsed).

Writes bench/results/diamond.json (every sample) and diamond.md; deletes its users at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.bench_load import CREATE_USER, apply_root_key, server_env
from bench.stats import percentile
from memos_graph.config import MOSConfig
from testkit.diamond import diamond
from testkit.servers import serve

RESULTS = Path(__file__).resolve().parent / "results"
VICTIM_QUERY = "{ me { user { userId } } }"
CONTROL_QUERY = "{ __typename }"
LEVELS = (19, 95)
REFUSAL_TARGET_MS = 50.0
FLOOD_TARGET_RATIO = 2.0


def log(message: str) -> None:
    print(f"[diamond] {message}", file=sys.stderr, flush=True)


def call(client: httpx.Client, key: str, query: str, **variables: Any) -> tuple[float, dict[str, Any]]:
    """POST one operation: seconds taken and the body (HTTP 200 required, or 429 for a spent budget)."""
    began = time.perf_counter()
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
    )
    seconds = time.perf_counter() - began
    if response.status_code not in (200, 429):
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return seconds, body


def refusal_reason(body: dict[str, Any]) -> str:
    """`code/reason` of the first error, or `data` when the request ran."""
    errors = body.get("errors") or []
    if not errors:
        return "data"
    extensions = errors[0].get("extensions") or {}
    return f"{extensions.get('code')}/{extensions.get('reason')}"


def summary(samples_s: list[float]) -> dict[str, Any]:
    ms = sorted(seconds * 1000 for seconds in samples_s)
    if not ms:
        return {"count": 0}
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(ms[-1], 2),
    }


def victim_phase(client: httpx.Client, key: str, seconds: float, gap_s: float) -> list[float]:
    """The victim's query one at a time, `gap_s` apart, for `seconds`."""
    samples: list[float] = []
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        took, body = call(client, key, VICTIM_QUERY)
        if body.get("errors"):
            raise RuntimeError(f"the victim's query failed: {body['errors']}")
        samples.append(took)
        time.sleep(gap_s)
    return samples


def run(base_url: str, root_key: str, args: argparse.Namespace, time_refusals: bool = True) -> dict[str, Any]:
    token = uuid.uuid4().hex[:8]
    made: list[str] = []
    with httpx.Client(base_url=base_url, timeout=120.0) as client:
        keys: dict[str, str] = {}
        for role in ("GUEST", "USER"):
            user_id = f"diamond-{token}-{role.lower()}"
            _, body = call(client, root_key, CREATE_USER, input={"id": user_id, "role": role})
            keys[role] = body["data"]["createUser"]["apiKey"]
            made.append(user_id)
        attacker, victim = keys["GUEST"], keys["USER"]
        try:
            result: dict[str, Any] = {"refusals": []}
            for _ in range(5):  # warm: connection, key cache, parse cache
                call(client, victim, VICTIM_QUERY)
                for levels in LEVELS:
                    call(client, attacker, diamond(levels))
            for levels in LEVELS if time_refusals else ():
                # The same text again (answered from the caches after its first time), and a new text each
                # time (a comment differs: parsed and measured every time).
                for fresh in (False, True):
                    mode = "new text each time" if fresh else "same text"

                    def text_of(n: int, levels: int = levels, fresh: bool = fresh) -> str:
                        return f"{diamond(levels)}\n# {token} {n}" if fresh else diamond(levels)

                    samples, reasons = [], set()
                    for n in range(args.samples):
                        took, body = call(client, attacker, text_of(n))
                        samples.append(took)
                        reasons.add(refusal_reason(body))
                    row = {
                        "levels": levels,
                        "mode": mode,
                        "characters": len(text_of(0)),
                        "answers": sorted(reasons),
                        **summary(samples),
                        "samples_ms": [round(s * 1000, 3) for s in samples],
                    }
                    result["refusals"].append(row)
                    log(f"{levels} levels, {mode}: {row['p50_ms']} ms p50, max {row['max_ms']}, {sorted(reasons)}")
            idle_before = victim_phase(client, victim, args.idle_s, args.victim_gap_s)
            floods = []
            for clients in args.flood_clients:
                # Diamonds, then the same flood of the cheapest query there is (the control: what any
                # back-to-back flood of this many clients costs the victim here).
                for kind, make in (
                    ("diamonds, a new text each", lambda n, c=clients: f"{diamond(LEVELS[n % 2])}\n# {token} {c} {n}"),
                    (f"`{CONTROL_QUERY}` (control)", lambda n: CONTROL_QUERY),
                ):
                    during, flood = flood_phase(base_url, client, attacker, victim, args, clients, make)
                    floods.append({"kind": kind, **flood, "victim": summary(during), "victim_samples_ms": during})
            idle_after = victim_phase(client, victim, args.idle_s, args.victim_gap_s)
        finally:
            for user_id in made:
                call(client, root_key, "mutation($u: ID!) { deleteUser(userId: $u) }", u=user_id)
    idle = summary(idle_before + idle_after)
    for flood in floods:
        flood["victim_p50_ratio"] = round(flood["victim"]["p50_ms"] / idle["p50_ms"], 2)
        flood["victim_samples_ms"] = [round(seconds * 1000, 3) for seconds in flood["victim_samples_ms"]]
    result["victim_alone"] = {
        "before": summary(idle_before),
        "after": summary(idle_after),
        "both": idle,
        "samples_ms": [round(seconds * 1000, 3) for seconds in idle_before + idle_after],
    }
    result["floods"] = floods
    return result


def flood_phase(
    base_url: str,
    client: httpx.Client,
    attacker: str,
    victim: str,
    args: argparse.Namespace,
    clients: int,
    document: Callable[[int], str],
) -> tuple[list[float], dict[str, Any]]:
    """`clients` clients sending document(n) back to back while the victim queries: the victim's
    samples, and the flood's figures."""
    stop = threading.Event()
    samples: list[float] = []
    answers: set[str] = set()
    lock = threading.Lock()

    def flooder(index: int) -> None:
        with httpx.Client(base_url=base_url, timeout=120.0) as own:
            n = index
            while not stop.is_set():
                took, body = call(own, attacker, document(n))
                n += 1
                with lock:
                    samples.append(took)
                    answers.add(refusal_reason(body))

    threads = [threading.Thread(target=flooder, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the flood is under way
    during = victim_phase(client, victim, args.flood_s, args.victim_gap_s)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return during, {
        "clients": clients,
        "seconds": args.flood_s,
        "answers": sorted(answers),
        "requests": len(samples),
        "requests_per_s": round(len(samples) / (args.flood_s + 0.5), 1),
        **summary(samples),
    }


def write_results(payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "diamond.json").write_text(json.dumps(payload, indent=2) + "\n")
    run_result = payload["result"]["budget_off"]
    lines = [
        "# fragment diamonds (security probe 2026-12, H2)",
        "",
        f"Run {payload['started']} on {payload['machine']}, code at {payload['code']}. The real server as a "
        "subprocess on 127.0.0.1, client in this process; a GUEST sends the probe's diamond (each fragment "
        "spreads both fragments of the next level: 2^levels paths), a USER sends "
        f"`{VICTIM_QUERY}` one at a time, {payload['config']['victim_gap_s']} s apart.",
        "",
        "| diamond | text | characters | answer | requests | p50 ms | p95 ms | max ms | target |",
        "|---|---|---:|---|---:|---:|---:|---:|---|",
    ]
    for figures in run_result["refusals"]:  # timed with the budget off: validation's own cost
        ok = figures["max_ms"] < REFUSAL_TARGET_MS
        lines.append(
            f"| {figures['levels']} levels | {figures['mode']} | {figures['characters']} | "
            f"{', '.join(figures['answers'])} | {figures['count']} | "
            f"{figures['p50_ms']} | {figures['p95_ms']} | {figures['max_ms']} | "
            f"every one < {REFUSAL_TARGET_MS:g} ms: {'yes' if ok else 'NO'} |"
        )
    for budget, title in (
        ("budget_off", "Budget of refused documents off (MEMOS_REFUSED_DOCUMENT_BYTES_PER_S=0): parsing each"),
        ("budget_on", "Default budget of refused documents (64 KB a caller, 8 KB/s): a spent caller gets 429"),
    ):
        figures = payload["result"][budget]
        alone = figures["victim_alone"]
        lines += [
            "",
            f"### {title}",
            "",
            f"The victim alone (before and after the floods): {alone['both']['count']} queries, p50 "
            f"{alone['both']['p50_ms']} ms (before {alone['before']['p50_ms']}, after {alone['after']['p50_ms']}), "
            f"p95 {alone['both']['p95_ms']} ms. During floods of {payload['config']['flood_s']:g} s, clients sending "
            "back to back:",
            "",
            "| flood | clients | requests/s | answers | victim queries | victim p50 ms | p95 ms | max ms | "
            f"p50 / alone (target <= {FLOOD_TARGET_RATIO:g}) |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|",
        ]
        for flood in figures["floods"]:
            victim = flood["victim"]
            lines.append(
                f"| {flood['kind']} | {flood['clients']} | {flood['requests_per_s']} | "
                f"{', '.join(flood['answers'])} | {victim['count']} | {victim['p50_ms']} | {victim['p95_ms']} | "
                f"{victim['max_ms']} | **{flood['victim_p50_ratio']}** |"
            )
    lines += [
        "",
        "The control rows flood with the cheapest query there is: what any back-to-back flood of that many "
        "clients costs the victim on this machine (2 cores, shared with the client, Neo4j and other work).",
        "",
        "Before the fix (commit 118547d) one 19-level diamond took 20-22 s and stalled every client, /healthz "
        "included, for as long (the probe's report; tests/security/test_validation_cost.py measured 22.4 s).",
    ]
    (RESULTS / "diamond.md").write_text("\n".join(lines) + "\n")


def code_label() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=RESULTS.parent
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=40, help="refusals timed per diamond")
    parser.add_argument(
        "--flood-clients",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1, 2],
        help="flood intensities: clients sending back to back, comma-separated (default 1,2)",
    )
    parser.add_argument("--flood-s", type=float, default=10.0, help="seconds of flood")
    parser.add_argument("--idle-s", type=float, default=5.0, help="seconds of the victim alone, before and after")
    parser.add_argument("--victim-gap-s", type=float, default=0.02, help="pause between the victim's queries")
    args = parser.parse_args()
    neo4j = MOSConfig.load().neo4j
    root_key = f"mgk_diamond_root_{secrets.token_hex(16)}"
    log_path = Path(tempfile.gettempdir()) / f"memos-diamond-{uuid.uuid4().hex[:8]}.log"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    apply_root_key(neo4j, root_key, MOSConfig.load().user_id)
    # No chat here: the model address is never called.
    result: dict[str, Any] = {}
    for budget, extra in (("off", {"MEMOS_REFUSED_DOCUMENT_BYTES_PER_S": "0"}), ("on", {})):
        env = {**server_env(neo4j, root_key, "http://127.0.0.1:9"), **extra}
        if not extra:  # the default, whatever this shell says
            env.pop("MEMOS_REFUSED_DOCUMENT_BYTES_PER_S", None)
        with serve(env, log_path) as server:
            log(f"server {server.base_url} (pid {server.pid}), budget of refused documents {budget}, log {log_path}")
            result[f"budget_{budget}"] = run(server.base_url, root_key, args, time_refusals=budget == "off")
    payload = {
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "code": code_label(),
        "config": vars(args),
        "targets": {"refusal_max_ms": REFUSAL_TARGET_MS, "victim_p50_ratio": FLOOD_TARGET_RATIO},
        "result": result,
        "server_log": str(log_path),
    }
    write_results(payload)
    for budget, figures in result.items():
        for flood in figures["floods"]:
            victim = flood["victim"]
            log(
                f"{budget}: {flood['kind']} x {flood['clients']}: victim p50 {victim['p50_ms']} ms, "
                f"{flood['victim_p50_ratio']}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

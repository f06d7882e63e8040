"""Neo4j outages under load: clients add through the GraphQL server (a child process) and through an
in-process MOS while a Neo4j of the bench's own is stopped, killed and frozen, cycle after cycle.

    python -m bench.bench_faults [--clients 4] [--mos-clients 1] [--faults stop,kill,freeze] [--down 5]
                                 [--freeze-down 20] [--steady 10] [--bolt-port 7692] [--http-port 7479]

Each client adds unique texts in a loop (content and single chat messages in turn). Per cycle: the fault
(`stop`: scripts/neo4j.sh stop, a clean shutdown; `kill`: SIGKILL; `freeze`: SIGSTOP, then SIGCONT), held
`--down` seconds (`--freeze-down` for a freeze, longer than the timeout bound so a hang shows), then Neo4j is
started (or resumed) and the bench waits until every client is acknowledged again, then runs `--steady`
seconds. At the end it reads the graph back (tests/faults `audit`): acknowledged memories lost, refused adds
that wrote anyway, rows without their cube edge, vector or message, duplicates. Adds whose outcome was in
doubt are sent again, which must acknowledge each. Writes bench/results/faults.json and .md.

The Neo4j is scripts/neo4j.sh on its own ports (7692 by default, apart from the shared 7687 and from the
test suite's 7690); the bench starts it if needed and stops it at the end if it started it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_core import RESULTS, log
from memos_graph import MOS, MOSConfig
from memos_graph.embeddings import build_embedder
from memos_graph.services.runtime import Runtime
from testkit.faults import (
    AddStream,
    Call,
    GraphQLAdder,
    HealthPoller,
    MOSAdder,
    Neo4jInstance,
    Neo4jWatch,
    Outage,
    ServerProcess,
    audit,
    driver_for,
    failure_bound_s,
    first_ack_after,
    first_healthy_after,
)

ROOT_KEY = "mgk_bench-faults-root-key"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"
CREATE_CUBE = "mutation($input: CreateCubeInput!) { createCube(input: $input) { cubeId } }"
DIMENSION = 384
RECOVERY_WAIT_S = 120.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=4, help="GraphQL clients (one user and cube each)")
    parser.add_argument("--mos-clients", type=int, default=1, help="in-process MOS clients")
    parser.add_argument("--faults", default="stop,kill,freeze", help="one cycle per entry, in order")
    parser.add_argument("--down", type=float, default=5.0, help="seconds between a stop or kill and the restart")
    parser.add_argument("--freeze-down", type=float, default=20.0, help="seconds a freeze lasts")
    parser.add_argument("--steady", type=float, default=10.0, help="seconds of normal service around the cycles")
    parser.add_argument("--bolt-port", type=int, default=7692)
    parser.add_argument("--http-port", type=int, default=7479)
    return parser.parse_args()


def wait_until_back(streams: Sequence[AddStream], moment: float) -> None:
    deadline = time.monotonic() + RECOVERY_WAIT_S
    while not all(stream.acknowledged_after(moment, 3) for stream in streams):
        if time.monotonic() > deadline:
            log(f"not every client recovered within {RECOVERY_WAIT_S}s")
            return
        time.sleep(0.1)


def run_cycle(instance: Neo4jInstance, streams: Sequence[AddStream], kind: str, down_s: float) -> Outage:
    outage = Outage(kind, down=time.monotonic())
    log(f"{kind}: injecting")
    if kind == "stop":
        outage.stop_s = instance.stop()
    elif kind == "kill":
        instance.kill()
    elif kind == "freeze":
        instance.freeze()
    else:
        raise ValueError(f"unknown fault {kind!r}")
    time.sleep(down_s)
    outage.restarting = time.monotonic()
    if kind == "freeze":
        instance.thaw()
    else:
        outage.start_s = instance.start()
    outage.up = time.monotonic()
    log(f"{kind}: Neo4j answers again; waiting for every client")
    wait_until_back(streams, outage.up)
    return outage


def cycle_figures(outage: Outage, streams: Sequence[AddStream], health: HealthPoller, bound_s: float) -> dict[str, Any]:
    """What one cycle did to the clients: refusals, latencies while Neo4j was away, time to recover."""
    calls = [call for stream in streams for call in stream.calls]
    backs = [first_ack_after(stream.calls, outage.up) for stream in streams]
    all_back = None if any(b is None for b in backs) else max(b for b in backs if b is not None)
    end = outage.up + (all_back or RECOVERY_WAIT_S)
    during = [call for call in calls if call.ended >= outage.down and call.started <= end]
    refused = [call for call in during if not call.acknowledged]
    overlapping = [call for call in during if call.started < outage.restarting]
    healthy = first_healthy_after(health.samples, outage.up)
    return {
        "fault": outage.kind,
        "seen_down_after_s": None if outage.seen_down is None else round(outage.seen_down - outage.down, 2),
        "stop_s": round(outage.stop_s, 1),
        "held_s": round(outage.restarting - outage.down, 1),
        "start_s": round(outage.start_s, 1),
        "calls": len(during),
        "refused_by_code": dict(Counter(str(call.code) for call in refused)),
        "max_refusal_s": round(max((call.seconds for call in refused), default=0.0), 2),
        "max_call_s_while_away": round(max((call.seconds for call in overlapping), default=0.0), 2),
        "calls_over_bound": sum(call.seconds > bound_s for call in overlapping),
        "first_client_back_s": None
        if not any(b is not None for b in backs)
        else round(min(b for b in backs if b is not None), 1),
        "all_clients_back_s": None if all_back is None else round(all_back, 1),
        "healthz_back_s": None if healthy is None else round(healthy, 1),
    }


def retry_in_doubt(adders: dict[str, GraphQLAdder | MOSAdder], calls: Sequence[Call], outages: Sequence[Outage]) -> int:
    """Send every in-doubt add again with its client's adder; returns how many were acknowledged."""
    resolved = 0
    for call in calls:
        if call.in_doubt(outages):
            text = call.text.removeprefix("user: ") if call.kind == "messages" else call.text
            resolved += adders[call.client](call.client, call.kind, text).acknowledged
    return resolved


def main() -> None:
    args = parse_args()
    faults = [fault.strip() for fault in args.faults.split(",") if fault.strip()]
    instance = Neo4jInstance(args.bolt_port, args.http_port)
    started_here = instance.pid() is None
    log(f"Neo4j on {args.bolt_port}: start took {instance.start():.1f}s")
    settings = instance.settings()
    bound = failure_bound_s(settings)
    server = ServerProcess(settings, ROOT_KEY, Path(tempfile.mkdtemp(prefix="bench-faults-")))
    server.start()
    runtime = None
    if args.mos_clients:
        runtime = Runtime.start(MOSConfig(neo4j=settings), build_embedder(MOSConfig().embedder))
    mos = MOS(runtime.config, runtime=runtime) if runtime else None
    token = uuid.uuid4().hex[:8]
    adders: dict[str, GraphQLAdder | MOSAdder] = {}
    cubes: list[str] = []
    for number in range(args.clients):
        created = server.graphql(CREATE_USER, input={"id": f"bench-faults-{token}-{number}"})
        key = created["data"]["createUser"]["apiKey"]
        cube = server.graphql(CREATE_CUBE, key, input={"name": f"c{number}"})["data"]["createCube"]["cubeId"]
        adders[f"http-{number}"] = GraphQLAdder(server.url, key, cube, timeout_s=bound * 3)
        cubes.append(cube)
    for number in range(args.mos_clients):
        assert mos is not None
        user = mos.create_user(f"bench-faults-{token}-mos-{number}")
        cube = mos.create_cube_for_user(f"m{number}", owner_id=user)
        adders[f"mos-{number}"] = MOSAdder(mos, user, cube)
        cubes.append(cube)

    streams = [AddStream(name, adder) for name, adder in adders.items()]
    watch = Neo4jWatch(settings).start()
    health = HealthPoller(server).start()
    began = time.monotonic()
    for stream in streams:
        stream.start()
    time.sleep(args.steady)
    outages = []
    for kind in faults:
        outages.append(run_cycle(instance, streams, kind, args.freeze_down if kind == "freeze" else args.down))
        time.sleep(args.steady)
    for stream in streams:
        stream.stop()
    elapsed = time.monotonic() - began
    health.stop()
    watch.stop()
    for outage in outages:
        outage.seen_down = watch.first_failure_after(outage.down)
    server_alive = server.alive()

    calls = [call for stream in streams for call in stream.calls]
    driver = driver_for(settings)
    result = audit(driver, cubes, calls, DIMENSION, outages)
    resolved = retry_in_doubt(adders, calls, outages)
    duplicates_after_retry = len(audit(driver, cubes, calls, DIMENSION, outages).duplicates)
    cycles = [cycle_figures(outage, streams, health, bound) for outage in outages]
    refused = [call for call in calls if not call.acknowledged]
    figures: dict[str, Any] = {
        "run": {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
            "python": platform.python_version(),
            "clients": {"graphql": args.clients, "in_process": args.mos_clients},
            "faults": faults,
            "seconds": round(elapsed, 1),
            "neo4j_timeouts": settings.model_dump(
                include={"connection_timeout_s", "acquisition_timeout_s", "max_retry_time_s", "transaction_timeout_s"}
            ),
            "failure_bound_s": round(bound, 1),
        },
        "totals": {
            **result.summary(),
            "max_refusal_s": round(max((call.seconds for call in refused), default=0.0), 2),
            "in_doubt_acknowledged_on_retry": resolved,
            "duplicates_after_retry": duplicates_after_retry,
            "server_alive": server_alive,
        },
        "cycles": cycles,
    }
    write_results(figures)

    driver.execute_query("MATCH (n) WHERE (n:Memory OR n:Message) AND n.cube_id IN $cubes DETACH DELETE n", cubes=cubes)
    driver.close()
    for adder in adders.values():
        if isinstance(adder, GraphQLAdder):
            adder.close()
    server.stop()
    if runtime is not None:
        runtime.close()
    if started_here:
        instance.stop()
    log(json.dumps(figures["totals"]))


def write_results(figures: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    run, totals = figures["run"], figures["totals"]
    lines = [
        "# faults benchmark",
        "",
        f"Run {run['at']} on {run['machine']}, Python {run['python']}; {run['clients']['graphql']} GraphQL clients "
        f"and {run['clients']['in_process']} in-process client adding for {run['seconds']} s through "
        f"{len(figures['cycles'])} outages ({', '.join(run['faults'])}). Neo4j timeouts "
        f"{run['neo4j_timeouts']}; a refusal may take at most {run['failure_bound_s']} s by them.",
        "",
        "| fault | held s | stop s | start s | calls | refused | slowest refusal s | slowest call while away s "
        "| calls over bound | first client back s | all clients back s | /healthz back s |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for cycle in figures["cycles"]:
        refused = ", ".join(f"{code} {count}" for code, count in cycle["refused_by_code"].items()) or "0"
        lines.append(
            f"| {cycle['fault']} | {cycle['held_s']} | {cycle['stop_s']} | {cycle['start_s']} | {cycle['calls']} "
            f"| {refused} | {cycle['max_refusal_s']} | {cycle['max_call_s_while_away']} | {cycle['calls_over_bound']} "
            f"| {cycle['first_client_back_s']} | {cycle['all_clients_back_s']} | {cycle['healthz_back_s']} |"
        )
    failed = ", ".join(f"{code} {count}" for code, count in totals["failed_by_code"].items()) or "0"
    lines += [
        "",
        "| calls | acknowledged | refused | in doubt | in doubt, stored | lost | refused yet stored "
        "| stray | half-written | duplicates | in doubt acknowledged on retry | server alive |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {totals['calls']} | {totals['acknowledged']} | {failed} | {totals['in_doubt']} "
        f"| {totals['in_doubt_stored']} | {totals['lost']} | {totals['ghosts']} | {totals['strays']} "
        f"| {totals['half_written']} | {totals['duplicates']} | {totals['in_doubt_acknowledged_on_retry']} "
        f"| {totals['server_alive']} |",
        "",
        "Times are from the fault (or from Neo4j answering again, for the *back* columns). *Held*: fault to "
        "restart; a clean stop itself takes *stop s*, a start *start s*, so Neo4j is away for their sum. "
        "*In doubt*: refused adds that may have committed (no answer, IncompleteCommit, or in flight when Neo4j "
        "stopped serving; see tests/faults/__init__.py). *Lost* and *half-written* must be 0. "
        "*Calls over bound* on a freeze are the hang the test suite records as an expected failure.",
    ]
    (RESULTS / "faults.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

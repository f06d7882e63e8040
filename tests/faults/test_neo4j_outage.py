"""Neo4j goes away while clients add: calls fail fast with UNAVAILABLE, the server survives, nothing the
clients were told is lost, nothing half-written stays behind, and service resumes by itself.

Clients stream adds (content and chat messages in turn, every text unique) through the GraphQL server as a
process and through an in-process MOS, both on a Neo4j of the test's own, while that Neo4j is stopped, killed
or frozen. Timeouts are small (testkit/faults.py FAULT_TIMEOUTS); bounds below derive from them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial

import neo4j
import pytest

from memos_graph import MOS
from memos_graph.config import Neo4jSettings
from testkit.faults import (
    AddStream,
    Audit,
    Call,
    GraphQLAdder,
    HealthPoller,
    MOSAdder,
    Neo4jInstance,
    Neo4jWatch,
    Outage,
    ServerProcess,
    audit,
    failure_bound_s,
    first_ack_after,
    first_healthy_after,
)

pytestmark = pytest.mark.neo4j

DIMENSION = 896  # the default embedder: all-MiniLM-L6-v2 (384) and USE multilingual v3 (512) side by side
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"
CREATE_CUBE = "mutation($input: CreateCubeInput!) { createCube(input: $input) { cubeId } }"
# After Neo4j answers again, the first calls wait for it to plan their queries afresh on a cold JVM: 8-20 s
# on this 2-core machine when quiet, and more than 40 s with two benchmarks running beside the suite (load
# 4.5; a clean-clone CI run failed at 30 s + 10 that way). Every stream must be acknowledged again within
# this: it tells recovery from a hang, not how fast a cold JVM is.
RECOVERY_BOUND_S = 90.0


def http_client(server: ServerProcess, uid: Callable[[str], str], name: str) -> tuple[str, str]:
    """A user with a key and a cube of its own, made through the API; returns (key, cube id)."""
    created = server.graphql(CREATE_USER, input={"id": uid(name)})
    assert created.get("errors") is None, created
    key: str = created["data"]["createUser"]["apiKey"]
    cube = server.graphql(CREATE_CUBE, key, input={"name": name})
    assert cube.get("errors") is None, cube
    return key, cube["data"]["createCube"]["cubeId"]


def mos_client(mos: MOS, uid: Callable[[str], str], name: str) -> tuple[str, str]:
    """A user and its cube, made in process; returns (user id, cube id)."""
    user = mos.create_user(uid(name))
    return user, mos.create_cube_for_user(name, owner_id=user)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    """Poll until the condition holds; returns the seconds it took."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"{what}: not within {timeout_s}s")
        time.sleep(0.1)
    return time.monotonic() - began


def warmed_up(stream: AddStream) -> bool:
    return sum(call.acknowledged for call in stream.calls) >= 3


def run_outage(
    instance: Neo4jInstance, settings: Neo4jSettings, streams: Sequence[AddStream], fault: str, down_s: float
) -> Outage:
    """Warm up, inject the fault, hold it `down_s`, bring Neo4j back, wait for every stream to recover."""
    watch = Neo4jWatch(settings).start()
    for stream in streams:
        stream.start()
    try:
        for stream in streams:
            wait_for(partial(warmed_up, stream), 60, f"{stream.name} warm-up")
        outage = Outage(fault, down=time.monotonic())
        if fault == "stop":
            outage.stop_s = instance.stop()
        elif fault == "kill":
            instance.kill()
        else:
            instance.freeze()
        time.sleep(down_s)
        outage.restarting = time.monotonic()
        if fault == "freeze":
            instance.thaw()
        else:
            outage.start_s = instance.start()
        outage.up = time.monotonic()
        for stream in streams:
            wait_for(partial(stream.acknowledged_after, outage.up, 3), RECOVERY_BOUND_S + 10, f"{stream.name} back")
    finally:
        for stream in streams:
            stream.stop()
        watch.stop()
    outage.seen_down = watch.first_failure_after(outage.down)
    return outage


def refusals(calls: Sequence[Call]) -> list[Call]:
    return [call for call in calls if not call.acknowledged]


def describe(name: str, calls: Sequence[Call], outage: Outage, result: Audit) -> str:
    """One line for the log: the audit's counts, the slowest refusal, the recovery time."""
    slowest = max((call.seconds for call in refusals(calls)), default=0.0)
    recovered = first_ack_after(calls, outage.up)
    back = "never" if recovered is None else f"{recovered:.1f}s"
    return f"{name} ({outage.kind}): {result.summary()}; slowest refusal {slowest:.2f}s; acknowledged again {back}"


def hung_calls(calls: Sequence[Call], outage: Outage, bound_s: float) -> list[Call]:
    """Calls that ran while Neo4j was away and outlived the bound, except those that began so close to
    Neo4j's return that they legitimately succeeded on the recovered server."""
    return [
        call
        for call in calls
        if call.started < outage.restarting
        and call.seconds > bound_s
        and not (call.acknowledged and call.started >= outage.up - bound_s)
    ]


def check_stream(stream: AddStream, outage: Outage, result: Audit, bound_s: float, check_hangs: bool = True) -> None:
    """What every stream must show, whatever the fault."""
    calls = stream.calls
    failed = refusals(calls)
    report = describe(stream.name, calls, outage, result)
    assert {call.code for call in failed} <= {"UNAVAILABLE"}, [c.summary() for c in failed if c.code != "UNAVAILABLE"]
    assert all(call.answered for call in failed), [c.summary() for c in failed if not c.answered]
    assert not [c for c in failed if c.ended < outage.down], "a call failed before the fault was injected"
    if check_hangs:
        hung = [call.summary() for call in hung_calls(calls, outage, bound_s)]
        assert not hung, f"calls outlived the {bound_s:.1f}s the timeouts allow: {hung}"
    recovered = first_ack_after(calls, outage.up)
    assert recovered is not None and recovered <= RECOVERY_BOUND_S, report
    # Once one call got through again, every later one does: no broken connections left in the pool.
    assert all(call.acknowledged for call in calls if call.started >= outage.up + recovered), report
    assert not result.lost, f"acknowledged memories lost: {result.lost}"
    assert not result.ghosts, f"refused calls that wrote anyway: {result.ghosts}"
    assert not result.strays and not result.duplicates, report
    assert not result.half_written, f"half-written rows: {result.half_written}"


def readd_in_doubt(adder: GraphQLAdder | MOSAdder, calls: Sequence[Call], outage: Outage) -> list[Call]:
    """Send every in-doubt add again: adds are idempotent per text, so each must now be acknowledged."""
    return [
        adder("retry", call.kind, call.text.removeprefix("user: ") if call.kind == "messages" else call.text)
        for call in calls
        if call.in_doubt([outage])
    ]


def test_stopped_neo4j_fails_fast_loses_nothing_and_recovers(
    outage_neo4j: Neo4jInstance,
    outage_server: ServerProcess,
    outage_mos: MOS,
    outage_driver: neo4j.Driver,
    outage_settings: Neo4jSettings,
    uid: Callable[[str], str],
) -> None:
    bound = failure_bound_s(outage_settings)
    key, http_cube = http_client(outage_server, uid, "outage-http")
    local_user, local_cube = mos_client(outage_mos, uid, "outage-local")
    http_adder = GraphQLAdder(outage_server.url, key, http_cube, timeout_s=bound * 3)
    local_adder = MOSAdder(outage_mos, local_user, local_cube)
    http, local = AddStream("http", http_adder), AddStream("mos", local_adder)
    health = HealthPoller(outage_server).start()
    try:
        outage = run_outage(outage_neo4j, outage_settings, [http, local], "stop", down_s=3.0)
    finally:
        health.stop()

    assert outage_server.alive(), f"the server died; see {outage_server.log_path}"
    assert outage.seen_down is not None
    for stream, cube in ((http, http_cube), (local, local_cube)):
        result = audit(outage_driver, [cube], stream.calls, DIMENSION, [outage])
        print(describe(stream.name, stream.calls, outage, result))
        assert refusals(stream.calls), f"the outage went unnoticed by {stream.name}"
        check_stream(stream, outage, result, bound)
    # Over HTTP a request is refused before GraphQL runs when its key cannot be checked: 503 with the
    # GraphQL-shaped body; a refusal from inside a resolver is HTTP 200 with the error.
    assert {call.http_status for call in refusals(http.calls)} <= {200, 503}

    # /healthz answered throughout, said 503 while Neo4j was down and 200 again soon after it was back.
    # "While down": asked after Neo4j was seen down and answered before its restart began. The health
    # statement retries (the driver's max_retry_time), so a request asked just before the restart may
    # truthfully answer 200 once Neo4j is back. (A CI run failed on a 200 asked before the restart; pytest
    # cut the sample list, hence the message below shows only the outage's samples and its timeline.)
    assert all(status is not None for _, status, _ in health.samples), health.samples
    down = [
        status
        for began, status, seconds in health.samples
        if began >= outage.seen_down and began + seconds < outage.restarting
    ]
    assert set(down) == {503}, (outage, [sample for sample in health.samples if sample[0] >= outage.down])
    healthy = first_healthy_after(health.samples, outage.up)
    assert healthy is not None and healthy <= RECOVERY_BOUND_S, health.samples
    slowest = max(seconds for _, _, seconds in health.samples)
    print(f"healthz: {len(down)} answers while down, slowest {slowest:.2f}s, ok again after {healthy:.1f}s")

    retried = readd_in_doubt(http_adder, http.calls, outage) + readd_in_doubt(local_adder, local.calls, outage)
    assert all(call.acknowledged for call in retried), [call.summary() for call in retried]
    for stream, cube in ((http, http_cube), (local, local_cube)):
        assert not audit(outage_driver, [cube], stream.calls, DIMENSION, [outage]).duplicates


def test_killed_neo4j_recovers_with_nothing_half_written(
    outage_neo4j: Neo4jInstance,
    outage_server: ServerProcess,
    outage_mos: MOS,
    outage_driver: neo4j.Driver,
    outage_settings: Neo4jSettings,
    uid: Callable[[str], str],
) -> None:
    """SIGKILL: no clean shutdown; commits in flight are cut off, the restart recovers from the log. An
    in-process MOS that sat idle through the crash must work again too."""
    bound = failure_bound_s(outage_settings)
    key, cube = http_client(outage_server, uid, "crash-http")
    idle_user, idle_cube = mos_client(outage_mos, uid, "crash-idle")
    idle = MOSAdder(outage_mos, idle_user, idle_cube)
    assert all(idle("idle", "content", f"warm-up {n} {uid('x')}").acknowledged for n in range(3))
    adder = GraphQLAdder(outage_server.url, key, cube, timeout_s=bound * 3)
    streams = [AddStream(f"http-{n}", adder) for n in range(2)]
    outage = run_outage(outage_neo4j, outage_settings, streams, "kill", down_s=2.0)
    assert outage_server.alive(), f"the server died; see {outage_server.log_path}"
    calls = [call for stream in streams for call in stream.calls]
    result = audit(outage_driver, [cube], calls, DIMENSION, [outage])
    print(describe("http x2", calls, outage, result))
    for stream in streams:
        check_stream(stream, outage, result, bound)
    assert refusals(calls), "the crash went unnoticed"
    retried = readd_in_doubt(adder, calls, outage)
    assert all(call.acknowledged for call in retried), [call.summary() for call in retried]
    assert not audit(outage_driver, [cube], calls, DIMENSION, [outage]).duplicates

    # The idle MOS's pooled connections died with the server. A call that draws a dead connection before the
    # driver has noticed may fail once with UNAVAILABLE, so a few may come before the pool is clean.
    after = [idle("idle", "content", f"after the crash {n} {uid('x')}") for n in range(8)]
    spurious = [call for call in after if not call.acknowledged]
    print(f"idle in-process MOS after the restart: {len(spurious)} spurious UNAVAILABLE before it worked again")
    assert {call.code for call in spurious} <= {"UNAVAILABLE"}, [call.summary() for call in spurious]
    first_ok = next(index for index, call in enumerate(after) if call.acknowledged)
    assert all(call.acknowledged for call in after[first_ok:]), [call.summary() for call in after]
    assert first_ok <= 4, [call.summary() for call in after]


def test_frozen_neo4j_does_not_hang_calls(
    outage_neo4j: Neo4jInstance,
    outage_server: ServerProcess,
    outage_mos: MOS,
    outage_driver: neo4j.Driver,
    outage_settings: Neo4jSettings,
    uid: Callable[[str], str],
) -> None:
    """SIGSTOP: connections stay open but nothing answers. Calls must still end within the timeout bound."""
    bound = failure_bound_s(outage_settings)
    key, http_cube = http_client(outage_server, uid, "freeze-http")
    local_user, local_cube = mos_client(outage_mos, uid, "freeze-local")
    http = AddStream("http", GraphQLAdder(outage_server.url, key, http_cube, timeout_s=bound * 3))
    local = AddStream("mos", MOSAdder(outage_mos, local_user, local_cube))
    outage = run_outage(outage_neo4j, outage_settings, [http, local], "freeze", down_s=bound + 4)
    assert outage_server.alive(), f"the server died; see {outage_server.log_path}"
    hung: dict[str, list[Call]] = {}
    for stream, cube in ((http, http_cube), (local, local_cube)):
        result = audit(outage_driver, [cube], stream.calls, DIMENSION, [outage])
        print(describe(stream.name, stream.calls, outage, result))
        check_stream(stream, outage, result, bound, check_hangs=False)
        hung[stream.name] = hung_calls(stream.calls, outage, bound)
    # The server bounds every call by neo4j.call_deadline_s and answers UNAVAILABLE; the in-process MOS runs
    # each call under the same deadline (its thread may stay blocked on the frozen socket; the caller does not).
    assert hung["http"] == [], [call.summary() for call in hung["http"]]
    assert hung["mos"] == [], [call.summary() for call in hung["mos"]]
    deadline = outage_settings.call_deadline_s
    slowest = max((call.seconds for call in refusals(local.calls)), default=0.0)
    print(f"in-process MOS on a frozen Neo4j: slowest refusal {slowest:.2f}s (deadline {deadline:g}s)")
    assert refusals(local.calls), "the freeze went unnoticed by the in-process MOS"
    assert slowest <= deadline + 2.0, [call.summary() for call in refusals(local.calls)]

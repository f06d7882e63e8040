"""The long fuzz run of the GraphQL API: what tests/security/test_fuzz.py does, thousands of times.

    python -m bench.bench_fuzz [--examples 3000] [--seed 0]

Runs the real ASGI app (in process, over the Neo4j of NEO4J_URI, chat answered by testkit/fake_llm.py,
document and transfer roots in a temporary directory) as one fuzz USER with a seeded cube, and sends
operations from five generators: hypothesis-graphql queries and mutations (literals), invalid operations
(hypothesis-graphql's negative mode), one root field with variables of its declared types (any Unicode,
lone surrogates included, any integer), and raw request bodies. Nothing stops at a failure: every answer is
checked against the contract of testkit/security.py and recorded. For each failure kind it keeps the
shortest input that showed it and the root cause: the exception and the deepest project frame, taken from
the masked error's log record or from the exception that escaped the app. Writes bench/results/fuzz.json
and fuzz.md; the fuzz user and everything it made are deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import platform
import shutil
import tempfile
import time
import traceback
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.bench_core import RESULTS, log
from graphql_schema.app import MAX_BODY_BYTES, create_app
from memos_graph import MOSConfig
from memos_graph.services.runtime import Runtime
from memos_graph.services.wiring import Services
from testkit.fake_llm import serve_fake_openai
from testkit.security import (
    RAW_STATUSES,
    Api,
    Problem,
    Response,
    Roots,
    configured,
    create_caller,
    follow_rotation,
    generated_operations,
    purge_user,
    raw_requests,
    response_problems,
    root_fields,
    seed_target,
    send_raw,
    variable_operations,
)

REPO = Path(__file__).resolve().parents[1]
# Share of the examples per generator.
SHARES = {"queries": 0.2, "mutations": 0.35, "negative": 0.1, "variables": 0.25, "raw": 0.1}
MAX_CAUSES = 20  # distinct root causes kept per failure kind
SEED_TEXTS = ["The fuzz user waters the ferns on Mondays", "The fuzz user keeps bees", "Fuzzing finds bugs"]


def root_cause(error: BaseException | None, tb: TracebackType | None) -> str:
    """`Type: message` and the deepest frame in the project's own code."""
    if error is None:
        return "(no exception recorded)"
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith(str(REPO)) and "/tests/" not in f.filename]
    where = f"{Path(frames[-1].filename).relative_to(REPO)}:{frames[-1].lineno}" if frames else "(library code)"
    return f"{type(error).__name__}: {str(error)[:160]} @ {where}"


class CauseLog(logging.Handler):
    """Collects the root causes of masked errors (graphql_schema.errors logs them with exc_info)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.causes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.causes.append(root_cause(record.exc_info[1], record.exc_info[2]))

    def take(self) -> list[str]:
        causes, self.causes = self.causes, []
        return causes


def recording(app: ASGIApp, causes: CauseLog) -> ASGIApp:
    """The app, with exceptions that escape it (the client sees HTTP 500) recorded before they propagate."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except Exception as exc:
            causes.causes.append(root_cause(exc, exc.__traceback__))
            raise

    return wrapped


@dataclass
class Failure:
    """One kind of failure: how often, the shortest input that showed it, and the root causes seen."""

    kind: str
    where: str
    count: int = 0
    example: str = ""
    detail: str = ""
    causes: Counter[str] = field(default_factory=Counter)


@dataclass
class Tally:
    """What the fuzz sent and what came back, per root field and per generator."""

    tried: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    codes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    answered: Counter[str] = field(default_factory=Counter)
    per_generator: Counter[str] = field(default_factory=Counter)
    failures: dict[tuple[str, str, str], Failure] = field(default_factory=dict)

    def record(
        self,
        generator: str,
        fields: list[str],
        shown: str,
        response: Response,
        problems: list[Problem],
        causes: list[str],
    ) -> None:
        self.per_generator[generator] += 1
        body: Any = None
        with contextlib.suppress(ValueError):
            body = response.json()
        errored = set()
        for name in fields:
            self.tried[name] += 1
            self.statuses[name][response.status_code] += 1
        if isinstance(body, dict):
            for error in body.get("errors") or []:
                where = str((error.get("path") or ["(document)"])[0])
                errored.add(where)
                code = str((error.get("extensions") or {}).get("code"))
                for name in fields if where == "(document)" else [where]:
                    self.codes[name][code] += 1
            data = body.get("data")
            for name in fields:
                if name in errored or (isinstance(data, dict) and data.get(name) is not None):
                    self.answered[name] += 1
        # One entry per kind, place and kind of cause (exception type and frame, not its message).
        cause = causes[0].split(":")[0] + " @ " + causes[0].rpartition(" @ ")[2] if causes else ""
        for problem in problems:
            key = (problem.kind, problem.where, cause)
            failure = self.failures.setdefault(key, Failure(problem.kind, problem.where))
            failure.count += 1
            failure.causes.update(causes or ["(no exception recorded)"])
            if not failure.example or len(shown) < len(failure.example):
                failure.example, failure.detail = shown, problem.detail


def run_generator(
    name: str, strategy: st.SearchStrategy[Any], examples: int, send: Callable[[Any], None], run_seed: int
) -> None:
    """Draw `examples` inputs (no shrinking: nothing fails here, everything is recorded)."""

    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value: Any) -> None:
        send(value)

    log(f"{name}: {examples} examples")
    run()


@contextlib.contextmanager
def fuzz_app(base: Path) -> Iterator[tuple[Runtime, Api, CauseLog]]:
    """The configured app over a fresh runtime (root key untouched), with root causes collected."""
    with serve_fake_openai() as llm:
        runtime = Runtime.start(MOSConfig.load())
        try:
            secured = configured(runtime, Roots.under(base), llm.url, root_key=None)
            causes = CauseLog()
            logging.getLogger("graphql_schema.errors").addHandler(causes)
            logging.getLogger("graphql_schema.errors").propagate = False  # the run's own report says it all
            app = recording(create_app(runtime=secured), causes)
            with TestClient(app, raise_server_exceptions=False) as client:
                yield secured, Api(client), causes
        finally:
            runtime.close()


def fuzz(examples: int, run_seed: int) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="memos-fuzz-"))
    tally = Tally()
    seconds: dict[str, float] = {}
    user_id = f"bench-fuzz-{uuid.uuid4().hex[:8]}"
    with fuzz_app(base) as (runtime, api, causes):
        services = Services.over(runtime)
        services.users.bootstrap(runtime.config.user_id, runtime.config.user_name)
        caller = create_caller(services, user_id)
        try:
            target = seed_target(api, caller, SEED_TEXTS)

            def operation(generator: str) -> Callable[[Any], None]:
                def send(drawn: Any) -> None:
                    query, variables = drawn if isinstance(drawn, tuple) else (drawn, None)
                    causes.take()
                    response = api.post(caller.key, query, variables)
                    follow_rotation(response, caller)
                    size = len(query) + len(json.dumps(variables or {}))
                    allowed = frozenset({200, 413}) if size > MAX_BODY_BYTES else frozenset({200})
                    problems = response_problems(response, allowed)
                    if generator == "negative" and response.status_code == 200 and not response.json().get("errors"):
                        problems.append(Problem("invalid-operation-ran", root_fields(query)[0], response.text[:200]))
                    shown = query if variables is None else f"{query}\nvariables: {json.dumps(variables)[:2000]}"
                    tally.record(generator, root_fields(query), shown, response, problems, causes.take())

                return send

            def raw(drawn: tuple[str, bytes, str]) -> None:
                method, body, content_type = drawn
                causes.take()
                response = send_raw(api.client, caller.key, method, body, content_type)
                shown = f"{method} Content-Type: {content_type!r} body: {body[:300]!r}"
                tally.record(
                    "raw", ["(raw request)"], shown, response, response_problems(response, RAW_STATUSES), causes.take()
                )

            plan: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
                "queries": (generated_operations(target, "query"), operation("queries")),
                "mutations": (generated_operations(target, "mutation"), operation("mutations")),
                "negative": (
                    st.one_of(
                        generated_operations(target, "query", Mode.NEGATIVE),
                        generated_operations(target, "mutation", Mode.NEGATIVE),
                    ),
                    operation("negative"),
                ),
                "variables": (variable_operations(target), operation("variables")),
                "raw": (raw_requests(), raw),
            }
            for name, (strategy, send) in plan.items():
                started = time.perf_counter()
                run_generator(name, strategy, max(1, round(examples * SHARES[name])), send, run_seed)
                seconds[name] = round(time.perf_counter() - started, 1)
            foreign = int(
                runtime.store.run_statement(
                    "MATCH (m:Memory {user_id: $user}) WHERE NOT EXISTS "
                    "{ (:User {id: $user})-[:OWNS]->(:MemCube {id: m.cube_id}) } RETURN count(m) AS n",
                    user=user_id,
                )[0]["n"]
            )
        finally:
            purge_user(runtime, user_id)
            shutil.rmtree(base, ignore_errors=True)
    return {
        "examples": sum(tally.per_generator.values()),
        "per_generator": dict(tally.per_generator),
        "seconds_per_generator": seconds,
        "memories_written_outside_own_cubes": foreign,
        "fields": {
            name: {
                "tried": tally.tried[name],
                "answered": tally.answered[name],
                "statuses": {str(k): v for k, v in sorted(tally.statuses[name].items())},
                "codes": dict(tally.codes[name].most_common()),
            }
            for name in sorted(tally.tried)
        },
        "failures": [
            {
                "kind": f.kind,
                "where": f.where,
                "count": f.count,
                "shortest_input": f.example,
                "detail": f.detail,
                "distinct_causes": len(f.causes),
                "root_causes": dict(f.causes.most_common(MAX_CAUSES)),
            }
            for f in sorted(tally.failures.values(), key=lambda f: (-f.count, f.kind, f.where))
        ],
    }


def write_markdown(payload: dict[str, Any]) -> None:
    lines = [
        "# fuzz benchmark",
        "",
        f"Run {payload['started']} on {payload['machine']}: {payload['examples']} requests in "
        f"{payload['seconds']} s (seed {payload['seed']}). Memories the fuzz user wrote outside its own cubes: "
        f"{payload['memories_written_outside_own_cubes']}.",
        "",
        "| generator | requests | seconds |",
        "|---|---:|---:|",
    ]
    for name, count in payload["per_generator"].items():
        lines.append(f"| {name} | {count} | {payload['seconds_per_generator'].get(name, '')} |")
    lines += [
        "",
        "## Per root field",
        "",
        "An operation counts once for each root field it selects; answered: the field has data or an error.",
        "",
        "| field | tried | answered | HTTP statuses | error codes |",
        "|---|---:|---:|---|---|",
    ]
    for name, row in payload["fields"].items():
        statuses = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        codes = ", ".join(f"{k}: {v}" for k, v in row["codes"].items()) or "-"
        lines.append(f"| {name} | {row['tried']} | {row['answered']} | {statuses} | {codes} |")
    lines += ["", f"## Failures ({len(payload['failures'])} kinds)", ""]
    if not payload["failures"]:
        lines.append("None.")
    for failure in payload["failures"]:
        causes = "; ".join(f"{cause} (x{n})" for cause, n in list(failure["root_causes"].items())[:6])
        if failure["distinct_causes"] > 6:
            causes += f"; and {failure['distinct_causes'] - 6} more (fuzz.json lists {MAX_CAUSES})"
        lines += [
            f"### {failure['kind']} at {failure['where']} (x{failure['count']})",
            "",
            f"Root cause: {causes}",
            "",
            f"Detail: {failure['detail'][:300]}".replace("\n", " "),
            "",
            "Shortest input:",
            "",
            "```",
            failure["shortest_input"][:3000],
            "```",
            "",
        ]
    (RESULTS / "fuzz.md").write_text("\n".join(lines) + "\n", encoding="utf-8", errors="backslashreplace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=3000, help="requests in all (split over the generators)")
    parser.add_argument("--seed", type=int, default=0, help="Hypothesis seed, for a repeatable run")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    clock = time.perf_counter()
    result = fuzz(args.examples, args.seed)
    payload = {
        "started": started,
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "seed": args.seed,
        "seconds": round(time.perf_counter() - clock, 1),
        **result,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    write_markdown(payload)
    log(
        f"{payload['examples']} requests in {payload['seconds']} s; {len(payload['failures'])} failure kinds; "
        "bench/results/fuzz.md"
    )


if __name__ == "__main__":
    main()

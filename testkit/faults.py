"""Fault injection for memos-graph, shared by tests/faults and bench/bench_faults.py.

A throwaway Neo4j (scripts/neo4j.sh on its own ports, never the shared 7687) to stop, kill or freeze; the
GraphQL server as a child process; streams of adds that record every call (answer, code, duration); and an
audit that reads the graph directly afterwards: acknowledged writes present, refused writes absent, nothing
half-written.

A refused call's outcome is *in doubt* when it may have committed although it was not acknowledged:
- it got no answer at all (the HTTP client gave up), or
- the driver reported the connection lost during COMMIT (IncompleteCommit, named in the UNAVAILABLE
  message), or the service said its commit may still land (memos_graph.graph.store.IN_DOUBT: an attempt
  sent its COMMIT and no success came back, or the deadline passed during the write), or
- it was in flight when Neo4j stopped serving: it began before a watcher (`RETURN 1` every 50 ms on a
  connection of its own, no retries) first saw Neo4j fail, and ended after the fault was injected. A Neo4j
  that is shutting down can apply a COMMIT and still answer it `DatabaseUnavailable`; the driver takes that
  for retryable, its retries find Neo4j gone, and the caller gets UNAVAILABLE although the memory is stored.
  A call that began after the watcher saw the failure cannot have opened its transaction before it.
Every other refusal must have written nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import neo4j
from pydantic import SecretStr

from memos_graph import MOS
from memos_graph.config import ENVIRONMENT_OVERRIDES, Neo4jSettings
from memos_graph.deadlines import IN_DOUBT
from memos_graph.errors import MemosError
from testkit.servers import free_port

REPO = Path(__file__).resolve().parents[1]
NEO4J_SCRIPT = REPO / "scripts" / "neo4j.sh"
SHARED_BOLT_PORT = 7687
FAULTS_BOLT_PORT = int(os.environ.get("MEMOS_FAULTS_BOLT_PORT", "7690"))
FAULTS_HTTP_PORT = int(os.environ.get("MEMOS_FAULTS_HTTP_PORT", "7477"))
# Timeouts small enough that an outage shows within seconds (the defaults are 5 s, 10 s and 5 s).
# call_deadline_s bounds a GraphQL call that waits on a Neo4j which stopped answering (frozen, not down).
FAULT_TIMEOUTS = {
    "connection_timeout_s": 2.0,
    "acquisition_timeout_s": 3.0,
    "max_retry_time_s": 2.0,
    "call_deadline_s": 8.0,
}
# The configured defaults of the same settings: for tests that use an instance of their own for what it holds
# (an index of another dimension, an old graph), not to stop it; a busy machine must not fail their calls.
PATIENT_TIMEOUTS: dict[str, float] = {name: float(Neo4jSettings.model_fields[name].default) for name in FAULT_TIMEOUTS}
# The driver's managed-transaction retry: the first back-off is 1 s, each next one doubles, jitter 20%.
_RETRY_JITTER = 1.2


def failure_bound_s(settings: Neo4jSettings, slack_s: float = 3.0) -> float:
    """How long a call may take to fail once Neo4j is gone, from the configured timeouts.

    The failing statement gets one connection attempt (acquisition_timeout_s bounds the connect too), then
    the driver retries for max_retry_time_s; the back-off it sleeps last may overshoot that window by up to
    the next doubled delay, each retry again paying at most one acquisition. Statements before the failing
    one ran while Neo4j was up, and the slack covers them, the embedder and HTTP.
    """
    retry = settings.max_retry_time_s
    delay, delays = 1.0, list[float]()
    while sum(delays) <= retry:
        delays.append(delay * _RETRY_JITTER)
        delay *= 2
    attempts = len(delays) + 1
    return sum(delays) + attempts * settings.acquisition_timeout_s + slack_s


class Neo4jInstance:
    """A Neo4j of its own (scripts/neo4j.sh with its own ports and home), started and stopped at will."""

    def __init__(self, bolt_port: int = FAULTS_BOLT_PORT, http_port: int = FAULTS_HTTP_PORT) -> None:
        if bolt_port == SHARED_BOLT_PORT:
            raise ValueError("fault injection never touches the shared Neo4j on 7687")
        self.bolt_port = bolt_port
        self.http_port = http_port

    def _script(self, action: str, timeout_s: float = 300.0) -> str:
        env = {
            **os.environ,
            "NEO4J_BOLT_PORT": str(self.bolt_port),
            "NEO4J_HTTP_PORT": str(self.http_port),
            # Small: it holds only what the fault runs write, next to the shared instance on a small machine.
            "NEO4J_HEAP": os.environ.get("MEMOS_FAULTS_NEO4J_HEAP", "512m"),
            "NEO4J_PAGECACHE": os.environ.get("MEMOS_FAULTS_NEO4J_PAGECACHE", "256m"),
        }
        done = subprocess.run(
            [str(NEO4J_SCRIPT), action], env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if done.returncode not in (0, 3):  # 3: `status` of a stopped server
            raise RuntimeError(f"scripts/neo4j.sh {action} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def start(self) -> float:
        """Start (or keep running) and wait until Bolt answers; returns the seconds it took."""
        began = time.monotonic()
        self._script("start")
        return time.monotonic() - began

    def stop(self) -> float:
        """A clean shutdown (SIGTERM, then wait); returns the seconds it took."""
        began = time.monotonic()
        self._script("stop")
        return time.monotonic() - began

    def pid(self) -> int | None:
        """The server's process id while it runs."""
        status = self._script("status")
        for part in status.split():
            if part.startswith("pid="):
                return int(part.removeprefix("pid="))
        return None

    def kill(self) -> None:
        """A crash: SIGKILL, no shutdown; the next start recovers from the transaction log."""
        pid = self._require_pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)

    def freeze(self) -> None:
        """SIGSTOP: sockets stay open and connects still succeed, but nothing answers (a hung server)."""
        os.kill(self._require_pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after freeze()."""
        os.kill(self._require_pid(), signal.SIGCONT)

    def _require_pid(self) -> int:
        pid = self.pid()
        if pid is None:
            raise RuntimeError(f"no Neo4j runs on port {self.bolt_port}")
        return pid

    def settings(self, **overrides: float) -> Neo4jSettings:
        """Connection settings for this instance, with FAULT_TIMEOUTS unless overridden."""
        values: dict[str, str] = {}
        for line in self._script("env").splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = value
        return Neo4jSettings(
            uri=values["NEO4J_URI"],
            user=values["NEO4J_USER"],
            password=SecretStr(values["NEO4J_PASSWORD"]),
            **{**FAULT_TIMEOUTS, **overrides},
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def driver_for(settings: Neo4jSettings) -> neo4j.Driver:
    """A driver of the test's own, for setup and the audit (the service under test has its own)."""
    return neo4j.GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password.get_secret_value()))


class ServerProcess:
    """`python -m graphql_schema` as a child process: Neo4j from the environment, timeouts from --config."""

    def __init__(
        self, settings: Neo4jSettings, root_key: str, workdir: Path, extra_config: dict[str, Any] | None = None
    ) -> None:
        self.settings = settings
        self.root_key = root_key
        self.workdir = workdir
        self.extra_config = extra_config or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 180.0) -> None:
        """Spawn the server and wait until /healthz says ok."""
        # There is no environment override for the Neo4j timeouts: they travel in the config file.
        timeouts = self.settings.model_dump(include=set(FAULT_TIMEOUTS) | {"transaction_timeout_s"})
        config_path = self.workdir / f"server-{self.port}.json"
        config_path.write_text(json.dumps({"neo4j": timeouts, **self.extra_config}), encoding="utf-8")
        env = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT_OVERRIDES}
        env.update(
            NEO4J_URI=self.settings.uri,
            NEO4J_USER=self.settings.user,
            NEO4J_PASSWORD=self.settings.password.get_secret_value(),
            MEMOS_ROOT_API_KEY=self.root_key,
            PYTHONPATH=str(REPO),
        )
        command = [sys.executable, "-m", "graphql_schema", "--config", str(config_path)]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [*command, "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"the server exited during start-up; see {self.log_path}")
            if self.health(timeout_s=2.0)[0] == 200:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the server did not become healthy within {timeout_s}s; see {self.log_path}")

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self._process is not None and self._process.poll() is None

    def health(self, timeout_s: float = 30.0) -> tuple[int | None, float]:
        """GET /healthz: (HTTP status or None without an answer, seconds taken)."""
        began = time.monotonic()
        try:
            status: int | None = httpx.get(f"{self.url}/healthz", timeout=timeout_s).status_code
        except httpx.HTTPError:
            status = None
        return status, time.monotonic() - began

    def graphql(self, query: str, key: str | None = None, **variables: Any) -> dict[str, Any]:
        """One operation (root's key unless another is given); the JSON body, whatever the HTTP status."""
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key or self.root_key}"},
            timeout=60.0,
        )
        body: dict[str, Any] = response.json()
        return body

    def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL after 15 s)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=15)
        self._process = None


ADD_MEMORIES = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { cubeId ids } }"


@dataclass
class Call:
    """One add as the client saw it."""

    client: str
    kind: str  # "content" or "messages"
    text: str  # the memory text the add should store
    started: float  # time.monotonic()
    seconds: float
    ids: tuple[str, ...] = ()
    code: str | None = None  # extensions.code (or the MemosError code) of a refusal
    http_status: int | None = None
    message: str = ""
    answered: bool = True

    @property
    def ended(self) -> float:
        """When the answer arrived (or the client gave up)."""
        return self.started + self.seconds

    @property
    def acknowledged(self) -> bool:
        """The service answered with the stored memory's id."""
        return self.answered and self.code is None and len(self.ids) == 1

    def in_doubt(self, outages: Sequence[Outage]) -> bool:
        """Whether the call may have committed although it was not acknowledged (see the module docstring)."""
        if self.acknowledged:
            return False
        if not self.answered or "IncompleteCommit" in self.message or IN_DOUBT in self.message:
            return True
        return any(
            self.started <= (outage.seen_down or outage.down) and self.ended >= outage.down for outage in outages
        )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record of the call."""
        return {
            "client": self.client,
            "kind": self.kind,
            "seconds": round(self.seconds, 3),
            "code": self.code,
            "http_status": self.http_status,
            "answered": self.answered,
            "message": self.message[:300],
        }


Adder = Callable[[str, str, str], Call]  # (client, kind, text) -> Call


def message_of(text: str) -> dict[str, str]:
    """The one chat message a "messages" add sends; fast mode stores it as "user: <text>"."""
    return {"role": "user", "content": text}


def memory_text(kind: str, text: str) -> str:
    """The text the add of `kind` stores for `text` (fast mode)."""
    return f"user: {text}" if kind == "messages" else text


class GraphQLAdder:
    """addMemories over HTTP with one keep-alive client; a transport error or client timeout is "no answer"."""

    def __init__(self, url: str, key: str, cube_id: str, timeout_s: float) -> None:
        self._client = httpx.Client(base_url=url, timeout=timeout_s, headers={"Authorization": f"Bearer {key}"})
        self._cube_id = cube_id

    def __call__(self, client: str, kind: str, text: str) -> Call:
        add: dict[str, Any] = {"cubeId": self._cube_id}
        if kind == "messages":
            add["messages"] = [message_of(text)]
        else:
            add["content"] = [text]
        began = time.monotonic()
        try:
            response = self._client.post("/graphql", json={"query": ADD_MEMORIES, "variables": {"input": add}})
        except httpx.HTTPError as exc:
            return Call(
                client,
                kind,
                memory_text(kind, text),
                began,
                time.monotonic() - began,
                message=f"{type(exc).__name__}: {exc}",
                answered=False,
            )
        seconds = time.monotonic() - began
        call = Call(client, kind, memory_text(kind, text), began, seconds, http_status=response.status_code)
        try:
            body = response.json()
        except ValueError:
            call.code, call.message = "NOT_JSON", response.text[:300]
            return call
        errors = body.get("errors") or []
        if errors:
            call.code = str(errors[0].get("extensions", {}).get("code"))
            call.message = str(errors[0].get("message", ""))
        elif body.get("data") and body["data"].get("addMemories"):
            call.ids = tuple(body["data"]["addMemories"]["ids"])
        else:
            call.code, call.message = "EMPTY", json.dumps(body)[:300]
        return call

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()


class MOSAdder:
    """MOS.add in this process; a MemosError is a refusal with its code, anything else is untyped (a bug)."""

    def __init__(self, mos: MOS, user_id: str, cube_id: str) -> None:
        self._mos = mos
        self._user_id = user_id
        self._cube_id = cube_id

    def __call__(self, client: str, kind: str, text: str) -> Call:
        began = time.monotonic()
        try:
            if kind == "messages":
                ids = self._mos.add(messages=[message_of(text)], mem_cube_id=self._cube_id, user_id=self._user_id)
            else:
                ids = self._mos.add(memory_content=[text], mem_cube_id=self._cube_id, user_id=self._user_id)
        except MemosError as exc:
            return Call(
                client,
                kind,
                memory_text(kind, text),
                began,
                time.monotonic() - began,
                code=exc.code,
                message=exc.message,
            )
        except Exception as exc:  # noqa: BLE001 (recorded, and the audit fails on it)
            return Call(
                client,
                kind,
                memory_text(kind, text),
                began,
                time.monotonic() - began,
                code=f"UNTYPED:{type(exc).__name__}",
                message=str(exc),
            )
        return Call(client, kind, memory_text(kind, text), began, time.monotonic() - began, ids=tuple(ids))


class AddStream:
    """A thread that adds unique texts (content and single messages in turn) until stopped."""

    def __init__(self, name: str, adder: Adder, pause_after_failure_s: float = 0.2) -> None:
        self.name = name
        self.calls: list[Call] = []
        self._adder = adder
        self._pause = pause_after_failure_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"adds-{name}", daemon=True)
        self._token = uuid.uuid4().hex[:8]

    def start(self) -> AddStream:
        """Begin adding."""
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 120.0) -> None:
        """Finish the call in flight, then stop."""
        self._stop.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError(f"stream {self.name} did not finish its last call within {timeout_s}s")

    def _run(self) -> None:
        number = 0
        while not self._stop.is_set():
            kind = "messages" if number % 2 else "content"
            call = self._adder(self.name, kind, f"{self.name} {self._token} note {number}: {uuid.uuid4().hex}")
            self.calls.append(call)
            number += 1
            if not call.acknowledged:
                self._stop.wait(self._pause)

    def acknowledged_after(self, moment: float, count: int) -> bool:
        """Whether `count` calls that started after `moment` were all acknowledged, with no failure among them."""
        later = [call for call in self.calls if call.started >= moment]
        return len(later) >= count and all(call.acknowledged for call in later)


class HealthPoller:
    """GET /healthz every `interval_s`, recording (when asked, status, seconds)."""

    def __init__(self, server: ServerProcess, interval_s: float = 0.5) -> None:
        self.samples: list[tuple[float, int | None, float]] = []
        self._server = server
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz", daemon=True)

    def start(self) -> HealthPoller:
        """Begin polling."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            status, seconds = self._server.health()
            self.samples.append((began, status, seconds))
            self._stop.wait(self._interval)


@dataclass
class Outage:
    """One injected fault: when it was injected, when the watcher first saw Neo4j fail (None if never), when
    the restart began and when Neo4j answered again."""

    kind: str  # "stop", "kill" or "freeze"
    down: float
    seen_down: float | None = None
    restarting: float = 0.0
    up: float = 0.0
    stop_s: float = 0.0
    start_s: float = 0.0


class Neo4jWatch:
    """`RETURN 1` every `interval_s` on a connection of its own (auto-commit, no retries): when Neo4j fails."""

    def __init__(self, settings: Neo4jSettings, interval_s: float = 0.05) -> None:
        self.samples: list[tuple[float, float, bool]] = []  # (began, ended, answered)
        self._driver = neo4j.GraphDatabase.driver(
            settings.uri,
            auth=(settings.user, settings.password.get_secret_value()),
            connection_timeout=1.0,
            connection_acquisition_timeout=2.0,
        )
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="neo4j-watch", daemon=True)

    def start(self) -> Neo4jWatch:
        """Begin probing."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop probing and close the driver."""
        self._stop.set()
        self._thread.join(180)
        self._driver.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                with self._driver.session() as session:
                    session.run("RETURN 1").consume()
                answered = True
            except (neo4j.exceptions.DriverError, neo4j.exceptions.Neo4jError, OSError):
                answered = False
            self.samples.append((began, time.monotonic(), answered))
            self._stop.wait(self._interval)

    def first_failure_after(self, moment: float) -> float | None:
        """When the first probe begun after `moment` that failed had ended: Neo4j was down by then."""
        for began, ended, answered in self.samples:
            if began >= moment and not answered:
                return ended
        return None


def first_ack_after(calls: Iterable[Call], moment: float) -> float | None:
    """Seconds from `moment` until the first acknowledgement that arrived after it."""
    ends = [call.ended for call in calls if call.acknowledged and call.ended >= moment]
    return min(ends) - moment if ends else None


def first_healthy_after(samples: Sequence[tuple[float, int | None, float]], moment: float) -> float | None:
    """Seconds from `moment` until /healthz first answered 200 for a request sent after it."""
    for began, status, seconds in samples:
        if began >= moment and status == 200:
            return began + seconds - moment
    return None


@dataclass
class Audit:
    """What the graph holds, held against what the clients were told."""

    calls: int
    acknowledged: int
    failed_by_code: dict[str, int]
    in_doubt: int
    in_doubt_stored: int
    lost: list[str] = field(default_factory=list)  # acknowledged ids missing, or holding another text
    ghosts: list[str] = field(default_factory=list)  # stored texts of calls refused with a definite answer
    strays: list[str] = field(default_factory=list)  # stored memories no call asked for
    half_written: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counts, and the first few offenders of each kind."""
        return {
            "calls": self.calls,
            "acknowledged": self.acknowledged,
            "failed_by_code": self.failed_by_code,
            "in_doubt": self.in_doubt,
            "in_doubt_stored": self.in_doubt_stored,
            "lost": len(self.lost),
            "ghosts": len(self.ghosts),
            "strays": len(self.strays),
            "half_written": len(self.half_written),
            "duplicates": len(self.duplicates),
            "examples": {
                name: values[:5]
                for name, values in (
                    ("lost", self.lost),
                    ("ghosts", self.ghosts),
                    ("strays", self.strays),
                    ("half_written", self.half_written),
                    ("duplicates", self.duplicates),
                )
                if values
            },
        }


_MEMORIES = """
MATCH (m:Memory) WHERE m.cube_id IN $cube_ids
RETURN m.id AS id, m.cube_id AS cube_id, m.memory AS text, m.source AS source, m.content_hash AS hash,
       m.version AS version, m.created_at IS NOT NULL AS dated,
       CASE WHEN m.embedding IS NULL THEN 0 ELSE size(m.embedding) END AS dimension,
       [(c:MemCube)-[:HAS_MEMORY]->(m) | c.id] AS holders,
       COUNT { (m)-[:DERIVED_FROM {kind: 'message'}]->(:Message {cube_id: m.cube_id}) } AS messages
"""
_MESSAGES = """
MATCH (msg:Message) WHERE msg.cube_id IN $cube_ids
RETURN msg.key AS key, COUNT { (:Memory)-[:DERIVED_FROM {kind: 'message'}]->(msg) } AS derived
"""


def audit(
    driver: neo4j.Driver, cube_ids: Sequence[str], calls: Sequence[Call], dimension: int, outages: Sequence[Outage]
) -> Audit:
    """Read the cubes back and check every call's outcome against them, plus the shape of every row."""
    memories, _, _ = driver.execute_query(_MEMORIES, cube_ids=list(cube_ids), routing_=neo4j.RoutingControl.READ)
    messages, _, _ = driver.execute_query(_MESSAGES, cube_ids=list(cube_ids), routing_=neo4j.RoutingControl.READ)
    by_id = {row["id"]: row for row in memories}
    by_text: dict[str, list[str]] = {}
    for row in memories:
        by_text.setdefault(row["text"], []).append(row["id"])
    result = Audit(
        calls=len(calls),
        acknowledged=sum(call.acknowledged for call in calls),
        failed_by_code=dict(Counter(str(call.code) for call in calls if call.answered and not call.acknowledged)),
        in_doubt=sum(call.in_doubt(outages) for call in calls),
        in_doubt_stored=sum(call.in_doubt(outages) and call.text in by_text for call in calls),
    )
    for call in calls:
        if call.acknowledged:
            stored = by_id.get(call.ids[0])
            if stored is None or stored["text"] != call.text:
                result.lost.append(f"{call.ids[0]} ({call.text[:60]})")
        elif not call.in_doubt(outages) and call.text in by_text:
            result.ghosts.append(f"{call.code} after {call.seconds:.1f}s: {call.text[:60]} ({call.message[:120]})")
    asked = {call.text for call in calls}
    result.strays = [f"{row['id']}: {row['text'][:60]}" for row in memories if row["text"] not in asked]
    result.duplicates = [text[:60] for text, ids in by_text.items() if len(ids) > 1]
    for row in memories:
        problems = []
        if row["holders"] != [row["cube_id"]]:
            problems.append(f"held by {row['holders']}")
        if row["dimension"] != dimension:
            problems.append(f"embedding of {row['dimension']} dimensions")
        if not row["hash"] or row["version"] != 1 or not row["dated"]:
            problems.append("content_hash, version or created_at missing")
        if row["source"] == "conversation" and row["messages"] < 1:
            problems.append("no :Message it derives from")
        if problems:
            result.half_written.append(f"memory {row['id']}: {', '.join(problems)}")
    for row in messages:
        if row["derived"] < 1:
            result.half_written.append(f"message {row['key']}: no memory derives from it")
    return result

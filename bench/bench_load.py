"""Load: concurrent GraphQL clients mixing search, add, get and chat against the real server.

    python -m bench.bench_load [--clients 32] [--duration 60] [--users 8] [--seed-memories 50]
                               [--mix search=50,add=25,get=15,chat=10] [--timeout 60] [--keep]
    python -m bench.bench_load --hostile [--hostile-cubes 100] [--aliases 20] [--search-cubes 20]
                               [--hostile-clients 4] [--duration 30] [--output load-hostile]

--hostile measures issue 11's point 3 instead: a USER with --hostile-cubes cubes sends one request of
--aliases aliased searches over all of them, then --hostile-clients clients send such requests over
--search-cubes cubes for --duration seconds, while another USER's one-field query runs throughout; writes
bench/results/<--output>.json and .md.

Starts the OpenAI-compatible test server (testkit/fake_llm.py) in this process and the real server
(python -m graphql_schema) as a subprocess on 127.0.0.1, its log in a file. Through the API it creates
--users users, each with an API key and a cube seeded with --seed-memories memories; clients are assigned
to users round-robin, so several clients write to one cube at once. Each client then loops for --duration
seconds, picking an operation by weight. Afterwards every acknowledged add is looked up (the cube listed
through the API, and the graph's count per cube compared over Bolt with seeded + acknowledged).

An error is an HTTP status other than 200, a GraphQL `errors` entry, a transport failure or timeout, or an
answer that contradicts what the client wrote (code WRONG_RESULT). Writes bench/results/load.json and .md;
exits 1 on any error or lost write, so the run can gate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from neo4j import GraphDatabase

from bench.corpus import ACTIONS, PLACES, SUBJECTS, sentences
from memos_graph.config import MOSConfig, Neo4jSettings
from testkit.security import aliased_search
from testkit.servers import memory_mb, serve

RESULTS = Path(__file__).resolve().parent / "results"
OPERATIONS = ("search", "add", "get", "chat")
DEFAULT_MIX = "search=50,add=25,get=15,chat=10"
PAGE = 100  # the API's largest `memories` page
KEPT_MESSAGES = 5  # error messages kept per operation

CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { userId } apiKey } }"
CREATE_CUBE = "mutation($input: CreateCubeInput!) { createCube(input: $input) { cubeId } }"
ADD = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { cubeId ids } }"
GET = "query($cube: ID!, $id: ID!) { memory(cubeId: $cube, id: $id) { memoryId cubeId memory } }"
SEARCH = """query($q: String!, $cubes: [ID!], $k: Int) {
  search(query: $q, cubeIds: $cubes, topK: $k) { textMem { cubeId memories { memoryId } } }
}"""
CHAT = "mutation($q: String!, $session: String) { chat(query: $q, sessionId: $session) }"
LIST = """query($cube: ID!, $first: Int!, $after: String) {
  memories(cubeId: $cube, first: $first, after: $after) {
    edges { node { memoryId memory } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def log(message: str) -> None:
    print(f"[load] {message}", file=sys.stderr, flush=True)


# -- the server under test ----------------------------------------------------------------------------


def server_env(neo4j: Neo4jSettings, root_key: str, llm_url: str) -> dict[str, str]:
    """This process's environment plus what the server needs: Neo4j, the root key, the test LLM."""
    return {
        **os.environ,
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password.get_secret_value(),
        "NEO4J_DATABASE": neo4j.database,
        "MEMOS_ROOT_API_KEY": root_key,
        "MEMOS_LLM_MODEL": "openai/load-test",
        "MEMOS_LLM_API_BASE": llm_url,
        "OPENAI_API_KEY": "sk-test",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HF_HUB_OFFLINE": "1",
    }


def apply_root_key(neo4j: Neo4jSettings, root_key: str, root_id: str = "root") -> None:
    """Make root_key the root user's key where the graph has a root already (a server's start-up never
    replaces a key ROOT has); on a fresh graph the server's bootstrap creates root with it."""
    from memos_graph.services.identity import hash_api_key

    auth = (neo4j.user, neo4j.password.get_secret_value())
    with GraphDatabase.driver(neo4j.uri, auth=auth) as driver:
        driver.execute_query(
            "MATCH (u:User {id: $id}) SET u.api_key_hash = $digest",
            id=root_id,
            digest=hash_api_key(root_key),
            database_=neo4j.database,
        )


class CallFailed(Exception):
    """A call that did not answer with data: code is the HTTP status, GraphQL code or exception name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


async def graphql(client: httpx.AsyncClient, key: str, query: str, **variables: Any) -> dict[str, Any]:
    """POST one operation; its `data`, or CallFailed."""
    try:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {key}"}
        )
    except httpx.HTTPError as exc:
        raise CallFailed(type(exc).__name__, str(exc) or repr(exc)) from exc
    if response.status_code != 200:
        raise CallFailed(f"HTTP_{response.status_code}", response.text[:300])
    try:
        body = response.json()
    except ValueError as exc:
        raise CallFailed("BAD_JSON", response.text[:300]) from exc
    errors = body.get("errors")
    if errors:
        first = errors[0]
        raise CallFailed(str(first.get("extensions", {}).get("code", "NO_CODE")), str(first.get("message"))[:300])
    data: dict[str, Any] = body["data"]
    return data


def wrong(message: str) -> CallFailed:
    return CallFailed("WRONG_RESULT", message)


# -- set-up ---------------------------------------------------------------------------------------------


@dataclass
class LoadUser:
    """A user of the run, its cube, and every memory of that cube this run knows of (id -> text)."""

    user_id: str
    key: str
    cube_id: str
    seeded: int = 0
    known: dict[str, str] = field(default_factory=dict)
    known_ids: list[str] = field(default_factory=list)

    def remember(self, memory_id: str, text: str) -> None:
        if memory_id not in self.known:
            self.known_ids.append(memory_id)
        self.known[memory_id] = text


async def setup_users(
    base_url: str, root_key: str, count: int, seed_memories: int, token: str, timeout: float = 120.0
) -> list[LoadUser]:
    """Create `count` users (as root) with their keys, a cube each, seeded through addMemories."""
    users = []
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as client:
        for index in range(count):
            user_id = f"load-{token}-u{index}"
            data = await graphql(client, root_key, CREATE_USER, input={"id": user_id, "role": "USER"})
            key = data["createUser"]["apiKey"]
            data = await graphql(client, key, CREATE_CUBE, input={"name": f"load {index}", "id": f"{user_id}-cube"})
            user = LoadUser(user_id, key, data["createCube"]["cubeId"])
            if seed_memories:
                texts = sentences(seed_memories, seed=1000 + index)
                data = await graphql(client, key, ADD, input={"cubeId": user.cube_id, "content": texts})
                ids = data["addMemories"]["ids"]
                for memory_id, text in zip(ids, texts, strict=True):
                    user.remember(memory_id, text)
                user.seeded = len(user.known)
            users.append(user)
    return users


# -- the load -------------------------------------------------------------------------------------------


def parse_mix(text: str) -> dict[str, float]:
    """'search=50,add=25' -> weights; operations left out get 0."""
    weights = dict.fromkeys(OPERATIONS, 0.0)
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in weights:
            raise ValueError(f"unknown operation {name!r} in the mix (known: {', '.join(OPERATIONS)})")
        weights[name] = float(value)
        if weights[name] < 0:
            raise ValueError(f"negative weight for {name}")
    if sum(weights.values()) <= 0:
        raise ValueError("the mix has no positive weight")
    return weights


@dataclass
class OperationStats:
    """Latencies of the calls that succeeded; failures counted by code with the first few messages."""

    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies_s) + self.error_count

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def fail(self, failure: CallFailed) -> None:
        self.errors[failure.code] += 1
        if len(self.messages) < KEPT_MESSAGES:
            self.messages.append(f"{failure.code}: {failure.message}")

    def summary(self, elapsed_s: float) -> dict[str, Any]:
        ms = np.asarray(self.latencies_s) * 1000

        def pct(q: float) -> float | None:
            return round(float(np.percentile(ms, q)), 1) if ms.size else None

        return {
            "count": self.count,
            "ok": len(self.latencies_s),
            "errors": self.error_count,
            "errors_by_code": dict(self.errors),
            "first_errors": self.messages,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "p99_ms": pct(99),
            "max_ms": round(float(ms.max()), 1) if ms.size else None,
            "mean_ms": round(float(ms.mean()), 1) if ms.size else None,
            "ops_per_s": round(self.count / elapsed_s, 2) if elapsed_s > 0 else None,
        }


@dataclass
class WriteCheck:
    """Acknowledged adds looked up after the run, through the API's listing of each cube."""

    acknowledged: int = 0
    found: int = 0
    lost_ids: list[str] = field(default_factory=list)
    wrong_text_ids: list[str] = field(default_factory=list)
    repeated_ids: int = 0  # two acknowledged adds of different texts answered with one id
    listed_per_cube: dict[str, int] = field(default_factory=dict)
    expected_per_cube: dict[str, int] = field(default_factory=dict)
    check_errors: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.acknowledged - self.found

    def summary(self) -> dict[str, Any]:
        return {
            "acknowledged": self.acknowledged,
            "found": self.found,
            "lost": self.lost,
            "lost_ids": self.lost_ids[:20],
            "wrong_text_ids": self.wrong_text_ids[:20],
            "repeated_ids": self.repeated_ids,
            "listed_per_cube": self.listed_per_cube,
            "expected_per_cube": self.expected_per_cube,
            "check_errors": self.check_errors,
        }


@dataclass
class LoadResult:
    clients: int
    duration_s: float
    elapsed_s: float
    mix: dict[str, float]
    operations: dict[str, OperationStats]
    writes: WriteCheck
    server_rss_peak_mb: float | None = None

    @property
    def errors(self) -> int:
        return sum(stats.error_count for stats in self.operations.values())

    @property
    def ok(self) -> bool:
        writes = self.writes
        return (
            self.errors == 0
            and writes.lost == 0
            and not writes.wrong_text_ids
            and not writes.repeated_ids
            and not writes.check_errors
        )

    def summary(self) -> dict[str, Any]:
        total = sum(stats.count for stats in self.operations.values())
        return {
            "clients": self.clients,
            "duration_s": self.duration_s,
            "elapsed_s": round(self.elapsed_s, 2),
            "mix": self.mix,
            "operations": {name: stats.summary(self.elapsed_s) for name, stats in self.operations.items()},
            "total_operations": total,
            "total_ops_per_s": round(total / self.elapsed_s, 2) if self.elapsed_s > 0 else None,
            "errors": self.errors,
            "writes": self.writes.summary(),
            "server_rss_peak_during_load_mb": self.server_rss_peak_mb,
            "ok": self.ok,
        }


class Client:
    """One simulated client: its user, its own random stream, its own counter for unique texts."""

    def __init__(self, index: int, user: LoadUser, http: httpx.AsyncClient, token: str, seed: int) -> None:
        self.index = index
        self.user = user
        self.http = http
        self.token = token
        self.random = random.Random(seed * 1_000_003 + index)
        self.added = 0
        self.acknowledged: list[tuple[str, str]] = []  # (id, text) of adds the server answered
        self.phrases = sentences(200, seed=5)

    def question(self) -> str:
        pick = self.random.choice
        return f"What did {pick(SUBJECTS)} do {pick(PLACES)}? Maybe {pick(ACTIONS)}."

    async def search(self) -> None:
        data = await graphql(self.http, self.user.key, SEARCH, q=self.question(), cubes=[self.user.cube_id], k=5)
        groups = data["search"]["textMem"]
        if not groups or not groups[0]["memories"] or groups[0]["cubeId"] != self.user.cube_id:
            raise wrong(f"search of a cube holding memories answered {groups!r}")

    async def add(self) -> None:
        self.added += 1
        text = f"{self.random.choice(self.phrases)} [load {self.token} c{self.index} n{self.added}]"
        data = await graphql(self.http, self.user.key, ADD, input={"cubeId": self.user.cube_id, "content": [text]})
        ids = data["addMemories"]["ids"]
        if data["addMemories"]["cubeId"] != self.user.cube_id or len(ids) != 1:
            raise wrong(f"add answered {data!r}")
        self.acknowledged.append((ids[0], text))
        self.user.remember(ids[0], text)

    async def get(self) -> None:
        memory_id = self.random.choice(self.user.known_ids)
        data = await graphql(self.http, self.user.key, GET, cube=self.user.cube_id, id=memory_id)
        item = data["memory"]
        if item["memoryId"] != memory_id or item["memory"] != self.user.known[memory_id]:
            raise wrong(f"get of {memory_id} answered {item!r}")

    async def chat(self) -> None:
        data = await graphql(self.http, self.user.key, CHAT, q=self.question(), session=f"load-c{self.index}")
        if not data["chat"]:
            raise wrong("chat answered an empty string")

    async def run(self, deadline: float, weights: dict[str, float], stats: dict[str, OperationStats]) -> None:
        names = [name for name in OPERATIONS if weights[name] > 0]
        chances = [weights[name] for name in names]
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            name = self.random.choices(names, chances)[0]
            operation = getattr(self, name)
            start = time.perf_counter()
            try:
                await operation()
            except CallFailed as failure:
                stats[name].fail(failure)
            else:
                stats[name].latencies_s.append(time.perf_counter() - start)


async def sample_peak(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    """Keep the server's largest resident size seen while the load runs."""
    while not stop.is_set():
        with contextlib.suppress(OSError):
            peak[0] = max(peak[0], memory_mb(pid)["rss_mb"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def list_cube(http: httpx.AsyncClient, user: LoadUser) -> dict[str, str]:
    """Every memory of the user's cube (id -> text), page by page."""
    listed: dict[str, str] = {}
    after = None
    while True:
        data = await graphql(http, user.key, LIST, cube=user.cube_id, first=PAGE, after=after)
        page = data["memories"]
        listed.update({edge["node"]["memoryId"]: edge["node"]["memory"] for edge in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            return listed
        after = page["pageInfo"]["endCursor"]


async def check_writes(http: httpx.AsyncClient, users: Sequence[LoadUser], clients: Sequence[Client]) -> WriteCheck:
    """Look up every acknowledged add in a listing of its cube taken after the load."""
    check = WriteCheck()
    for user in users:
        mine = [pair for client in clients if client.user is user for pair in client.acknowledged]
        check.acknowledged += len(mine)
        check.repeated_ids += len(mine) - len({memory_id for memory_id, _ in mine})
        check.expected_per_cube[user.cube_id] = user.seeded + len({text for _, text in mine})
        try:
            listed = await list_cube(http, user)
        except CallFailed as failure:
            check.check_errors.append(f"listing {user.cube_id}: {failure}")
            continue
        check.listed_per_cube[user.cube_id] = len(listed)
        for memory_id, text in mine:
            if memory_id not in listed:
                check.lost_ids.append(memory_id)
                continue
            check.found += 1
            if listed[memory_id] != text:
                check.wrong_text_ids.append(memory_id)
        if len(listed) != check.expected_per_cube[user.cube_id]:
            check.check_errors.append(
                f"{user.cube_id}: the API lists {len(listed)} memories, expected "
                f"{check.expected_per_cube[user.cube_id]} (seeded + acknowledged)"
            )
    return check


async def run_load_async(
    base_url: str,
    users: Sequence[LoadUser],
    clients: int,
    duration: float,
    weights: Mapping[str, float],
    timeout: float = 60.0,
    seed: int = 0,
    server_pid: int | None = None,
) -> LoadResult:
    """`clients` concurrent clients (round-robin over `users`) for `duration` seconds, then the write check."""
    token = uuid.uuid4().hex[:8]
    mix = {name: float(weights.get(name, 0.0)) for name in OPERATIONS}
    stats = {name: OperationStats() for name in OPERATIONS}
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as http:
        workers = [Client(index, users[index % len(users)], http, token, seed) for index in range(clients)]
        peak = [0.0]
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_peak(server_pid, peak, stop)) if server_pid else None
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.gather(*(worker.run(start + duration, mix, stats) for worker in workers))
        elapsed = loop.time() - start
        stop.set()
        if sampler is not None:
            await sampler
        writes = await check_writes(http, users, workers)
    return LoadResult(clients, duration, elapsed, mix, stats, writes, peak[0] if server_pid else None)


def run_load(
    base_url: str,
    users: Sequence[LoadUser],
    clients: int,
    duration: float,
    weights: Mapping[str, float],
    timeout: float = 60.0,
    seed: int = 0,
    server_pid: int | None = None,
) -> LoadResult:
    """The load and the write check from synchronous code."""
    return asyncio.run(run_load_async(base_url, users, clients, duration, weights, timeout, seed, server_pid))


# -- two server configurations side by side ---------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One server configuration of a --compare run: extra environment, and uvicorn worker processes (1: the
    module's own launcher, `python -m graphql_schema`; more: `uvicorn graphql_schema.app:create_app --factory
    --workers N`)."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1

    @classmethod
    def parse(cls, name: str, text: str) -> Side:
        """'{"env": {"MEMOS_MAX_WORKER_THREADS": "32"}, "workers": 2}' (either key may be left out)."""
        spec = json.loads(text or "{}")
        unknown = set(spec) - {"env", "workers", "name"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)} in side {text!r} (known: env, workers, name)")
        env = {str(key): str(value) for key, value in spec.get("env", {}).items()}
        return cls(str(spec.get("name", name)), env, int(spec.get("workers", 1)))

    def command(self) -> list[str] | None:
        if self.workers <= 1:
            return None
        return [
            sys.executable, "-m", "uvicorn", "graphql_schema.app:create_app", "--factory",
            "--workers", str(self.workers),
        ]  # fmt: skip

    def describe(self) -> str:
        parts = [f"{key}={value}" for key, value in sorted(self.env.items())]
        if self.workers > 1:
            parts.append(f"uvicorn --workers {self.workers}")
        return ", ".join(parts) or "defaults"


def process_tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its children that are alive (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0.0
    for each in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def neo4j_pid(neo4j: Neo4jSettings) -> int | None:
    """The Java process listening on Neo4j's Bolt port (the local scripts/neo4j.sh server), if found."""
    port = neo4j.uri.rsplit(":", 1)[-1]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"java") and any(f"neo4j-home-{port}".encode() in arg for arg in argv):
                return int(entry.name)
    return None


async def run_compare_async(
    servers: Sequence[tuple[Side, str, int]],
    users: Sequence[LoadUser],
    clients: int,
    window: float,
    rounds: int,
    weights: Mapping[str, float],
    timeout: float,
    seed: int,
    neo4j_process: int | None,
) -> dict[str, Any]:
    """`rounds` rounds; in each, every side in turn gets the `clients` clients alone for `window` seconds (the
    order reversed every other round), so both see the same drift of a shared machine. Then the write check
    through the first server (both share one graph)."""
    token = uuid.uuid4().hex[:8]
    mix = {name: float(weights.get(name, 0.0)) for name in OPERATIONS}
    stats = {side.name: {name: OperationStats() for name in OPERATIONS} for side, _, _ in servers}
    elapsed = dict.fromkeys(stats, 0.0)
    cpu = {name: {"server_s": 0.0, "neo4j_s": 0.0} for name in stats}
    per_round: list[dict[str, float]] = []
    limits = httpx.Limits(max_connections=clients + 4, max_keepalive_connections=clients + 4)
    https = {side.name: httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) for side, url, _ in servers}
    try:
        workers = [
            Client(index, users[index % len(users)], https[servers[0][0].name], token, seed) for index in range(clients)
        ]
        loop = asyncio.get_running_loop()
        for number in range(rounds):
            order = list(servers) if number % 2 == 0 else list(reversed(servers))
            this_round: dict[str, float] = {}
            for side, _, pid in order:
                for worker in workers:
                    worker.http = https[side.name]
                server_before = process_tree_cpu_s(pid)
                neo4j_before = process_tree_cpu_s(neo4j_process) if neo4j_process else 0.0
                start = loop.time()
                counted = sum(each.count for each in stats[side.name].values())
                await asyncio.gather(*(worker.run(start + window, mix, stats[side.name]) for worker in workers))
                spent = loop.time() - start
                elapsed[side.name] += spent
                cpu[side.name]["server_s"] += process_tree_cpu_s(pid) - server_before
                if neo4j_process:
                    cpu[side.name]["neo4j_s"] += process_tree_cpu_s(neo4j_process) - neo4j_before
                done = sum(each.count for each in stats[side.name].values()) - counted
                this_round[side.name] = round(done / spent, 2)
                log(f"round {number + 1} {side.name}: {this_round[side.name]} ops/s")
            per_round.append(this_round)
        writes = await check_writes(https[servers[0][0].name], users, workers)
    finally:
        for http in https.values():
            await http.aclose()
    sides: dict[str, Any] = {}
    for side, _, _ in servers:
        result = LoadResult(clients, window * rounds, elapsed[side.name], mix, stats[side.name], WriteCheck())
        summary = result.summary()
        summary.pop("writes")
        summary.pop("ok")
        total = summary["total_operations"] or 1
        summary["cpu_ms_per_operation"] = {
            key.removesuffix("_s"): round(1000 * value / total, 1) for key, value in cpu[side.name].items()
        }
        summary["side"] = {"env": side.env, "workers": side.workers, "described": side.describe()}
        sides[side.name] = summary
    return {
        "sides": sides,
        "per_round_ops_per_s": per_round,
        "writes": writes.summary(),
        "errors": sum(figures["errors"] for figures in sides.values()),
        "lost": writes.lost,
        "ok": all(figures["errors"] == 0 for figures in sides.values())
        and writes.lost == 0
        and not writes.wrong_text_ids
        and not writes.repeated_ids
        and not writes.check_errors,
    }


def write_compare_results(payload: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    config, run = payload["config"], payload["result"]
    base_name, other_name = list(run["sides"])
    base, other = run["sides"][base_name], run["sides"][other_name]

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f}" if a is not None and b else "-"

    lines = [
        f"# load benchmark: two server configurations side by side ({payload['started']})",
        "",
        f"{payload['machine']}. {config['clients']} clients over {config['users']} users (one cube each, seeded "
        f"with {config['seed_memories']} memories), mix {config['mix']}, chat against the local test LLM; client, "
        f"servers and Neo4j on one machine (other work may run at the same time). Both servers run against one "
        f"Neo4j; in each of {config['rounds']} rounds each side gets all clients alone for {config['window_s']:g} s, "
        "the order reversed every other round. Ratios are the second side over the first.",
        "",
        f"- **{base_name}**: {base['side']['described']}",
        f"- **{other_name}**: {other['side']['described']}",
        "",
        f"| operation | {base_name} n | {other_name} n | {base_name} p50 ms | {other_name} p50 ms | p50 ratio | "
        f"{base_name} p95 ms | {other_name} p95 ms | p95 ratio | {base_name} ops/s | {other_name} ops/s | "
        "ops/s ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for operation in OPERATIONS:
        a, b = base["operations"][operation], other["operations"][operation]
        lines.append(
            f"| {operation} | {a['count']} | {b['count']} | {a['p50_ms']} | {b['p50_ms']} | "
            f"{ratio(b['p50_ms'], a['p50_ms'])} | {a['p95_ms']} | {b['p95_ms']} | {ratio(b['p95_ms'], a['p95_ms'])} | "
            f"{a['ops_per_s']} | {b['ops_per_s']} | {ratio(b['ops_per_s'], a['ops_per_s'])} |"
        )
    lines.append(
        f"| all | {base['total_operations']} | {other['total_operations']} | | | | | | | {base['total_ops_per_s']} | "
        f"{other['total_ops_per_s']} | {ratio(other['total_ops_per_s'], base['total_ops_per_s'])} |"
    )
    rounds = run["per_round_ops_per_s"]
    lines += [
        "",
        "ops/s per round ("
        + base_name
        + " / "
        + other_name
        + "; ratio): "
        + "; ".join(
            f"{each[base_name]} / {each[other_name]} ({ratio(each[other_name], each[base_name])})" for each in rounds
        )
        + ".",
        "",
        f"CPU per operation (ms, server process tree / Neo4j): {base_name} {base['cpu_ms_per_operation']['server']} / "
        f"{base['cpu_ms_per_operation']['neo4j']}; {other_name} {other['cpu_ms_per_operation']['server']} / "
        f"{other['cpu_ms_per_operation']['neo4j']}.",
        "",
        f"Errors: {base_name} {base['errors']}, {other_name} {other['errors']}. Writes: "
        f"{run['writes']['acknowledged']} adds acknowledged, {run['writes']['found']} found afterwards, "
        f"**{run['writes']['lost']} lost**; graph count per cube equals seeded + acknowledged: "
        f"{'yes' if not payload['graph_count_mismatches'] else 'NO'}. Result: {'PASS' if payload['ok'] else 'FAIL'}.",
    ]
    errors = {
        side: {name: f["errors_by_code"] for name, f in figures["operations"].items() if f["errors"]}
        for side, figures in run["sides"].items()
    }
    if any(errors.values()):
        lines += ["", f"Errors by code: `{json.dumps(errors)}`"]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def compare_main(args: argparse.Namespace, weights: dict[str, float]) -> int:
    from testkit.fake_llm import serve_fake_openai

    sides = [Side.parse("base", args.base), Side.parse("candidate", args.compare)]
    if sides[0].name == sides[1].name:
        sides[1] = Side(sides[1].name + "-2", sides[1].env, sides[1].workers)
    neo4j = MOSConfig.load().neo4j
    token = uuid.uuid4().hex[:8]
    root_key = f"mgk_load_root_{secrets.token_hex(16)}"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    users: list[LoadUser] = []
    apply_root_key(neo4j, root_key, MOSConfig.load().user_id)
    with contextlib.ExitStack() as stack:
        llm = stack.enter_context(serve_fake_openai())
        servers = []
        for side in sides:
            log_path = Path(tempfile.gettempdir()) / f"memos-load-{side.name}-{token}.log"
            env = {**server_env(neo4j, root_key, llm.url), **side.env}
            server = stack.enter_context(serve(env, log_path, command=side.command()))
            log(f"{side.name} ({side.describe()}): {server.base_url} (pid {server.pid}), log {log_path}")
            servers.append((side, server.base_url, server.pid))
        try:
            users = asyncio.run(setup_users(servers[0][1], root_key, args.users, args.seed_memories, token))
            log(f"{len(users)} users seeded; {args.clients} clients, {args.rounds} rounds of {args.window:g} s a side")
            result = asyncio.run(
                run_compare_async(
                    servers, users, args.clients, args.window, args.rounds, weights, args.timeout, args.seed,
                    neo4j_pid(neo4j),
                )
            )  # fmt: skip
            counts = graph_counts(neo4j, users)
            mismatches = count_mismatches(counts, result["writes"]["expected_per_cube"])
        finally:
            if users and not args.keep:
                cleanup(neo4j, users)
    payload = {
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "config": {
            "clients": args.clients,
            "window_s": args.window,
            "rounds": args.rounds,
            "users": args.users,
            "seed_memories": args.seed_memories,
            "mix": args.mix,
            "timeout_s": args.timeout,
            "seed": args.seed,
        },
        "result": result,
        "graph_counts": counts,
        "graph_count_mismatches": mismatches,
        "ok": result["ok"] and not mismatches,
    }
    write_compare_results(payload, args.output if args.output != "load-hostile" else "load-compare")
    for name, figures in result["sides"].items():
        for operation, each in figures["operations"].items():
            log(f"{name:10} {operation:6} n={each['count']:5} errors={each['errors']} p50={each['p50_ms']} ms "
                f"p95={each['p95_ms']} ms {each['ops_per_s']} ops/s")  # fmt: skip
        log(f"{name:10} all {figures['total_ops_per_s']} ops/s; CPU ms/op {figures['cpu_ms_per_operation']}")
    log(f"writes: {result['writes']['acknowledged']} acknowledged, {result['writes']['lost']} lost; "
        f"{'PASS' if payload['ok'] else 'FAIL'}")  # fmt: skip
    return 0 if payload["ok"] else 1


# -- the graph's side ------------------------------------------------------------------------------------


def graph_counts(neo4j: Neo4jSettings, users: Sequence[LoadUser]) -> dict[str, dict[str, int]]:
    """Per cube, over Bolt: memories linked from the cube and memories carrying its cube_id."""
    auth = (neo4j.user, neo4j.password.get_secret_value())
    with GraphDatabase.driver(neo4j.uri, auth=auth) as driver:
        records, _, _ = driver.execute_query(
            "UNWIND $cubes AS cube_id "
            "OPTIONAL MATCH (:MemCube {id: cube_id})-[:HAS_MEMORY]->(linked:Memory) "
            "WITH cube_id, count(linked) AS linked "
            "OPTIONAL MATCH (m:Memory {cube_id: cube_id}) "
            "RETURN cube_id, linked, count(m) AS stored",
            cubes=[user.cube_id for user in users],
            database_=neo4j.database,
        )
    return {record["cube_id"]: {"linked": record["linked"], "stored": record["stored"]} for record in records}


def count_mismatches(counts: Mapping[str, Mapping[str, int]], expected: Mapping[str, int]) -> list[str]:
    """Cubes whose graph count differs from seeded + acknowledged."""
    return [
        f"{cube_id}: graph holds {found['stored']} (linked {found['linked']}), expected {expected.get(cube_id)}"
        for cube_id, found in counts.items()
        if found["stored"] != expected.get(cube_id) or found["linked"] != expected.get(cube_id)
    ]


def cleanup(neo4j: Neo4jSettings, users: Sequence[LoadUser]) -> None:
    """Delete the run's users, cubes, memories and chat turns (nothing else)."""
    auth = (neo4j.user, neo4j.password.get_secret_value())
    params = {"users": [user.user_id for user in users], "cubes": [user.cube_id for user in users]}
    with GraphDatabase.driver(neo4j.uri, auth=auth) as driver:
        for statement in (
            "MATCH (m:Memory) WHERE m.cube_id IN $cubes DETACH DELETE m",
            "MATCH (u:User)-[:HAS_TURN]->(t:ChatTurn) WHERE u.id IN $users DETACH DELETE t",
            "MATCH (c:MemCube) WHERE c.id IN $cubes DETACH DELETE c",
            "MATCH (u:User) WHERE u.id IN $users DETACH DELETE u",
        ):
            driver.execute_query(statement, params, database_=neo4j.database)


# -- the benchmark ---------------------------------------------------------------------------------------


def write_results(payload: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(payload, indent=2) + "\n")
    load = payload["load"]
    writes = load["writes"]
    config = payload["config"]
    lines = [
        "# load benchmark",
        "",
        f"Run {payload['started']} on {payload['machine']}. {config['clients']} clients over "
        f"{config['users']} users (one cube each, seeded with {config['seed_memories']} memories), "
        f"{config['duration_s']} s, mix {config['mix']}, chat against the local OpenAI-compatible test server; "
        "client and server on 127.0.0.1 on the same machine.",
        "",
        "| operation | count | errors | p50 ms | p95 ms | p99 ms | ops/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, figures in load["operations"].items():
        lines.append(
            f"| {name} | {figures['count']} | {figures['errors']} | {figures['p50_ms']} | {figures['p95_ms']} | "
            f"{figures['p99_ms']} | {figures['ops_per_s']} |"
        )
    lines += [
        f"| all | {load['total_operations']} | {load['errors']} | | | | {load['total_ops_per_s']} |",
        "",
        f"Writes: {writes['acknowledged']} adds acknowledged, {writes['found']} found afterwards, "
        f"**{writes['lost']} lost**; graph count per cube equals seeded + acknowledged: "
        f"{'yes' if not payload['graph_count_mismatches'] else 'NO'}.",
        "",
        f"Server resident memory: {payload['server_memory']['before']['rss_mb']} MB before the load, "
        f"{load['server_rss_peak_during_load_mb']} MB at most during it, "
        f"{payload['server_memory']['after']['rss_mb']} MB after.",
        "",
        f"Result: {'PASS' if payload['ok'] else 'FAIL'}.",
    ]
    errors = {name: f["errors_by_code"] for name, f in load["operations"].items() if f["errors"]}
    if errors:
        lines += ["", f"Errors by code: `{json.dumps(errors)}`"]
    (RESULTS / "load.md").write_text("\n".join(lines) + "\n")


# -- a hostile tenant next to a quiet one --------------------------------------------------------------------

VICTIM_QUERY = "{ me { user { userId } } }"


@dataclass
class Timings:
    """Latencies (s) and failure codes of a stream of calls."""

    latencies_s: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    messages: list[str] = field(default_factory=list)

    def record(self, seconds: float, failure: CallFailed | None = None) -> None:
        self.latencies_s.append(seconds)
        if failure is not None:
            self.codes[failure.code] += 1
            if len(self.messages) < KEPT_MESSAGES:
                self.messages.append(f"{failure.code}: {failure.message}")

    def summary(self) -> dict[str, Any]:
        ms = np.asarray(self.latencies_s) * 1000

        def pct(q: float) -> float | None:
            return round(float(np.percentile(ms, q)), 1) if ms.size else None

        return {
            "count": int(ms.size),
            "failed": sum(self.codes.values()),
            "codes": dict(self.codes),
            "first_errors": self.messages,
            "p50_ms": pct(50),
            "p95_ms": pct(95),
            "max_ms": round(float(ms.max()), 1) if ms.size else None,
        }


async def timed_call(http: httpx.AsyncClient, key: str, query: str, into: Timings, **variables: Any) -> None:
    start = time.perf_counter()
    try:
        await graphql(http, key, query, **variables)
    except CallFailed as failure:
        into.record(time.perf_counter() - start, failure)
    else:
        into.record(time.perf_counter() - start)


async def victim_loop(http: httpx.AsyncClient, key: str, stop: asyncio.Event, into: Timings) -> None:
    """The quiet tenant: one one-field query at a time, 0.1 s apart, until stopped."""
    while not stop.is_set():
        await timed_call(http, key, VICTIM_QUERY, into)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def setup_hostile(base_url: str, root_key: str, token: str, cubes: int, memories: int) -> dict[str, Any]:
    """A hostile USER with `cubes` cubes of `memories` memories each, and a victim USER with one cube."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120.0) as client:
        made: dict[str, Any] = {}
        for role in ("hostile", "victim"):
            user_id = f"load-{token}-{role}"
            data = await graphql(client, root_key, CREATE_USER, input={"id": user_id, "role": "USER"})
            made[f"{role}_id"], made[f"{role}_key"] = user_id, data["createUser"]["apiKey"]
        cube_ids = []
        for index in range(cubes):
            data = await graphql(
                client,
                made["hostile_key"],
                CREATE_CUBE,
                input={"name": f"hostile {index}", "id": f"load-{token}-h{index}"},
            )
            cube_ids.append(data["createCube"]["cubeId"])
            await graphql(
                client,
                made["hostile_key"],
                ADD,
                input={"cubeId": cube_ids[-1], "content": sentences(memories, seed=index)},
            )
        made["hostile_cubes"] = cube_ids
        data = await graphql(client, made["victim_key"], CREATE_CUBE, input={"name": "victim", "id": f"load-{token}-v"})
        made["victim_cube"] = data["createCube"]["cubeId"]
        return made


async def run_hostile_async(base_url: str, made: Mapping[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Two phases, each with the victim querying throughout: (1) one request of --aliases searches over all
    the hostile tenant's cubes; (2) --hostile-clients clients sending such requests over --search-cubes cubes
    (within the limits) for --duration seconds."""
    limits = httpx.Limits(max_connections=args.hostile_clients + 8)
    async with httpx.AsyncClient(base_url=base_url, timeout=args.timeout, limits=limits) as http:
        victim_key, hostile_key = made["victim_key"], made["hostile_key"]
        await timed_call(http, victim_key, VICTIM_QUERY, Timings())  # warm
        result: dict[str, Any] = {}

        stop = asyncio.Event()
        baseline = Timings()
        task = asyncio.create_task(victim_loop(http, victim_key, stop, baseline))
        await asyncio.sleep(2.0)
        stop.set()
        await task
        result["victim_alone"] = baseline.summary()

        # (1) the oversized request
        stop, during, hostile = asyncio.Event(), Timings(), Timings()
        task = asyncio.create_task(victim_loop(http, victim_key, stop, during))
        await asyncio.sleep(0.5)
        began = len(during.latencies_s)
        await timed_call(http, hostile_key, aliased_search(args.aliases), hostile, cubes=made["hostile_cubes"], k=5)
        stop.set()
        await task
        during.latencies_s = during.latencies_s[began:]
        result["oversized"] = {
            "aliases": args.aliases,
            "cubes": len(made["hostile_cubes"]),
            "top_k": 5,
            "hostile_request": hostile.summary(),
            "victim_during": during.summary(),
        }

        # (2) sustained requests within the limits
        cubes = made["hostile_cubes"][: args.search_cubes]
        stop, during, hostile = asyncio.Event(), Timings(), Timings()
        deadline = time.monotonic() + args.duration

        async def hostile_client() -> None:
            while time.monotonic() < deadline:
                await timed_call(http, hostile_key, aliased_search(args.aliases), hostile, cubes=cubes, k=5)

        task = asyncio.create_task(victim_loop(http, victim_key, stop, during))
        await asyncio.gather(*(hostile_client() for _ in range(args.hostile_clients)))
        stop.set()
        await task
        result["sustained"] = {
            "clients": args.hostile_clients,
            "aliases": args.aliases,
            "cubes": len(cubes),
            "top_k": 5,
            "duration_s": args.duration,
            "hostile_requests": hostile.summary(),
            "victim_during": during.summary(),
        }
        return result


def cleanup_hostile(neo4j: Neo4jSettings, made: Mapping[str, Any]) -> None:
    """Delete the hostile run's users, cubes and memories."""
    users = [LoadUser(made["hostile_id"], "", cube) for cube in made["hostile_cubes"]]
    users.append(LoadUser(made["victim_id"], "", made["victim_cube"]))
    cleanup(neo4j, users)


def write_hostile_results(payload: dict[str, Any], name: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    run = payload["result"]
    over, sustained = run["oversized"], run["sustained"]

    def ms(figures: Mapping[str, Any], key: str) -> str:
        value = figures.get(key)
        return "-" if value is None else f"{value / 1000:.2f}"

    lines = [
        "# hostile tenant next to a quiet one (issue 11, point 3)",
        "",
        f"Run {payload['started']} on {payload['machine']}, code at {payload['code']}. A USER with "
        f"{over['cubes']} cubes ({payload['config']['hostile_memories']} memories each) sends GraphQL requests of "
        f"{over['aliases']} aliased `search` fields (topK 5); another USER sends `{VICTIM_QUERY}` one at a time, "
        "0.1 s apart, throughout. Client and server on 127.0.0.1, one machine.",
        "",
        "| phase | hostile requests | hostile codes | hostile p50 s | hostile max s | victim queries | "
        "victim p50 s | victim p95 s | victim max s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
        f"| victim alone | 0 | | | | {run['victim_alone']['count']} | {ms(run['victim_alone'], 'p50_ms')} | "
        f"{ms(run['victim_alone'], 'p95_ms')} | {ms(run['victim_alone'], 'max_ms')} |",
    ]
    for label, figures, hostile in (
        (
            f"one request, {over['aliases']} aliases x {over['cubes']} cubes",
            over["victim_during"],
            over["hostile_request"],
        ),
        (
            f"{sustained['clients']} clients for {sustained['duration_s']:g} s, {sustained['aliases']} aliases x "
            f"{sustained['cubes']} cubes",
            sustained["victim_during"],
            sustained["hostile_requests"],
        ),
    ):
        lines.append(
            f"| {label} | {hostile['count']} | {json.dumps(hostile['codes']) if hostile['codes'] else 'ok'} | "
            f"{ms(hostile, 'p50_ms')} | {ms(hostile, 'max_ms')} | {figures['count']} | {ms(figures, 'p50_ms')} | "
            f"{ms(figures, 'p95_ms')} | {ms(figures, 'max_ms')} |"
        )
    errors = [
        message
        for part in (over["hostile_request"], sustained["hostile_requests"])
        for message in part["first_errors"][:2]
    ]
    if errors:
        lines += ["", "First hostile errors:", "", *(f"- `{message[:200]}`" for message in errors)]
    victim_failures = over["victim_during"]["failed"] + sustained["victim_during"]["failed"]
    lines += ["", f"Victim queries that failed: {victim_failures}."]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def hostile_main(args: argparse.Namespace) -> int:
    neo4j = MOSConfig.load().neo4j
    token = uuid.uuid4().hex[:8]
    root_key = f"mgk_load_root_{secrets.token_hex(16)}"
    log_path = Path(tempfile.gettempdir()) / f"memos-load-hostile-{token}.log"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    made: dict[str, Any] = {}
    from testkit.fake_llm import serve_fake_openai

    apply_root_key(neo4j, root_key, MOSConfig.load().user_id)
    with serve_fake_openai() as llm, serve(server_env(neo4j, root_key, llm.url), log_path) as server:
        log(f"server {server.base_url} (pid {server.pid}), log {log_path}")
        try:
            made = asyncio.run(
                setup_hostile(server.base_url, root_key, token, args.hostile_cubes, args.hostile_memories)
            )
            log(f"hostile tenant with {len(made['hostile_cubes'])} cubes ready")
            result = asyncio.run(run_hostile_async(server.base_url, made, args))
        finally:
            if made and not args.keep:
                cleanup_hostile(neo4j, made)
    payload = {
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "code": args.code_label,
        "config": {
            "hostile_cubes": args.hostile_cubes,
            "hostile_memories": args.hostile_memories,
            "aliases": args.aliases,
            "search_cubes": args.search_cubes,
            "hostile_clients": args.hostile_clients,
            "duration_s": args.duration,
            "timeout_s": args.timeout,
        },
        "result": result,
        "server_log": str(log_path),
    }
    write_hostile_results(payload, args.output)
    log(json.dumps(result, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="instead of the mixed load: a hostile tenant's aliased searches next to a quiet "
        "tenant's one-field queries (writes bench/results/<--output>.md)",
    )
    parser.add_argument("--hostile-cubes", type=int, default=100, help="--hostile: cubes of the hostile tenant")
    parser.add_argument("--hostile-memories", type=int, default=5, help="--hostile: memories per hostile cube")
    parser.add_argument("--aliases", type=int, default=20, help="--hostile: search fields per request")
    parser.add_argument("--search-cubes", type=int, default=20, help="--hostile: cubes per search, sustained phase")
    parser.add_argument("--hostile-clients", type=int, default=4, help="--hostile: concurrent hostile clients")
    parser.add_argument("--output", default="load-hostile", help="--hostile: results file name")
    parser.add_argument("--code-label", default="the working tree", help="--hostile: which code ran (for the log)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--users", type=int, default=8, help="users, one cube each")
    parser.add_argument("--seed-memories", type=int, default=50, help="memories per cube before the load")
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"operation weights (default {DEFAULT_MIX})")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request before it counts as failed")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the clients' choices")
    parser.add_argument("--keep", action="store_true", help="keep the run's users, cubes and memories")
    parser.add_argument(
        "--compare",
        metavar="SIDE",
        help="instead of one server: this server configuration against --base, in alternating windows; a side "
        'is JSON, {"name": "...", "env": {"MEMOS_MAX_WORKER_THREADS": "32"}, "workers": 2} (uvicorn processes); '
        "writes bench/results/<--output, default load-compare>.md",
    )
    parser.add_argument("--base", default='{"name": "base"}', metavar="SIDE", help="--compare: the first side")
    parser.add_argument("--window", type=float, default=15.0, help="--compare: seconds a side gets per round")
    parser.add_argument("--rounds", type=int, default=4, help="--compare: rounds (each side once per round)")
    args = parser.parse_args()
    if args.hostile:
        return hostile_main(args)
    weights = parse_mix(args.mix)
    if args.users < 1 or args.clients < 1 or (weights["get"] > 0 and args.seed_memories < 1):
        parser.error("need at least one user and one client, and seeded memories when the mix has get")

    if args.compare is not None:
        return compare_main(args, weights)
    from testkit.fake_llm import serve_fake_openai

    neo4j = MOSConfig.load().neo4j
    token = uuid.uuid4().hex[:8]
    root_key = f"mgk_load_root_{secrets.token_hex(16)}"
    log_path = Path(tempfile.gettempdir()) / f"memos-load-server-{token}.log"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    users: list[LoadUser] = []
    apply_root_key(neo4j, root_key, MOSConfig.load().user_id)
    with serve_fake_openai() as llm, serve(server_env(neo4j, root_key, llm.url), log_path) as server:
        log(f"server {server.base_url} (pid {server.pid}), log {log_path}")
        try:
            users = asyncio.run(setup_users(server.base_url, root_key, args.users, args.seed_memories, token))
            before = memory_mb(server.pid)
            log(f"{len(users)} users seeded; {args.clients} clients for {args.duration:g} s")
            result = run_load(
                server.base_url, users, args.clients, args.duration, weights, args.timeout, args.seed, server.pid
            )
            after = memory_mb(server.pid)
            counts = graph_counts(neo4j, users)
            mismatches = count_mismatches(counts, result.writes.expected_per_cube)
        finally:
            if users and not args.keep:
                cleanup(neo4j, users)
    load = result.summary()
    payload = {
        "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "note": "client, server, test LLM and Neo4j share this machine (other work may run at the same time)",
        "config": {
            "clients": args.clients,
            "duration_s": args.duration,
            "users": args.users,
            "seed_memories": args.seed_memories,
            "mix": args.mix,
            "timeout_s": args.timeout,
            "seed": args.seed,
        },
        "load": load,
        "graph_counts": counts,
        "graph_count_mismatches": mismatches,
        "server_memory": {"before": before, "after": after},
        "server_log": str(log_path),
        "chat_requests_seen_by_test_llm": len(llm.requests),
        "ok": result.ok and not mismatches,
    }
    write_results(payload)
    for name, figures in load["operations"].items():
        log(
            f"{name:6} n={figures['count']:5} errors={figures['errors']} p50={figures['p50_ms']} ms "
            f"p95={figures['p95_ms']} ms p99={figures['p99_ms']} ms {figures['ops_per_s']} ops/s"
        )
    writes = load["writes"]
    log(
        f"writes: acknowledged {writes['acknowledged']}, found {writes['found']}, lost {writes['lost']}; "
        f"graph count mismatches: {mismatches or 'none'}"
    )
    log(
        f"server RSS {before['rss_mb']} -> {after['rss_mb']} MB (peak during load "
        f"{load['server_rss_peak_during_load_mb']} MB); {'PASS' if payload['ok'] else 'FAIL'}"
    )
    return 0 if payload["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

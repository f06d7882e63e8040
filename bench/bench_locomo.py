"""LoCoMo retrieval benchmark: Recall@k and Hit@k of MOS.search over conversations added as messages, for a grid
of search settings chosen by leave-one-conversation-out cross-validation, beside same-run baselines.

    python -m bench.bench_locomo [--data PATH] [--conversations N] [--grid PATH_OR_JSON] [--top-k 20]
                                 [--name locomo-cv] [--tenant-check] [--bolt-port 7693] [--http-port 7479]
                                 [--keep-neo4j] [--dry-run]

Protocol (from the data's README): one user, one cube per conversation; each session is one
add(messages=...), one message per turn with the turn's dia_id as message_id; each question is one search
of that cube, and the ranked memories map to turns through metadata.sources[*].message_id.

--grid is a JSON list (inline, or a file) of SearchSettings overrides, each with an optional "name":
'[{}, {"name": "no-expansion", "expand_top": 0}]'. The project defaults ({}) always come first; the default
grid is just them, which is the plain benchmark. Each conversation is ingested once, into a database holding
nothing else, and every setting answers every question. The same run ranks the stored memory texts with
three in-process baselines: BM25 (bm25s, English stop words and stemmer), exact cosine with the project's
embedder, and RRF (k=60) of the two. Cross-validation: for each held-out conversation, the setting with the
best mean R@10 over the other conversations' questions (ties: earlier in the grid) is scored on it; the
headline is the pooled held-out score, each question scored once. --tenant-check also ranks the first
conversation's questions before and after 6,000 filler memories land in another user's cube.

Neo4j: the benchmark starts its own with scripts/neo4j.sh on --bolt-port/--http-port (7693/7479), empties
it before each conversation and wipes it at the end (--keep-neo4j leaves it running, emptied). A server on
that port which was already running and holds nodes is refused, and so is the shared port 7687; NEO4J_URI
is ignored.
Writes bench/results/<name>.json and <name>.md; neither holds question or conversation text.
The data is not part of the project: point --data at any LoCoMo file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.locomo_cv import CATEGORIES, SCORED, Setting, parse_grid, turns_in_order

if TYPE_CHECKING:
    from memos_graph.config import MOSConfig
    from memos_graph.services.runtime import Runtime

# The team's shared data sits beside the repository (shared/ next to the checkout); never inside it.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev" / "locomo-dev.json"
NEO4J_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "neo4j.sh"
SHARED_BOLT_PORT = 7687  # scripts/neo4j.sh's default: the server the tests and bench/run.sh share
KS = (1, 5, 10, 20)
TURN_REF = re.compile(r"D:?(\d+):(\d+)")
SESSION_KEY = re.compile(r"session_(\d+)")


@dataclass(frozen=True)
class Question:
    """A question with its category and its gold turns (normalised ids, all existing in the conversation)."""

    text: str
    category: int
    gold: tuple[str, ...]


def normalise_turn_id(dia_id: str) -> str | None:
    """The turn a dia_id names as "D<s>:<t>" without leading zeros ("D30:05" -> "D30:5"); None if it names none."""
    match = TURN_REF.search(dia_id)
    return f"D{int(match.group(1))}:{int(match.group(2))}" if match else None


def parse_evidence(evidence: Iterable[object], known: set[str]) -> list[str]:
    """Every turn referenced in the evidence strings ("D8:6; D9:17", "D:11:26" included), normalised.

    References to turns not in `known` are dropped; order of first mention, no repeats.
    """
    found: list[str] = []
    for entry in evidence:
        for session, turn in TURN_REF.findall(str(entry)):
            turn_id = f"D{int(session)}:{int(turn)}"
            if turn_id in known and turn_id not in found:
                found.append(turn_id)
    return found


def session_numbers(conversation: Mapping[str, Any]) -> list[int]:
    """The N of every `session_<N>` key holding a list of turns, in numeric order (10 after 9)."""
    numbers = [int(m.group(1)) for key in conversation if (m := SESSION_KEY.fullmatch(key))]
    return sorted(n for n in numbers if isinstance(conversation[f"session_{n}"], list))


def known_turns(conversation: Mapping[str, Any]) -> set[str]:
    """The normalised ids of every turn of the conversation."""
    ids = (
        normalise_turn_id(str(t["dia_id"])) for n in session_numbers(conversation) for t in conversation[f"session_{n}"]
    )
    return {turn_id for turn_id in ids if turn_id is not None}


PROTOCOLS = ("name", "content")


def session_messages(conversation: Mapping[str, Any], n: int, protocol: str = "name") -> list[dict[str, Any]]:
    """Session n as add(messages=...) input: one message per turn, role by speaker, photo caption appended.
    Protocol "name": the speaker in the message's `name`; "content": as MemOS users send it, the speaker inside
    the content ("Caroline: ...") and no `name`."""
    speaker_a = conversation["speaker_a"]
    chat_time = str(conversation.get(f"session_{n}_date_time", ""))
    messages: list[dict[str, Any]] = []
    for turn in conversation[f"session_{n}"]:
        content = str(turn["text"])
        if turn.get("blip_caption"):
            content += f" [shares a photo: {turn['blip_caption']}]"
        message = {
            "role": "user" if turn["speaker"] == speaker_a else "assistant",
            "name": turn["speaker"],
            "content": content,
            "chat_time": chat_time,
            "message_id": turn["dia_id"],
        }
        if protocol == "content":
            message["content"] = f"{message.pop('name')}: {content}"
        messages.append(message)
    return messages


def load_questions(sample: Mapping[str, Any]) -> tuple[list[Question], dict[int, int]]:
    """The sample's questions of known categories with their gold turns, and per category how many were
    skipped because no evidence reference survived parsing."""
    known = known_turns(sample["conversation"])
    kept: list[Question] = []
    skipped = dict.fromkeys(CATEGORIES, 0)
    for qa in sample.get("qa", []):
        category = int(qa.get("category", 0))
        if category not in CATEGORIES:
            continue
        gold = parse_evidence(qa.get("evidence") or [], known)
        if gold:
            kept.append(Question(str(qa["question"]), category, tuple(gold)))
        else:
            skipped[category] += 1
    return kept, skipped


def memory_turns(item: Any) -> list[str]:
    """The turns one memory came from: its sources' message_ids, normalised, in source order."""
    ids = (getattr(source, "message_id", None) for source in item.metadata.sources or [])
    return [turn for turn in (normalise_turn_id(str(i)) for i in ids if i) if turn is not None]


def ranked_memories(result: Mapping[str, Sequence[Any]]) -> list[Any]:
    """The memories of a MOS result shape (search or get_all), cube group after cube group, in order."""
    return [item for group in result.get("text_mem", []) for item in group["memories"]]


def ranked_turns(result: Mapping[str, Sequence[Any]]) -> list[str]:
    """The turns behind a MOS.search result: sources' message_ids in rank order, normalised, no repeats."""
    return turns_in_order(memory_turns(item) for item in ranked_memories(result))


def score(ranked: Sequence[str], gold: Sequence[str], ks: Sequence[int] = KS) -> dict[str, float]:
    """Recall@k (share of gold turns in the top k) and Hit@k (1.0 if any is) for each k."""
    gold_set = set(gold)
    scores: dict[str, float] = {}
    for k in ks:
        found = len(gold_set & set(ranked[:k]))
        scores[f"R@{k}"] = found / len(gold_set) if gold_set else 0.0
        scores[f"Hit@{k}"] = 1.0 if found else 0.0
    return scores


def dry_run(samples: Sequence[Mapping[str, Any]]) -> None:
    """Print what the benchmark would ingest and ask, per conversation and in total; touches no database."""
    totals = {"sessions": 0, "turns": 0}
    asked = dict.fromkeys(CATEGORIES, 0)
    skipped_total = dict.fromkeys(CATEGORIES, 0)
    for sample in samples:
        conversation = sample["conversation"]
        sessions = session_numbers(conversation)
        turns = sum(len(conversation[f"session_{n}"]) for n in sessions)
        questions, skipped = load_questions(sample)
        per_cat = {c: sum(q.category == c for q in questions) for c in CATEGORIES}
        for c in CATEGORIES:
            asked[c] += per_cat[c]
            skipped_total[c] += skipped[c]
        totals["sessions"] += len(sessions)
        totals["turns"] += turns
        print(
            f"{sample.get('sample_id', '?')}: {len(sessions)} sessions, {turns} turns, questions "
            f"{per_cat}, skipped (no evidence) {skipped}"
        )
    print(f"total: {len(samples)} conversations, {totals['sessions']} sessions, {totals['turns']} turns")
    for c, name in CATEGORIES.items():
        print(f"  category {c} ({name}): {asked[c]} questions, {skipped_total[c]} skipped for no evidence")
    print(f"  categories 1-4: {sum(asked[c] for c in SCORED)} questions scored")


# -- the benchmark's own Neo4j ----------------------------------------------------------------------


class OwnNeo4j:
    """scripts/neo4j.sh on the benchmark's own ports (its home, password and data are per Bolt port)."""

    def __init__(self, bolt_port: int, http_port: int) -> None:
        self.bolt_port = bolt_port
        self._env = {**os.environ, "NEO4J_BOLT_PORT": str(bolt_port), "NEO4J_HTTP_PORT": str(http_port)}

    def _script(self, command: str, capture: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(NEO4J_SCRIPT), command], env=self._env, check=check, text=True, capture_output=capture, timeout=900
        )

    def start(self) -> bool:
        """Start the server unless it runs already; True when this call started it."""
        was_running = self._script("status", capture=True, check=False).returncode == 0
        self._script("start")
        return not was_running

    def environment(self) -> dict[str, str]:
        """NEO4J_URI, NEO4J_USER and NEO4J_PASSWORD of this server (from `neo4j.sh env`)."""
        exports = self._script("env", capture=True).stdout
        pairs = (line.removeprefix("export ").partition("=") for line in exports.splitlines() if "=" in line)
        return {name: value for name, _, value in pairs}

    def wipe(self) -> None:
        """Stop the server and delete its database."""
        self._script("wipe")


def connect_config(server: OwnNeo4j) -> MOSConfig:
    """The configuration (file-less, environment overrides) pointed at the benchmark's server."""
    from memos_graph.config import MOSConfig

    environ = {key: value for key, value in os.environ.items() if not key.startswith("NEO4J_")}
    return MOSConfig.load(environ={**environ, **server.environment()})


def count_nodes(config: MOSConfig) -> int:
    """How many nodes the database holds, read before anything (the schema included) is written to it."""
    from memos_graph.graph.store import GraphStore

    store = GraphStore(config.neo4j)
    try:
        store.wait_until_ready(timeout_s=60)
        return int(store.run_statement("MATCH (n) RETURN count(n) AS n")[0]["n"])
    finally:
        store.close()


def run_on_own_neo4j(
    samples: Sequence[Mapping[str, Any]], grid: Sequence[Setting], args: argparse.Namespace
) -> dict[str, Any]:
    """Start (or reuse) the benchmark's server, refuse it if it holds someone's data, run, wipe."""
    from bench.locomo_run import run

    return on_own_neo4j(args, lambda runtime: run(runtime, samples, grid, args.top_k, args.tenant_check, args.protocol))


def on_own_neo4j(args: argparse.Namespace, work: Callable[[Runtime], dict[str, Any]]) -> dict[str, Any]:
    """Start (or reuse) the Neo4j of args.bolt_port / args.http_port, refusing the shared one and one that
    already holds someone's data; run `work` on a runtime over it, then delete everything and wipe it (unless
    args.keep_neo4j). Returns work's figures with how the server was found."""
    from bench.bench_core import log
    from bench.locomo_run import delete_everything
    from memos_graph.services.runtime import Runtime

    if args.bolt_port == SHARED_BOLT_PORT:
        raise SystemExit(f"refusing: port {SHARED_BOLT_PORT} is the shared local Neo4j; pick another --bolt-port")
    server = OwnNeo4j(args.bolt_port, args.http_port)
    started = server.start()
    config = connect_config(server)
    nodes = count_nodes(config)
    if nodes and not started:
        raise SystemExit(
            f"refusing: the Neo4j on port {args.bolt_port} was already running and holds {nodes} "
            f"nodes. Use another --bolt-port, or wipe it: NEO4J_BOLT_PORT={args.bolt_port} "
            f"scripts/neo4j.sh wipe"
        )
    log(f"Neo4j on {args.bolt_port}: {'started' if started else 'already running'}, {nodes} nodes at start")
    try:
        runtime = Runtime.start(config)
        try:
            figures = work(runtime)
        finally:
            delete_everything(runtime.store)
            runtime.close()
    finally:
        if not args.keep_neo4j:
            server.wipe()
    return {"neo4j": {"bolt_port": args.bolt_port, "started_by_bench": started, "nodes_at_start": nodes}, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a LoCoMo JSON file")
    parser.add_argument("--conversations", type=int, default=None, help="use only the first N conversations")
    parser.add_argument(
        "--grid",
        default="[{}]",
        help='search-settings grid: JSON list or a file, e.g. \'[{}, {"name": "x", "expand_top": 0}]\'',
    )
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default="name",
        help="speaker in each message's name (default), or inside its content as MemOS users send it",
    )
    parser.add_argument("--name", default="locomo-cv", help="results file stem")
    parser.add_argument(
        "--tenant-check",
        action="store_true",
        help="first conversation: rank again after 6,000 memories land in another user's cube",
    )
    parser.add_argument("--bolt-port", type=int, default=7693, help="the benchmark's own Neo4j (Bolt)")
    parser.add_argument("--http-port", type=int, default=7479, help="the benchmark's own Neo4j (HTTP)")
    parser.add_argument("--keep-neo4j", action="store_true", help="leave the server running (emptied) at the end")
    parser.add_argument("--dry-run", action="store_true", help="parse and count only; no Neo4j")
    args = parser.parse_args()

    samples: list[dict[str, Any]] = json.loads(args.data.read_text())
    if args.conversations is not None:
        samples = samples[: args.conversations]
    grid = parse_grid(args.grid)
    if args.dry_run:
        dry_run(samples)
        print("grid: " + "; ".join(f"{s.name} {json.dumps(dict(s.overrides))}" for s in grid))
        return
    from bench.bench_core import RESULTS, log
    from bench.locomo_report import write_results

    payload: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "data": args.data.name,
        "protocol": args.protocol,
        "top_k": args.top_k,
        "grid": [{"name": s.name, "overrides": dict(s.overrides), "ingest": dict(s.ingest)} for s in grid],
    }
    payload.update(run_on_own_neo4j(samples, grid, args))
    log(f"wrote {write_results(payload, args.name, RESULTS)}")
    print(json.dumps(payload["summary"], indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()

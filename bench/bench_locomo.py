"""LoCoMo retrieval benchmark: Recall@k and Hit@k of MOS.search over conversations added as messages.

    python -m bench.bench_locomo [--data PATH] [--conversations N] [--top-k 20] [--name locomo] [--dry-run]

Protocol (from the data's README): one user, one cube per conversation; each session is one
add(messages=...), one message per turn with the turn's dia_id as message_id; each question is one search
of that cube, and the ranked memories map to turns through metadata.sources[*].message_id. Writes
bench/results/<name>.json and <name>.md. Needs NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD unless --dry-run.
The data is not part of the project: point --data at any LoCoMo file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

# The team's shared data sits beside the repository (shared/ next to the checkout); never inside it.
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev" / "locomo-dev.json"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
SCORED = (1, 2, 3, 4)
ADVERSARIAL = 5
KS = (1, 5, 10, 20)
TURN_REF = re.compile(r"D:?(\d+):(\d+)")
SESSION_KEY = re.compile(r"session_(\d+)")
# Quoted from the data's README; measured outside this project (categories 1-4, 760 questions, one memory
# per turn): method, R@1, R@5, R@10, R@20, Hit@10.
BASELINES = [
    ("BM25 (bm25s, English stemmer)", 0.315, 0.517, 0.583, 0.661, 0.651),
    ("dense all-MiniLM-L6-v2, cosine", 0.199, 0.436, 0.533, 0.635, 0.603),
    ("hybrid: RRF of the two (k=60)", 0.292, 0.537, 0.616, 0.714, 0.684),
    ("mem0 2.2.1 through its own API, offline (semantic + BM25)", 0.252, 0.505, 0.590, 0.661, 0.653),
]


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
    ids = (normalise_turn_id(str(t["dia_id"])) for n in session_numbers(conversation)
           for t in conversation[f"session_{n}"])
    return {turn_id for turn_id in ids if turn_id is not None}


def session_messages(conversation: Mapping[str, Any], n: int) -> list[dict[str, Any]]:
    """Session n as add(messages=...) input: one message per turn, role by speaker, photo caption appended."""
    speaker_a = conversation["speaker_a"]
    chat_time = str(conversation.get(f"session_{n}_date_time", ""))
    messages: list[dict[str, Any]] = []
    for turn in conversation[f"session_{n}"]:
        content = str(turn["text"])
        if turn.get("blip_caption"):
            content += f" [shares a photo: {turn['blip_caption']}]"
        messages.append({"role": "user" if turn["speaker"] == speaker_a else "assistant", "name": turn["speaker"],
                         "content": content, "chat_time": chat_time, "message_id": turn["dia_id"]})
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


def ranked_turns(result: Mapping[str, Sequence[Any]]) -> list[str]:
    """The turns behind a MOS.search result: sources' message_ids in rank order, normalised, no repeats."""
    turns: list[str] = []
    for group in result.get("text_mem", []):
        for item in group["memories"]:
            for source in item.metadata.sources or []:
                message_id = getattr(source, "message_id", None)
                turn_id = normalise_turn_id(str(message_id)) if message_id else None
                if turn_id is not None and turn_id not in turns:
                    turns.append(turn_id)
    return turns


def score(ranked: Sequence[str], gold: Sequence[str], ks: Sequence[int] = KS) -> dict[str, float]:
    """Recall@k (share of gold turns in the top k) and Hit@k (1.0 if any is) for each k."""
    gold_set = set(gold)
    scores: dict[str, float] = {}
    for k in ks:
        found = len(gold_set & set(ranked[:k]))
        scores[f"R@{k}"] = found / len(gold_set) if gold_set else 0.0
        scores[f"Hit@{k}"] = 1.0 if found else 0.0
    return scores


def mean_scores(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean of each metric over rows (rounded to 4 places), with the row count as "n"."""
    if not rows:
        return {"n": 0}
    return {"n": len(rows), **{key: round(statistics.fmean(r[key] for r in rows), 4) for key in rows[0]}}


def aggregate(rows: Sequence[tuple[int, Mapping[str, float]]]) -> dict[str, dict[str, float]]:
    """Per-category means for categories 1-4, "overall" over all their questions, "adversarial" (5) apart."""
    result = {CATEGORIES[c]: mean_scores([s for cat, s in rows if cat == c]) for c in SCORED}
    result["overall"] = mean_scores([s for cat, s in rows if cat in SCORED])
    adversarial = [s for cat, s in rows if cat == ADVERSARIAL]
    if adversarial:
        result[CATEGORIES[ADVERSARIAL]] = mean_scores(adversarial)
    return result


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
        print(f"{sample.get('sample_id', '?')}: {len(sessions)} sessions, {turns} turns, questions "
              f"{per_cat}, skipped (no evidence) {skipped}")
    print(f"total: {len(samples)} conversations, {totals['sessions']} sessions, {totals['turns']} turns")
    for c, name in CATEGORIES.items():
        print(f"  category {c} ({name}): {asked[c]} questions, {skipped_total[c]} skipped for no evidence")
    print(f"  categories 1-4: {sum(asked[c] for c in SCORED)} questions scored")


def run(samples: Sequence[Mapping[str, Any]], top_k: int, search: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Ingest every conversation into its own cube, search every question, return the figures."""
    from bench.bench_core import cleanup, log, summary_ms, timed
    from memos_graph import MOS, MOSConfig, UserRole

    config = MOSConfig.load()
    if search:
        config = config.model_copy(update={"search": config.search.model_copy(update=dict(search))})
    mos = MOS(config)
    user = mos.create_user(f"locomo-{uuid.uuid4().hex[:8]}", UserRole.USER)
    ingest_seconds, messages_added = 0.0, 0
    latencies: list[float] = []
    rows: list[tuple[int, dict[str, float]]] = []
    try:
        mos.runtime.embedder.embed(["warm up"])  # load the model outside the timings
        for sample in samples:
            conv_id, conversation = str(sample["sample_id"]), sample["conversation"]
            cube = mos.create_cube_for_user(f"locomo {conv_id}", owner_id=user)
            added = 0
            for n in session_numbers(conversation):
                messages = session_messages(conversation, n)
                if not messages:
                    continue
                elapsed, _ = timed(partial(mos.add, messages=messages, mem_cube_id=cube, user_id=user,
                                           session_id=f"{conv_id}-session_{n}"))
                ingest_seconds += elapsed
                added += len(messages)
            messages_added += added
            log(f"{conv_id}: {added} messages added")
            questions, _ = load_questions(sample)
            for question in questions:
                elapsed, result = timed(partial(mos.search, question.text, user_id=user,
                                                install_cube_ids=[cube], top_k=top_k))
                latencies.append(elapsed)
                rows.append((question.category, score(ranked_turns(result), question.gold)))
            log(f"{conv_id}: {len(questions)} questions done")
        settings = mos.config.search.model_dump()
    finally:
        try:
            cleanup(mos.runtime, user)
        finally:
            mos.close()
    return {
        "conversations": [str(s["sample_id"]) for s in samples],
        "top_k": top_k,
        "messages": messages_added,
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_seconds_per_1000_messages": round(ingest_seconds / max(1, messages_added) * 1000, 2),
        "search_latency": summary_ms(latencies) if latencies else {},
        "metrics": aggregate(rows),
        "settings": settings,
    }


def write_results(payload: Mapping[str, Any], name: str, directory: Path) -> Path:
    """Write <name>.json and <name>.md (metrics table, the README's baselines, ingest and latency)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [f"# {name}: LoCoMo retrieval through MOS", "",
             f"Run {payload['started']} on {payload['machine']}; data `{payload['data']}`, conversations "
             f"{', '.join(payload['conversations'])}; search top_k={payload['top_k']}. A turn counts as retrieved "
             "when a returned memory lists it in metadata.sources[*].message_id.", "",
             "| category | questions | R@1 | R@5 | R@10 | R@20 | Hit@10 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, m in payload["metrics"].items():
        if m.get("n"):
            lines.append(f"| {label} | {m['n']} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | "
                         f"{m['R@20']:.3f} | {m['Hit@10']:.3f} |")
    lines += ["", "Overall is over categories 1-4; adversarial (5) is reported apart.", "",
              "## Baselines (quoted from the data's README; measured outside this project)", "",
              "One memory per turn, text \"[date_time] speaker: text\"; categories 1-4 of the same split.", "",
              "| method | R@1 | R@5 | R@10 | R@20 | Hit@10 |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {method} | {r1:.3f} | {r5:.3f} | {r10:.3f} | {r20:.3f} | {h10:.3f} |"
              for method, r1, r5, r10, r20, h10 in BASELINES]
    latency = payload["search_latency"]
    lines += ["", "## Cost", "",
              f"- ingest: {payload['ingest_seconds_per_1000_messages']} s per 1,000 messages "
              f"({payload['messages']} messages in {payload['ingest_seconds']} s of add calls)",
              f"- search (MOS.search end to end): p50 {latency.get('p50_ms')} ms, p95 {latency.get('p95_ms')} ms "
              f"over {latency.get('n', 0)} questions"]
    (directory / f"{name}.md").write_text("\n".join(lines) + "\n")
    return directory / f"{name}.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a LoCoMo JSON file")
    parser.add_argument("--conversations", type=int, default=None, help="use only the first N conversations")
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--name", default="locomo", help="results file stem")
    parser.add_argument("--dry-run", action="store_true", help="parse and count only; no Neo4j")
    parser.add_argument("--search", default="{}", help='search settings to override, as JSON: {"expand_top": 5}')
    args = parser.parse_args()

    samples: list[dict[str, Any]] = json.loads(args.data.read_text())
    if args.conversations is not None:
        samples = samples[: args.conversations]
    if args.dry_run:
        dry_run(samples)
        return
    from bench.bench_core import RESULTS, log

    payload: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "data": args.data.name,
    }
    overrides = json.loads(args.search)
    payload["search_overrides"] = overrides
    payload.update(run(samples, args.top_k, overrides))
    log(f"wrote {write_results(payload, args.name, RESULTS)}")
    print(json.dumps(payload["metrics"], indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()

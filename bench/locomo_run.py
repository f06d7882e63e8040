"""The LoCoMo benchmark's work on Neo4j: per conversation, empty the database, ingest once, answer every question
with every grid setting, rank the stored texts with the baselines, and (once) the tenant check."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from bench.bench_core import log
from bench.bench_locomo import (
    Question,
    load_questions,
    memory_turns,
    ranked_memories,
    ranked_turns,
    score,
    session_messages,
    session_numbers,
)
from bench.locomo_cv import (
    BASELINE_NAMES,
    Row,
    Setting,
    aggregate,
    baseline_rankings,
    cross_validate,
    filler_texts,
    pooled_rows,
    scored_mean,
    turns_in_order,
    vocabulary,
)
from bench.stats import summary_ms, timed
from memos_graph import MOS, UserRole
from memos_graph.graph.store import GraphStore
from memos_graph.services.memory_parts import message_text
from memos_graph.services.runtime import Runtime

FILLER_MEMORIES = 6_000
FILLER_BATCH = 500
TENANT_TOP = 10


def delete_everything(store: GraphStore) -> None:
    """Every node and relationship of the database, in batches (the schema stays)."""
    store.run_autocommit("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS", timeout_s=3600)


def setting_runtime(runtime: Runtime, setting: Setting) -> Runtime:
    """The runtime with the setting's search overrides: same driver, embedder and repositories.

    The services read search settings from `runtime.config`, not from the config a MOS is given, so each
    setting needs a runtime of its own for its overrides to take effect.
    """
    search = runtime.config.search.model_copy(update=dict(setting.overrides))
    ingest = runtime.config.ingest.model_copy(update=dict(setting.ingest))
    return dataclasses.replace(runtime, config=runtime.config.model_copy(update={"search": search, "ingest": ingest}))


@dataclass
class Conversation:
    """One conversation's figures: ingest, and per method the question rows (and latencies for settings)."""

    conv_id: str
    turns: int = 0
    ingest_s: float = 0.0
    # The raw embedder on the same texts in the same batches, timed right after each add: the plain baseline.
    embed_s: float = 0.0
    memories: int = 0
    rows: dict[str, list[Row]] = field(default_factory=dict)
    rankings: dict[str, list[list[str]]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    baseline_s: float = 0.0
    # Ingest seconds per ingest variant (grid entries with other ingest settings), beyond the defaults'.
    variant_ingest_s: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "conversation": self.conv_id,
            "turns": self.turns,
            "memories": self.memories,
            "ingest_s": round(self.ingest_s, 2),
            "turns_per_s": round(self.turns / max(self.ingest_s, 1e-9), 1),
            "raw_embed_s": round(self.embed_s, 2),
            "ingest_to_embed_ratio": round(self.embed_s / max(self.ingest_s, 1e-9), 3),
            "questions": len(next(iter(self.rows.values()), [])),
            "search_s": {name: round(sum(values), 2) for name, values in self.latencies.items()},
            "baselines_s": round(self.baseline_s, 2),
            "variant_ingest_s": {key: round(value, 2) for key, value in self.variant_ingest_s.items()},
        }


def ingest(
    mos: MOS, user: str, cube: str, sample: Mapping[str, Any], result: Conversation, protocol: str = "name"
) -> None:
    """One add(messages=...) per session, timed; messages as the protocol lays them out (session_messages)."""
    conversation = sample["conversation"]
    for n in session_numbers(conversation):
        messages = session_messages(conversation, n, protocol)
        if messages:
            elapsed, _ = timed(
                partial(
                    mos.add,
                    messages=messages,
                    mem_cube_id=cube,
                    user_id=user,
                    session_id=f"{result.conv_id}-session_{n}",
                )
            )
            result.ingest_s += elapsed
            result.turns += len(messages)
            texts = [message_text({"name": None, **message}) for message in messages]
            result.embed_s += timed(partial(mos.runtime.embedder.embed, texts))[0]


def answer(
    mos: MOS, user: str, cube: str, questions: Sequence[Question], top_k: int, name: str, result: Conversation
) -> None:
    """Every question searched with one setting: rows, ranked turns and latencies."""
    rows, rankings, latencies = result.rows.setdefault(name, []), result.rankings.setdefault(name, []), []
    for question in questions:
        elapsed, found = timed(partial(mos.search, question.text, user_id=user, install_cube_ids=[cube], top_k=top_k))
        turns = ranked_turns(found)
        rankings.append(turns)
        rows.append((question.category, score(turns, question.gold)))
        latencies.append(elapsed)
    result.latencies[name] = latencies


def baselines(mos: MOS, user: str, cube: str, questions: Sequence[Question], result: Conversation) -> list[str]:
    """BM25, dense and RRF over the memory texts as the service stored them; returns those texts."""
    items = ranked_memories(mos.get_all(mem_cube_id=cube, user_id=user))
    texts, turns = [item.memory for item in items], [memory_turns(item) for item in items]
    result.memories = len(items)

    def rank_all() -> dict[str, list[list[int]]]:
        embed = mos.runtime.embedder.embed
        return baseline_rankings(texts, embed(texts), [q.text for q in questions], embed([q.text for q in questions]))

    result.baseline_s, rankings = timed(rank_all)
    for name in BASELINE_NAMES:
        ranked = [turns_in_order(turns[i] for i in order) for order in rankings[name]]
        result.rows[name] = [(q.category, score(r, q.gold)) for q, r in zip(questions, ranked, strict=True)]
    return texts


def top_ten(mos: MOS, user: str, cube: str, questions: Sequence[Question], top_k: int) -> list[Any]:
    """Per question: the ids and relativity scores of the first ten results, in order."""
    snapshots = []
    for question in questions:
        items = ranked_memories(mos.search(question.text, user_id=user, install_cube_ids=[cube], top_k=top_k))
        snapshots.append([(item.id, item.metadata.relativity) for item in items[:TENANT_TOP]])
    return snapshots


def tenant_check(
    mos: MOS, user: str, cube: str, questions: Sequence[Question], texts: Sequence[str], top_k: int
) -> dict[str, Any]:
    """Rank alone, add filler to another user's cube, rank again, compare the top ten exactly; drop the filler."""
    before = top_ten(mos, user, cube, questions, top_k)
    other = mos.create_user(f"locomo-other-{uuid.uuid4().hex[:8]}", UserRole.USER)
    other_cube = mos.create_cube_for_user("locomo filler", owner_id=other)
    filler = filler_texts(FILLER_MEMORIES, vocabulary(texts))
    add_s = 0.0
    for start in range(0, len(filler), FILLER_BATCH):
        elapsed, _ = timed(
            partial(mos.add, memory_content=filler[start : start + FILLER_BATCH], mem_cube_id=other_cube, user_id=other)
        )
        add_s += elapsed
    after = top_ten(mos, user, cube, questions, top_k)
    mos.delete_all(mem_cube_id=other_cube, user_id=other)
    ids_changed = sum([i for i, _ in b] != [i for i, _ in a] for b, a in zip(before, after, strict=True))
    scores_changed = sum([s for _, s in b] != [s for _, s in a] for b, a in zip(before, after, strict=True))
    figures = {
        "conversation_cube_memories": len(texts),
        "filler_memories": len(filler),
        "filler_add_s": round(add_s, 2),
        "questions": len(questions),
        "top": TENANT_TOP,
        "top_ids_changed": ids_changed,
        "top_scores_changed": scores_changed,
    }
    log(f"tenant check: {figures}")
    return figures


def run_conversation(
    runtime: Runtime,
    runtimes: Sequence[Runtime],
    grid: Sequence[Setting],
    sample: Mapping[str, Any],
    top_k: int,
    tenant: bool,
    protocol: str = "name",
) -> tuple[Conversation, dict[str, Any] | None]:
    """For each ingest variant of the grid (the defaults' first): empty the database, ingest the conversation,
    answer with every setting of that variant; the baselines and the tenant check run on the defaults' ingest."""
    result = Conversation(str(sample["sample_id"]))
    questions, _ = load_questions(sample)
    checked = None
    variants = list(dict.fromkeys(setting.ingest_key() for setting in grid))
    for variant in variants:
        delete_everything(runtime.store)
        members = [(s, r) for s, r in zip(grid, runtimes, strict=True) if s.ingest_key() == variant]
        moses = [MOS(r.config, runtime=r) for _, r in members]  # each bootstraps the root user again
        root = moses[0]
        user = root.create_user(f"locomo-{uuid.uuid4().hex[:8]}", UserRole.USER)
        cube = root.create_cube_for_user(f"locomo {result.conv_id}", owner_id=user)
        if variant == variants[0]:
            ingest(root, user, cube, sample, result, protocol)
            log(f"{result.conv_id}: {result.turns} turns in {result.ingest_s:.1f} s")
        else:
            other = Conversation(result.conv_id)
            ingest(root, user, cube, sample, other, protocol)
            result.variant_ingest_s[variant] = other.ingest_s
            log(f"{result.conv_id}: ingest {variant}: {other.turns} turns in {other.ingest_s:.1f} s")
        for (setting, _), mos in zip(members, moses, strict=True):
            answer(mos, user, cube, questions, top_k, setting.name, result)
            spent = sum(result.latencies[setting.name])
            log(f"{result.conv_id}: {setting.name}: {len(questions)} questions in {spent:.1f} s")
        if variant == variants[0]:
            texts = baselines(root, user, cube, questions, result)
            checked = tenant_check(root, user, cube, questions, texts, top_k) if tenant else None
        for mos in moses:
            mos.close()
    return result, checked


def ranked_differently(conversations: Sequence[Conversation], names: Sequence[str]) -> dict[str, int]:
    """Per setting, how many questions got a ranking of turns other than the defaults' (a sanity check that
    the setting took effect)."""
    return {
        name: sum(a != b for c in conversations for a, b in zip(c.rankings[name], c.rankings[names[0]], strict=True))
        for name in names
    }


def run(
    runtime: Runtime,
    samples: Sequence[Mapping[str, Any]],
    grid: Sequence[Setting],
    top_k: int,
    tenant: bool,
    protocol: str = "name",
) -> dict[str, Any]:
    """Every conversation, then the tables: pooled per method, cross-validated over the grid."""
    runtimes = [setting_runtime(runtime, setting) for setting in grid]
    runtime.embedder.embed(["warm up"])  # load the model outside the timings
    conversations: list[Conversation] = []
    tenant_figures = None
    for index, sample in enumerate(samples):
        result, checked = run_conversation(runtime, runtimes, grid, sample, top_k, tenant and index == 0, protocol)
        conversations.append(result)
        tenant_figures = tenant_figures or checked
    return figures(conversations, grid, tenant_figures)


def question_rows(
    table: Mapping[str, Mapping[str, Sequence[Row]]], conversations: Sequence[Conversation], names: Sequence[str]
) -> dict[str, Any]:
    """Per method and conversation, one row per question (category, then each metric, rounded), and per
    setting and conversation each question's search latency in ms: enough to redo any table."""
    columns = list(next(iter(next(iter(table.values())).values()))[0][1])
    return {
        "row_columns": ["category", *columns],
        "rows": {
            m: {c: [[cat, *(round(s[k], 4) for k in columns)] for cat, s in rows] for c, rows in by_conv.items()}
            for m, by_conv in table.items()
        },
        "latency_ms": {
            n: {c.conv_id: [round(t * 1000, 1) for t in c.latencies[n]] for c in conversations} for n in names
        },
    }


def figures(
    conversations: Sequence[Conversation], grid: Sequence[Setting], tenant: dict[str, Any] | None
) -> dict[str, Any]:
    """The payload: per-conversation costs, pooled and cross-validated tables, latencies, per-question rows."""
    names = [s.name for s in grid]
    methods = [*names, *BASELINE_NAMES]
    table = {m: {c.conv_id: c.rows[m] for c in conversations} for m in methods}
    conv_ids = [c.conv_id for c in conversations]
    pooled = {m: aggregate(pooled_rows(table[m])) for m in methods}
    payload: dict[str, Any] = {"conversations": conv_ids}
    if len(conv_ids) >= 2:
        folds, held_out = cross_validate(table, names, conv_ids)
        payload["cv"] = {"folds": [dataclasses.asdict(f) for f in folds], "held_out": aggregate(held_out)}
    turns, seconds = sum(c.turns for c in conversations), sum(c.ingest_s for c in conversations)
    embed_seconds = sum(c.embed_s for c in conversations)
    payload.update(
        {
            "per_conversation": [c.summary() for c in conversations],
            "ingest": {
                "turns": turns,
                "seconds": round(seconds, 2),
                "turns_per_s": round(turns / max(seconds, 1e-9), 1),
                "raw_embed_turns_per_s": round(turns / max(embed_seconds, 1e-9), 1),
                "ingest_to_embed_ratio": round(embed_seconds / max(seconds, 1e-9), 3),
            },
            "search_latency": {n: summary_ms([t for c in conversations for t in c.latencies[n]]) for n in names},
            "ranked_differently_from_defaults": ranked_differently(conversations, names),
            "pooled": pooled,
            "per_conversation_r10": {
                m: {c: round(scored_mean(rows), 4) for c, rows in table[m].items()} for m in methods
            },
            "tenant_check": tenant,
            **question_rows(table, conversations, names),
        }
    )
    payload["summary"] = {
        "held_out_cv": payload.get("cv", {}).get("held_out", {}).get("overall"),
        **{m: pooled[m]["overall"] for m in methods},
    }
    return payload

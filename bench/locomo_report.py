"""The LoCoMo cross-validation's results as bench/results/<name>.json and a Markdown report <name>.md."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.locomo_cv import BASELINE_NAMES, CATEGORIES, SCORED

CV_LABEL = "CV: setting chosen per fold (held-out)"
ORDER = [*(CATEGORIES[c] for c in SCORED), "overall", CATEGORIES[5]]
METRICS = ("R@1", "R@5", "R@10", "R@20", "Hit@10")
# Quoted from the data's README; measured outside this project (categories 1-4, 760 questions, one memory
# per turn): method, R@1, R@5, R@10, R@20, Hit@10.
QUOTED_BASELINES = [
    ("BM25 (bm25s, English stemmer)", 0.315, 0.517, 0.583, 0.661, 0.651),
    ("dense all-MiniLM-L6-v2, cosine", 0.199, 0.436, 0.533, 0.635, 0.603),
    ("hybrid: RRF of the two (k=60)", 0.292, 0.537, 0.616, 0.714, 0.684),
    ("mem0 2.2.1 through its own API, offline (semantic + BM25)", 0.252, 0.505, 0.590, 0.661, 0.653),
]


def methods(payload: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Mapping[str, float]]]]:
    """(label, per-category means) of the CV headline (when there is one), each fixed setting, each baseline."""
    rows: list[tuple[str, Mapping[str, Mapping[str, float]]]] = []
    if "cv" in payload:
        rows.append((CV_LABEL, payload["cv"]["held_out"]))
    names = [entry["name"] for entry in payload["grid"]]
    rows += [(f"fixed: {name}", payload["pooled"][name]) for name in names]
    rows += [(f"baseline: {name}", payload["pooled"][name]) for name in BASELINE_NAMES]
    return rows


def table(header: Sequence[str], rows: Sequence[Sequence[object]], text_columns: int = 1) -> list[str]:
    """A Markdown table; the first `text_columns` columns left-aligned, the others right-aligned."""
    return [
        f"| {' | '.join(header)} |",
        "|" + "---|" * text_columns + "---:|" * (len(header) - text_columns),
        *(f"| {' | '.join(str(cell) for cell in row)} |" for row in rows),
    ]


def figure(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def headline_lines(payload: Mapping[str, Any]) -> list[str]:
    """R@10 by category for every method, then every metric by category and method in one table."""
    compact = [[label, *(figure(m.get(c, {}).get("R@10", "")) for c in ORDER)] for label, m in methods(payload)]
    full = [
        [c, label, m[c]["n"], *(figure(m[c][k]) for k in METRICS)]
        for c in ORDER
        for label, m in methods(payload)
        if m.get(c, {}).get("n")
    ]
    lines = ["## R@10 by category", ""]
    lines += table(["method", *ORDER], compact)
    lines += ["", "## Every metric (categories 1-4 in *overall*; adversarial apart)", ""]
    return lines + table(["category", "method", "questions", *METRICS], full, text_columns=2)


def fold_lines(payload: Mapping[str, Any]) -> list[str]:
    if "cv" not in payload:
        return ["## Cross-validation", "", "Not run: it needs at least two conversations."]
    defaults = payload["grid"][0]["name"]
    rows = [
        [
            f["held_out"],
            f["chosen"],
            figure(f["train_mean"]),
            figure(f["held_out_mean"]),
            figure(payload["per_conversation_r10"][defaults][f["held_out"]]),
            f["questions"],
        ]
        for f in payload["cv"]["folds"]
    ]
    return [
        "## Folds (leave one conversation out; chosen by mean R@10 over the other conversations' questions)",
        "",
        *table(
            ["held out", "chosen", "R@10 on the others", "held-out R@10", f"held-out R@10 of {defaults}", "questions"],
            rows,
            text_columns=2,
        ),
    ]


def cost_lines(payload: Mapping[str, Any]) -> list[str]:
    names = [entry["name"] for entry in payload["grid"]]
    per_conv = [
        [
            c["conversation"],
            c["turns"],
            c["memories"],
            c["questions"],
            c["ingest_s"],
            c["turns_per_s"],
            *(c["search_s"][n] for n in names),
            c["baselines_s"],
        ]
        for c in payload["per_conversation"]
    ]
    ingest = payload["ingest"]
    latency = [
        [
            n,
            payload["search_latency"][n]["p50_ms"],
            payload["search_latency"][n]["p95_ms"],
            payload["search_latency"][n]["n"],
            payload["ranked_differently_from_defaults"][n],
        ]
        for n in names
    ]
    r10 = [[m, *(figure(v) for v in payload["per_conversation_r10"][m].values())] for m in [*names, *BASELINE_NAMES]]
    return [
        "## Per conversation",
        "",
        *table(
            [
                "conversation",
                "turns",
                "memories",
                "questions",
                "ingest s",
                "turns/s",
                *(f"search s: {n}" for n in names),
                "baselines s",
            ],
            per_conv,
        ),
        "",
        f"Ingest overall: {ingest['turns']} turns in {ingest['seconds']} s of add calls, "
        f"{ingest['turns_per_s']} turns/s"
        + (
            f"; the raw embedder on the same texts in the same batches, timed right after each add: "
            f"{ingest['raw_embed_turns_per_s']} turns/s (add / embedder = {ingest['ingest_to_embed_ratio']})."
            if "raw_embed_turns_per_s" in ingest
            else "."
        ),
        "",
        *table(["R@10", *payload["conversations"]], r10),
        "",
        "## Search latency (MOS.search end to end, ms)",
        "",
        *table(["setting", "p50", "p95", "questions", "ranked differently from defaults"], latency),
    ]


def tenant_lines(tenant: Mapping[str, Any] | None) -> list[str]:
    if not tenant:
        return ["## Tenant check", "", "Not run (`--tenant-check`)."]
    return [
        "## Tenant check (first conversation, defaults)",
        "",
        f"Every question ({tenant['questions']}) ranked with the conversation's cube "
        f"({tenant['conversation_cube_memories']} memories) alone in the database, then again after "
        f"{tenant['filler_memories']} filler memories were added to another user's cube "
        f"({tenant['filler_add_s']} s of add calls): the top {tenant['top']} changed in memory ids or order "
        f"for {tenant['top_ids_changed']} questions and in scores (metadata.relativity, compared exactly) for "
        f"{tenant['top_scores_changed']}. The filler was deleted afterwards.",
    ]


PROTOCOL_TEXT = {
    "name": "the speaker in each message's `name`.",
    "content": 'the speaker inside each message\'s content ("Caroline: ..."), no `name`, as MemOS users send it.',
}


def markdown(payload: Mapping[str, Any], name: str) -> str:
    neo4j = payload["neo4j"]
    grid = [
        [entry["name"], f"`{json.dumps(entry['overrides'])}`", f"`{json.dumps(entry.get('ingest') or {})}`"]
        for entry in payload["grid"]
    ]
    quoted = [[method, *(f"{value:.3f}" for value in values)] for method, *values in QUOTED_BASELINES]
    held_out = payload.get("cv", {}).get("held_out", {}).get("overall", {}).get("R@10")
    lines = [
        f"# {name}: LoCoMo retrieval through MOS, settings chosen by leave-one-conversation-out CV",
        "",
        f"Run {payload['started']} on {payload['machine']}; data `{payload['data']}`, conversations "
        f"{', '.join(payload['conversations'])}; search top_k={payload['top_k']}; a Neo4j of the benchmark's "
        f"own (port {neo4j['bolt_port']}), emptied before each conversation. A turn counts as retrieved when a "
        "returned memory lists it in metadata.sources[*].message_id. Input protocol: "
        + PROTOCOL_TEXT[payload.get("protocol", "name")],
        "",
        f"**Held-out R@10 (CV, categories 1-4): {figure(held_out) if held_out is not None else 'n/a'}**",
        "",
        "## Grid (search and ingest setting overrides; the first is the project defaults)",
        "",
        *table(["name", "search overrides", "ingest overrides"], grid, text_columns=3),
        "",
        *headline_lines(payload),
        "",
        "Baselines ran in the same process on the memory texts the service stored, scored the same way: BM25 "
        "is bm25s (default parameters, English stop words, Snowball English stemmer) over the documents "
        "matching a query term; dense is exact cosine with the project's embedder; RRF fuses the two full "
        "rankings with k=60. A fixed setting's figures are pooled over every question of every conversation; "
        "the CV row scores each question once, with the setting chosen without its conversation.",
        "",
        *fold_lines(payload),
        "",
        *cost_lines(payload),
        "",
        *tenant_lines(payload.get("tenant_check")),
        "",
        "## Baselines quoted from the data's README (measured outside this project, for reference)",
        "",
        *table(["method", *METRICS], quoted),
    ]
    return "\n".join(lines) + "\n"


def to_json(value: object, level: int = 0) -> str:
    """JSON indented by two spaces, except that a list of scalars stays on one line (the per-question rows)."""
    pad, inner = "  " * level, "  " * (level + 1)
    if isinstance(value, Mapping) and value:
        body = ",\n".join(f"{inner}{json.dumps(key)}: {to_json(item, level + 1)}" for key, item in value.items())
        return f"{{\n{body}\n{pad}}}"
    if isinstance(value, list) and any(isinstance(item, (Mapping, list)) for item in value):
        body = ",\n".join(f"{inner}{to_json(item, level + 1)}" for item in value)
        return f"[\n{body}\n{pad}]"
    return json.dumps(value)


def write_results(payload: Mapping[str, Any], name: str, directory: Path) -> Path:
    """Write <name>.json (everything, per-question rows included) and <name>.md; returns the .md path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(to_json(payload) + "\n")
    (directory / f"{name}.md").write_text(markdown(payload, name))
    return directory / f"{name}.md"

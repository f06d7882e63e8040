"""Generated memory texts and cached vectors for benchmarks (no data set is needed).

Texts are sentences built from small vocabularies, so any number of distinct ones can be made. Embedding
hundreds of thousands of them would dominate a benchmark run, so a pool of real embeddings is computed once
and cached; further vectors are the pool's vectors with small Gaussian noise, renormalised. Their
neighbourhood structure stays that of real sentence embeddings, which is what search latency and recall
depend on.
"""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from memos_graph.embeddings import Embedder

SUBJECTS = [
    "Alice",
    "Bob",
    "Carol",
    "Dmitri",
    "Emeka",
    "Fatima",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
]
ACTIONS = [
    "went hiking",
    "cooked dinner",
    "painted a landscape",
    "adopted a puppy",
    "started a new job",
    "visited grandparents",
    "ran a half marathon",
    "read a novel",
    "planted tomatoes",
    "fixed the bike",
    "learned to swim",
    "joined a choir",
    "booked a flight",
    "moved apartments",
    "watched a football match",
    "baked sourdough",
    "went to a concert",
    "volunteered at a shelter",
    "took a pottery class",
    "studied Japanese",
    "bought a used car",
    "went camping",
    "organised a book club",
    "repaired the roof",
]
PLACES = [
    "in Lyon",
    "near the lake",
    "at the community centre",
    "in Kyoto",
    "downtown",
    "at the beach",
    "in the mountains",
    "at the library",
    "in Nairobi",
    "at the stadium",
    "in a small village",
    "at the old harbour",
    "in Lisbon",
    "at the farmers market",
    "in the garden",
    "at the museum",
]
TIMES = [
    "last Monday",
    "on Saturday morning",
    "in early May",
    "two weeks ago",
    "yesterday evening",
    "during the holidays",
    "last summer",
    "on her birthday",
    "after work",
    "in 2022",
    "this spring",
    "on a rainy afternoon",
    "before the exam",
    "during the festival",
    "last winter",
    "at dawn",
]


def sentences(count: int, seed: int = 7) -> list[str]:
    """`count` distinct sentences, the same for the same seed."""
    combos = list(itertools.product(SUBJECTS, ACTIONS, PLACES, TIMES))
    random.Random(seed).shuffle(combos)
    out = []
    for index in range(count):
        subject, action, place, time = combos[index % len(combos)]
        suffix = "" if index < len(combos) else f" (note {index // len(combos)})"
        out.append(f"{subject} {action} {place} {time}{suffix}.")
    return out


def pool_vectors(embedder: Embedder, texts: list[str], cache: Path) -> npt.NDArray[np.float32]:
    """Real embeddings of `texts`, cached on disk by count and model."""
    path = cache / f"pool-{embedder.model_name}-{len(texts)}.npy"
    if path.exists():
        loaded: npt.NDArray[np.float32] = np.load(path)
        return loaded
    cache.mkdir(parents=True, exist_ok=True)
    vectors = []
    step = 2_000
    for start in range(0, len(texts), step):
        vectors.extend(embedder.embed(texts[start : start + step]))
        print(f"  embedded {min(start + step, len(texts))}/{len(texts)} pool texts", file=sys.stderr)
    array = np.asarray(vectors, dtype=np.float32)
    np.save(path, array)
    return array


def noisy_vectors(pool: npt.NDArray[np.float32], count: int, seed: int, noise: float = 0.03) -> npt.NDArray[np.float32]:
    """`count` vectors near pool vectors (cycled), unit length."""
    rng = np.random.default_rng(seed)
    base = pool[np.arange(count) % len(pool)]
    jittered = base + rng.normal(0.0, noise, size=base.shape).astype(np.float32)
    jittered /= np.linalg.norm(jittered, axis=1, keepdims=True)
    return jittered.astype(np.float32)

"""Maximal marginal relevance: results that say what a better result already said move down.

Given a cube's ranking (best first, relativity in [0, 1]) and the cosine similarity of pairs of its memories,
results are picked greedily: at each step the candidate with the highest

    relativity - penalty * max(0, cosine with a result picked before it)

comes next, and that value is its relativity. The first result keeps its own; a memory unlike everything
above it keeps its own; a near-copy of a better result loses up to `penalty`. Each picked value is at most the
one before it (a candidate's penalty can only grow as results are picked), so the list stays sorted by the
relativity it reports. Memories said in several sessions about one thing leave room for the other things a
question asks about (LoCoMo's multi-hop questions); the penalty was chosen by leave-one-conversation-out
cross-validation (bench/results/locomo-mmr.md); 0 turns it off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def diversified(
    scored: Sequence[tuple[T, float]], similarity: Mapping[tuple[int, int], float], penalty: float, count: int
) -> list[tuple[T, float]]:
    """The first `count` of `scored` (pairs of item and relativity, best first) in MMR order, each with its
    value at the moment it was picked. `similarity` holds the cosine of pairs (i, j), i < j, by position in
    `scored`; a missing pair counts as unrelated."""
    if penalty <= 0 or len(scored) < 2:
        return list(scored[:count])
    left = list(range(len(scored)))
    closest = [0.0] * len(scored)  # per candidate: the highest cosine with a result picked so far
    picked: list[tuple[T, float]] = []
    while left and len(picked) < count:
        best = max(left, key=lambda i: (scored[i][1] - penalty * closest[i], -i))
        left.remove(best)
        picked.append((scored[best][0], max(0.0, scored[best][1] - penalty * closest[best])))
        for i in left:
            pair = (i, best) if i < best else (best, i)
            closest[i] = max(closest[i], similarity.get(pair, 0.0))
    return picked

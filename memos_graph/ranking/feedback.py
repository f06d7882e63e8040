"""Pseudo-relevance feedback: what the best results say, beyond the question's words, lifts the results that
say it too.

A question names one thing ("What kind of writings does Joanna do?"); the memories that answer it may name
another ("my first full screenplay", "started on a book"). The best results of the first ranking share those
words, so (RM3's recipe) the words of the top `FEEDBACK_DOCS` results that the question lacks, each weighted by
the result's relativity and its share of the result's length (what it said, the speaker left out), then by
its idf in the cube, make a second query of the `EXPANSION_TERMS` weightiest terms. Each other candidate's
BM25 score for that query, divided by the best candidate's, times the weight, is added to its relativity
(at most the last top result's); the top results themselves keep theirs. Only the candidates of the first ranking are
re-scored, with the cube's own statistics and postings (memory_feedback.cypher): nothing new enters, and a
cube's result depends on its own memories only. Words are the analyzer's (ranking/analyzer.py), so other
scripts get theirs.

Chosen by leave-one-conversation-out cross-validation on LoCoMo (bench/results/locomo-feedback-*.md); on
Chinese paragraphs (CMRC) it lowered Hit@1, so questions the multilingual model embeds have a weight of their
own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

FEEDBACK_DOCS = 3
EXPANSION_TERMS = 10
# Terms sent to the statement, the weightiest before idf (a long paragraph holds hundreds).
MAX_FEEDBACK_TERMS = 50


def feedback_terms(
    relativities: Sequence[float], said: Sequence[Sequence[str]], question_terms: set[str]
) -> dict[str, float]:
    """The candidate expansion terms of the top results (their analyzer terms `said`, best first) that the
    question lacks, each with its weight before idf: the sum over those results of relativity x its share of
    the result's terms. At most MAX_FEEDBACK_TERMS, the weightiest (ties by term)."""
    weight: dict[str, float] = {}
    for relativity, terms in zip(relativities[:FEEDBACK_DOCS], said[:FEEDBACK_DOCS], strict=False):
        length = max(len(terms), 1)
        for term, count in Counter(terms).items():
            if term not in question_terms:
                weight[term] = weight.get(term, 0.0) + relativity * count / length
    chosen = sorted(weight.items(), key=lambda pair: (-pair[1], pair[0]))[:MAX_FEEDBACK_TERMS]
    return dict(chosen)


def fed_back(relativities: Sequence[float], scores: Mapping[int, float], weight: float) -> list[float]:
    """Each candidate below the top FEEDBACK_DOCS (`relativities` best first) plus weight x its share of the
    best feedback score (`scores` by position; a candidate missing there scored 0), at most the relativity of
    the last of the top results; unchanged when nothing scored.

    The top results keep theirs: each holds its own words and would lift itself (a short one most: "What a
    day!" gave "day" all its weight). And none passes them: a memory repeating the top results' words earns
    the whole weight, which would put it above a result a time named in the question chose. So feedback
    decides which memories come next, up to the top-k cut, and never the order of the first results."""
    best = max(scores.values(), default=0.0)
    if weight <= 0 or best <= 0 or len(relativities) <= FEEDBACK_DOCS:
        return list(relativities)
    ceiling = relativities[FEEDBACK_DOCS - 1]
    return [
        value if i < FEEDBACK_DOCS else max(value, min(ceiling, value + weight * scores.get(i, 0.0) / best))
        for i, value in enumerate(relativities)
    ]

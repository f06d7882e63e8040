"""Okapi BM25 as the per-cube index computes it (Lucene's variant of idf), kept here as the reference the
Cypher statement is tested against, and for the score's ceiling used to normalise it to 0..1."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def idf(documents: int, document_frequency: int) -> float:
    """Lucene's BM25 idf: ln(1 + (N - df + 0.5) / (df + 0.5)); always positive."""
    return math.log(1.0 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def term_score(tf: int, length: int, average_length: float, k1: float, b: float) -> float:
    """The tf part of one term's BM25 contribution for a document of `length` terms."""
    norm = 1.0 - b + b * (length / average_length if average_length > 0 else 1.0)
    return tf * (k1 + 1.0) / (tf + k1 * norm)


def score(
    query: Sequence[str],
    document: Mapping[str, int],
    length: int,
    documents: int,
    document_frequencies: Mapping[str, int],
    average_length: float,
    k1: float,
    b: float,
) -> float:
    """BM25 of one document for the query's distinct terms; terms the cube lacks contribute nothing."""
    total = 0.0
    for term in dict.fromkeys(query):
        df = document_frequencies.get(term, 0)
        tf = document.get(term, 0)
        if df and tf:
            total += idf(documents, df) * term_score(tf, length, average_length, k1, b)
    return total


def ceiling(idfs: Sequence[float], k1: float) -> float:
    """The score no document can reach: every matched term with an unbounded count. BM25 / ceiling is in [0, 1)."""
    return sum(idfs) * (k1 + 1.0)


def score_corpus(query: Sequence[str], documents: Sequence[Sequence[str]], k1: float, b: float) -> list[float]:
    """BM25 of every analysed document of a corpus (a cube) for the query: the reference the per-cube index
    must reproduce, with the corpus's own N, average length and document frequencies."""
    frequencies = document_frequencies(documents)
    average = sum(map(len, documents)) / len(documents) if documents else 0.0
    return [
        score(query, {t: doc.count(t) for t in set(doc)}, len(doc), len(documents), frequencies, average, k1, b)
        for doc in documents
    ]


def document_frequencies(documents: Sequence[Sequence[str]]) -> dict[str, int]:
    """In how many of the analysed documents each term occurs."""
    found: dict[str, int] = {}
    for doc in documents:
        for term in set(doc):
            found[term] = found.get(term, 0) + 1
    return found

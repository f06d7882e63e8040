"""Text analysis for the per-cube BM25 index: the steps of Lucene's english analyzer, in Python.

Words (letters and digits, with inner apostrophes or dots kept, as "don't" or "3.5"), possessive "'s"
dropped, lower-cased, Lucene's English stop words removed, Snowball English stemming. Memories are
analysed when written and questions when searched, by this one function, so both sides agree.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

# Lucene's EnglishAnalyzer default stop set (33 words).
STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    }
)
_WORD = re.compile(r"\w+(?:['\u2019.]\w+)*", re.UNICODE)
_POSSESSIVE = re.compile(r"['\u2019]s$")
# A term longer than this is cut: it keeps one pathological token from bloating the index.
MAX_TERM_CHARS = 64
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def analyze(text: str) -> list[str]:
    """The text's index terms, in order, repeats kept."""
    terms = []
    for match in _WORD.finditer(text.lower()):
        word = _POSSESSIVE.sub("", match.group()).replace("\u2019", "'")
        if word and word not in STOP_WORDS:
            terms.append(_stem(word)[:MAX_TERM_CHARS])
    return terms


@dataclass(frozen=True)
class Postings:
    """What the index keeps of one memory's text: each distinct term with its count, and the text's length."""

    frequencies: dict[str, int]
    length: int

    def rows(self) -> list[dict[str, object]]:
        """The postings as Cypher rows ({term, tf}), in a stable (sorted) order."""
        return [{"term": term, "tf": count} for term, count in sorted(self.frequencies.items())]


def postings(text: str) -> Postings:
    """Term frequencies and length (in terms) of a memory's text."""
    terms = analyze(text)
    return Postings(dict(Counter(terms)), len(terms))


def query_terms(text: str, limit: int = 64) -> list[str]:
    """A question's distinct terms in order of first appearance, at most `limit`."""
    return list(dict.fromkeys(analyze(text)))[:limit]

"""Text analysis for the per-cube BM25 index: Lucene's english analyzer for words, its CJKAnalyzer's bigrams for
Chinese, Japanese and Korean, in Python.

Words (letters and digits, with inner apostrophes or dots kept, as "don't" or "3.5"), possessive "'s"
dropped, lower-cased, Lucene's English stop words removed, Snowball English stemming. A run of Han, Hiragana,
Katakana or Hangul characters (written without spaces between words) becomes its overlapping character
bigrams, a lone character itself, as Lucene's CJKAnalyzer does: "我在Google工作" gives 我在, googl, 工作.
A text holding any CJK character or full-width form is NFKC-normalised first (full-width letters and digits
become ASCII, half-width katakana full-width); a text without one is analysed exactly as before CJK support
(ANALYZER_VERSION 1), so its postings need no rebuilding. Emoji and punctuation separate terms and are dropped.
Memories are analysed when written and questions when searched, by this one function, so both sides agree.
"""

from __future__ import annotations

import re
import unicodedata
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
# 2: CJK runs as bigrams, NFKC for texts holding East Asian characters (1: a CJK run was one word).
ANALYZER_VERSION = 2
# (first, last) code points of the scripts analysed as bigrams: Han (radicals, 々, 〇, the unified and
# compatibility ideographs with their extensions), Hiragana and Katakana (without the middle dot ・, which
# separates), Hangul (jamo and syllables).
CJK_RANGES = (
    (0x1100, 0x11FF),
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3038, 0x303C),
    (0x3041, 0x3096),
    (0x309D, 0x309F),
    (0x30A1, 0x30FA),
    (0x30FC, 0x30FF),
    (0x3131, 0x318E),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7A3),
    (0xD7B0, 0xD7FF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3FFFF),
)
# The Halfwidth and Fullwidth Forms block: NFKC maps them to ASCII and full-width katakana.
WIDTH_RANGES = ((0xFF00, 0xFFEF),)


def _class(ranges: tuple[tuple[int, int], ...], escape: str) -> str:
    """The ranges as the inside of a regular expression's character class, each code point escaped."""
    return "".join(f"{escape.format(first)}-{escape.format(last)}" for first, last in ranges)


PYTHON_ESCAPE = r"\U{:08x}"
JAVA_ESCAPE = r"\x{{{:x}}}"
_CJK = _class(CJK_RANGES, PYTHON_ESCAPE)
_EAST_ASIAN = re.compile(f"[{_class(CJK_RANGES + WIDTH_RANGES, PYTHON_ESCAPE)}]")
# Either a run of CJK characters or a word of the other letters and digits (as before: inner ' and . kept).
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|[^\W{_CJK}]+(?:['\u2019.][^\W{_CJK}]+)*")
# The same character set for Neo4j's (Java) regular expressions: a memory whose text matches holds East Asian
# characters, the only texts ANALYZER_VERSION 2 analyses differently from version 1.
EAST_ASIAN_TEXT_JAVA = f"(?s).*[{_class(CJK_RANGES + WIDTH_RANGES, JAVA_ESCAPE)}].*"
_POSSESSIVE = re.compile(r"['\u2019]s$")
# A term longer than this is cut: it keeps one pathological token from bloating the index.
MAX_TERM_CHARS = 64
_STEMMER = Stemmer.Stemmer("english")


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def has_east_asian(text: str) -> bool:
    """Whether the text holds a CJK character or a full-width form (what makes analysis differ from version 1)."""
    return _EAST_ASIAN.search(text) is not None


def analyze(text: str) -> list[str]:
    """The text's index terms, in order, repeats kept."""
    if has_east_asian(text):
        text = unicodedata.normalize("NFKC", text)
    terms: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        run = match.group("cjk")
        if run is not None:
            terms.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
            continue
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

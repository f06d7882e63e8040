"""Texts in several languages shared by the tests, and the analyzer of version 1 the migration replaces."""

from __future__ import annotations

import re

import Stemmer

from memos_graph.ranking.analyzer import MAX_TERM_CHARS, STOP_WORDS

# The example of issue 23: football and Barcelona, an engineer in Shanghai, a peanut allergy, weekend hiking.
FOOTBALL = "我喜欢踢足球，最喜欢的球队是巴塞罗那。"
ENGINEER = "我是一名软件工程师，在上海的一家公司工作。"
ALLERGY = "我对花生过敏。"
HIKING = "周末我常常和朋友去爬山。"
CHINESE_MEMORIES = [FOOTBALL, ENGINEER, ALLERGY, HIKING]

_WORD = re.compile(r"\w+(?:['\u2019.]\w+)*")
_STEMMER = Stemmer.Stemmer("english")


def version_one_terms(text: str) -> list[str]:
    """The terms analyzer version 1 gave (before CJK support: a run of CJK characters was one word)."""
    words = (re.sub(r"['\u2019]s$", "", m.group()).replace("\u2019", "'") for m in _WORD.finditer(text.lower()))
    return [_STEMMER.stemWord(w)[:MAX_TERM_CHARS] for w in words if w and w not in STOP_WORDS]

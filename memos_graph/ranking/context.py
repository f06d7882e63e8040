"""What a question says beyond its words, and the boosts it earns the memories that fit it.

After fusion (and neighbour expansion) a memory's relativity s becomes min(1, s + b), where b sums the
boosts it earns; the order among memories with equal boosts is kept:

- time match: the question names a time ("in May 2023", "the week before 16 November 2023", "上周", "last
  week" read against the search's reference time) and the memory's event span (metadata.event_start /
  event_end, set on add) overlaps it;
- stated time: the question asks when ("When did ...", "什么时候") and the memory's text itself states a
  time (time_source "text": "yesterday", "last Saturday", "三天前"), which is where the answer lies;
- speaker: the memory was said by someone the question names ("What does Melanie do to destress?" favours
  what Melanie said over what was said to her). The speaker is the message's `name`, or a "Name: " at the
  start of its content (how MemOS users write the speaker into messages).

Each part's weight was chosen by leave-one-conversation-out cross-validation on LoCoMo
(bench/results/locomo-time.md); a weight of 0 turns it off.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from memos_graph.domain.memory import TextualMemoryItem
from memos_graph.domain.temporal import asks_when, question_spans
from memos_graph.domain.time_spans import Span

# "Name: text" at the start of a message: up to three words of letters, then a colon and a space (a
# full-width colon needs none); in a cased script each word is capitalised ("I love it: ..." names nobody).
_SPEAKER = re.compile(r"^\s*([^\W\d_][\w.'-]{0,30}(?: [^\W\d_][\w.'-]{0,30}){0,2})\s*(?::\s|：\s*)")
_ROLES = frozenset({"user", "assistant", "system", "tool", "human", "ai"})
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Weights:
    """The boosts a memory may earn (see the module docstring)."""

    time_match: float = 0.0
    stated_time: float = 0.0
    speaker: float = 0.0

    def any(self) -> bool:
        return self.time_match > 0 or self.stated_time > 0 or self.speaker > 0


@dataclass(frozen=True)
class Question:
    """What ranking needs of a question: its text, the times it names, whether it asks when."""

    text: str
    spans: tuple[Span, ...]
    asks_when: bool


def read_question(text: str, reference: dt.datetime, anchored: bool = True) -> Question:
    """The question's times (resolved against `reference`, an aware moment; see domain.temporal.question_spans
    for `anchored`, whether the caller said when the question is asked) and whether it asks when."""
    return Question(text, question_spans(text, reference, anchored), asks_when(text))


def speaker(item: TextualMemoryItem) -> str | None:
    """Who said the memory: its first source's `name`, else a "Name: " opening its content (a role such as
    "user" does not count); None for memories not taken from a message."""
    if not item.metadata.sources:
        return None
    source = item.metadata.sources[0]
    name = (source.model_extra or {}).get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    match = _SPEAKER.match(source.content) if source.content else None
    return match.group(1) if match and is_name(match.group(1)) else None


def said(item: TextualMemoryItem) -> str:
    """What the memory says: its message's content without a "Name: " speaker (a message's memory text opens
    with "[time] speaker: ", which says who and when, not what), else its text."""
    sources = item.metadata.sources
    if sources and sources[0].content:
        return without_speaker(sources[0].content)
    return item.memory


def without_speaker(text: str) -> str:
    """The text without a "Name: " speaker opening it (a role such as "user" is kept)."""
    match = _SPEAKER.match(text)
    return text[match.end() :] if match and is_name(match.group(1)) else text


def is_name(text: str) -> bool:
    """Whether a speaker prefix reads as a name: not a role, each word capitalised where the script has case."""
    if text.lower() in _ROLES:
        return False
    return all(not word[0].islower() for word in text.split())


def names(question: str, who: str) -> bool:
    """Whether the question names `who`: as a whole word in Latin script ("Melanie's" names Melanie), as a
    substring where the name is written in a script without spaces (Chinese, Japanese, Korean)."""
    if _CJK.search(who):
        return who in question
    return re.search(rf"(?<!\w){re.escape(who)}(?!\w)", question) is not None


def stored_span(item: TextualMemoryItem) -> Span | None:
    """The memory's stored event span, or None when it has none (memories stored before event times)."""
    start, end = item.metadata.event_start, item.metadata.event_end
    if not start or not end:
        return None
    try:
        return Span(dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end))
    except ValueError:
        return None


def boost(item: TextualMemoryItem, question: Question, weights: Weights) -> float:
    """The boosts the memory earns for the question, summed."""
    total = 0.0
    if weights.time_match > 0 and question.spans:
        span = stored_span(item)
        if span is not None and any(span.overlaps(asked) for asked in question.spans):
            total += weights.time_match
    if weights.stated_time > 0 and question.asks_when and item.metadata.time_source == "text":
        total += weights.stated_time
    if weights.speaker > 0:
        who = speaker(item)
        if who is not None and names(question.text, who):
            total += weights.speaker
    return total


def rerank(
    scored: list[tuple[TextualMemoryItem, float]], question: Question, weights: Weights
) -> list[tuple[TextualMemoryItem, float]]:
    """The (memory, relativity) pairs with each relativity raised by its boosts, best first (a stable sort:
    equal scores keep their order)."""
    if not weights.any():
        return scored
    raised = [(item, min(1.0, score + boost(item, question, weights))) for item, score in scored]
    return sorted(raised, key=lambda pair: -pair[1])

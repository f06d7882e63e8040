"""When things happened: what a text or a question says about time, built on its time expressions
(domain/time_expressions.py) and the spans they resolve to (domain/time_spans.py).

A message's event is its first time expression read against when it was said, else that day; a new memory's
time metadata follows from it (event_fields); a question's spans are the hull of its expressions, or one span
per year for a date named without one (question_spans). Durations ("for three years", "两年了") state a time
without saying when the event began. Everything here is pure and deterministic: no clock is read (a caller
passes the reference), no locale is consulted.
"""

from __future__ import annotations

import datetime as dt
import re

from memos_graph.domain.time_expressions import NUMBER_PATTERN, YEAR_PATTERN, ZH_AMOUNT, mentions
from memos_graph.domain.time_spans import UTC, Span, day_span, hull, iso_utc, parse_moment

# How long something has lasted ("for three years", "for just under a year", "两年了", "三个多月了"): the text
# states a time, but not when the event began or will end (tense decides, and "for two weeks" may lie ahead).
_DURATION = re.compile(
    r"\bfor\s+(?:about\s+|around\s+|almost\s+|nearly\s+|over\s+|more\s+than\s+|less\s+than\s+|"
    r"just\s+(?:under|over)\s+|the\s+(?:past|last)\s+)?"
    rf"(?:\d+|{NUMBER_PATTERN})\s+(?:day|week|month|year|decade)s?\b"
    rf"|\b(?:\d+|{NUMBER_PATTERN})\s+(?:week|month|year|decade)s?\s+now\b"
    "|" + ZH_AMOUNT.replace("?P<zh_amount>", "?:") + r"(?:个)?(?:多)?(?:天|周|星期|礼拜|月|年)(?:多)?(?:了|之久)",
    re.IGNORECASE,
)


def states_duration(text: str) -> bool:
    """Whether the text says how long something has lasted ("I've had them for 3 years now", "学了两年了")."""
    return _DURATION.search(text) is not None


def event_span(text: str, said_at: dt.datetime | None) -> tuple[Span | None, bool]:
    """When the text's event happened: its first time expression resolved against `said_at`, else the day it
    was said; and whether the text itself states a time (a time expression, or a duration: then the span
    stays the day it was said). (None, False) with neither."""
    if said_at is None:
        return None, False
    found = mentions(text, said_at)
    if found:
        return found[0].span, True
    return day_span(said_at), states_duration(text)


_WHEN_QUESTION = re.compile(
    r"^\s*(?:when|what\s+(?:date|day|time|year|month|week)|which\s+(?:date|day|year|month|week)|how\s+long)\b"
    r"|\bwhen\s+(?:did|does|do|is|was|were|will|has|have|had)\b"
    r"|什么时候|何时|哪天|哪一天|哪年|哪一年|几月|几号|哪个月|多久|多长时间|啥时候",
    re.IGNORECASE,
)


def asks_when(question: str) -> bool:
    """Whether the question asks for a time or how long ("When did ...", "What year ...", "How long has ...",
    "什么时候", "哪天", "多久")."""
    return _WHEN_QUESTION.search(question) is not None


def question_spans(question: str, reference: dt.datetime, anchored: bool = True) -> tuple[Span, ...]:
    """The stretches of time a question is about, resolved against `reference`; empty when it names none.

    Usually one span, the hull of its time expressions. A date or month named without a year takes the year
    of a dated expression beside it ("between August 11 and August 15 2023"); without one, when the question
    is `anchored` (the caller said when it is asked) it takes the year near the reference, and otherwise it
    stands for that date in any year from ten years before the reference to the year after (one span per
    year): "in the second week of November", asked of a conversation from 2023 without a reference time,
    still means its Novembers."""
    found = mentions(question, reference)
    if not found:
        return ()
    dated = [m for m in found if not m.floating and YEAR_PATTERN.search(m.phrase)]
    if any(m.floating for m in found) and dated:
        found = mentions(question, dated[0].span.start)
    elif any(m.floating for m in found) and not anchored:
        fixed = [m.span for m in found if not m.floating]
        spans = [hull(fixed)] if fixed else []
        for mention in (m for m in found if m.floating):
            for years in range(-10, 2):
                moved = _years_later(mention.span, years)
                if moved is not None:
                    spans.append(moved)
        return tuple(spans)
    return (hull([m.span for m in found]),)


def _years_later(span: Span, years: int) -> Span | None:
    try:
        return Span(span.start.replace(year=span.start.year + years), span.end.replace(year=span.end.year + years))
    except ValueError:  # 29 February in a year without one
        return None


def event_fields(
    content: str, said_at: dt.datetime | None, added_at: dt.datetime, memory_time: str | None = None
) -> dict[str, str]:
    """The time metadata of a new memory: memory_time (YYYY-MM-DD), event_start / event_end (UTC, as iso_utc)
    and time_source. A memory_time the caller gave wins (source "caller"; its day, in its own offset); else
    the content's first time expression read against when it was said (or added); else that day. A
    memory_time no reader understands stays as given, and the span comes from the content."""
    given = parse_moment(memory_time, added_at.tzinfo or UTC) if memory_time else None
    if given is not None:
        span, source = day_span(given), "caller"
    else:
        found, stated = event_span(content, said_at or added_at)
        span = found if found is not None else day_span(added_at)
        source = "text" if stated else ("chat_time" if said_at is not None else "added")
    return {
        "memory_time": memory_time or span.start.date().isoformat(),
        "event_start": iso_utc(span.start),
        "event_end": iso_utc(span.end),
        "time_source": source,
    }

"""Time parsing: chat_time formats, time expressions in English and Chinese read against a reference, time zones,
and what a new memory's event time becomes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from memos_graph.domain.temporal import asks_when, event_fields, event_span, question_spans
from memos_graph.domain.time_expressions import mentions
from memos_graph.domain.time_spans import Span, iso_utc, parse_moment

UTC = dt.UTC
# A Monday: 8 May 2023, 1:56 pm (LoCoMo's first session).
SAID = dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def day(year: int, month: int, day_: int, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(year, month, day_, tzinfo=tz)


def only(text: str, reference: dt.datetime = SAID) -> Span:
    found = mentions(text, reference)
    assert len(found) == 1, [m.phrase for m in found]
    return found[0].span


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:56 pm on 8 May, 2023", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("12:09 am on 13 September, 2023", dt.datetime(2023, 9, 13, 0, 9, tzinfo=UTC)),
        ("10:37 am on 27 June, 2023", dt.datetime(2023, 6, 27, 10, 37, tzinfo=UTC)),
        ("2023-05-08", dt.datetime(2023, 5, 8, tzinfo=UTC)),
        ("2023-05-08 13:56", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023-05-08T13:56:00Z", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("8 May 2023", dt.datetime(2023, 5, 8, tzinfo=UTC)),
        ("May 8, 2023 at 1:56 pm", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023/05/08 13:56", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023年5月8日 13:56", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
        ("2023年5月8日下午1点56分", dt.datetime(2023, 5, 8, 13, 56, tzinfo=UTC)),
    ],
)
def test_chat_time_formats_parse(text: str, expected: dt.datetime) -> None:
    assert parse_moment(text) == expected


def test_a_moment_keeps_its_offset_and_a_naive_one_takes_the_default_zone() -> None:
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    with_offset = parse_moment("2023-05-08T13:56:00+08:00", default_tz=UTC)
    assert with_offset is not None and with_offset.utcoffset() == dt.timedelta(hours=8)
    naive = parse_moment("2023-05-08 13:56", default_tz=shanghai)
    assert naive is not None and naive.tzinfo is shanghai
    assert naive.astimezone(UTC) == dt.datetime(2023, 5, 8, 5, 56, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "soon", "31 June 2023", "2023-13-01", "yesterday", "x" * 100])
def test_what_is_not_a_moment_is_none(text: str) -> None:
    assert parse_moment(text) is None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("I went to a support group yesterday", day(2023, 5, 7), day(2023, 5, 8)),
        ("we met the day before yesterday", day(2023, 5, 6), day(2023, 5, 7)),
        ("I'm painting today", day(2023, 5, 8), day(2023, 5, 9)),
        ("see you tomorrow", day(2023, 5, 9), day(2023, 5, 10)),
        ("last night was fun", day(2023, 5, 7), day(2023, 5, 8)),
        # both readings of "last week": the calendar week before, and the seven days before
        ("Last week I ran a race", day(2023, 5, 1), day(2023, 5, 8)),
        ("next week we fly", day(2023, 5, 9), day(2023, 5, 22)),
        ("last weekend we camped", day(2023, 5, 6), day(2023, 5, 8)),
        ("Last Saturday I painted", day(2023, 5, 6), day(2023, 5, 7)),
        ("on Friday I cooked", day(2023, 5, 5), day(2023, 5, 6)),
        ("next Friday is the show", day(2023, 5, 12), day(2023, 5, 13)),
        ("two days ago", day(2023, 5, 6), day(2023, 5, 7)),
        ("a few days ago", day(2023, 5, 4), day(2023, 5, 7)),
        ("3 weeks ago", day(2023, 4, 14), day(2023, 4, 21)),
        ("last month", day(2023, 4, 1), day(2023, 5, 1)),
        ("next month I go to Paris", day(2023, 6, 1), day(2023, 7, 1)),
        ("last year", day(2022, 1, 1), day(2023, 1, 1)),
        ("10 years ago", day(2013, 1, 1), day(2014, 1, 1)),
        ("in two weeks", day(2023, 5, 19), day(2023, 5, 26)),
        ("last summer", day(2022, 6, 1), day(2022, 9, 1)),
        ("the other day", day(2023, 5, 1), day(2023, 5, 8)),
    ],
)
def test_english_relative_expressions(text: str, start: dt.datetime, end: dt.datetime) -> None:
    assert only(text) == Span(start, end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("on 1 May, 2022", day(2022, 5, 1), day(2022, 5, 2)),
        ("May 8th", day(2023, 5, 8), day(2023, 5, 9)),
        ("in July 2022", day(2022, 7, 1), day(2022, 8, 1)),
        ("in June", day(2023, 6, 1), day(2023, 7, 1)),
        ("back in 2019", day(2019, 1, 1), day(2020, 1, 1)),
        ("on 2022-11-05", day(2022, 11, 5), day(2022, 11, 6)),
        ("the week before 16 November 2023", day(2023, 11, 9), day(2023, 11, 16)),
        ("the Friday before 14September, 2022", day(2022, 9, 9), day(2022, 9, 10)),
        ("the weekend before 20 October 2023", day(2023, 10, 14), day(2023, 10, 16)),
        ("the beginning of November 2022", day(2022, 11, 1), day(2022, 11, 11)),
        ("late August 2023", day(2023, 8, 21), day(2023, 9, 1)),
    ],
)
def test_english_absolute_expressions(text: str, start: dt.datetime, end: dt.datetime) -> None:
    assert only(text) == Span(start, end)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("我昨天去了北京", day(2023, 5, 7), day(2023, 5, 8)),
        ("前天下雨了", day(2023, 5, 6), day(2023, 5, 7)),
        ("明天见", day(2023, 5, 9), day(2023, 5, 10)),
        ("上周我们开了会", day(2023, 5, 1), day(2023, 5, 8)),
        ("上周六我们去爬山", day(2023, 5, 6), day(2023, 5, 7)),
        ("下周三交报告", day(2023, 5, 17), day(2023, 5, 18)),
        ("上个月搬家了", day(2023, 4, 1), day(2023, 5, 1)),
        ("下个月去上海", day(2023, 6, 1), day(2023, 7, 1)),
        ("去年毕业", day(2022, 1, 1), day(2023, 1, 1)),
        ("三天前", day(2023, 5, 4), day(2023, 5, 7)),
        ("两个月前开始学钢琴", day(2023, 3, 1), day(2023, 4, 1)),
        ("2023年5月", day(2023, 5, 1), day(2023, 6, 1)),
        ("2022年11月5日", day(2022, 11, 5), day(2022, 11, 6)),
        ("5月8日", day(2023, 5, 8), day(2023, 5, 9)),
        ("2019年", day(2019, 1, 1), day(2020, 1, 1)),
    ],
)
def test_chinese_expressions(text: str, start: dt.datetime, end: dt.datetime) -> None:
    assert only(text) == Span(start, end)


@pytest.mark.parametrize(
    "text",
    [
        "I sat in the sun and thought",  # "sat", "sun": not weekdays
        "I may go, you may not",  # "may" the verb
        "I'll start, may I?",
        "We have 12 cats and 3 dogs",
        "Version 3.2 is out",
        "他很好",
    ],
)
def test_words_that_only_look_like_times_are_not_times(text: str) -> None:
    assert mentions(text, SAID) == []


def test_days_follow_the_reference_time_zone() -> None:
    # 8 May 01:00 in Shanghai is still 7 May in UTC: "yesterday" is Shanghai's 7 May.
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    said = dt.datetime(2023, 5, 8, 1, 0, tzinfo=shanghai)
    span = only("yesterday", said)
    assert span == Span(day(2023, 5, 7, shanghai), day(2023, 5, 8, shanghai))
    assert iso_utc(span.start) == "2023-05-06T16:00:00Z"


def test_a_naive_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        mentions("yesterday", dt.datetime(2023, 5, 8))


def test_mentions_come_in_text_order_without_overlaps() -> None:
    found = mentions("Yesterday I booked the trip for next month, on 1 June 2023.", SAID)
    assert [m.phrase for m in found] == ["Yesterday", "next month", "1 June 2023"]


def test_event_span_prefers_what_the_text_states() -> None:
    assert event_span("I ran a race last Sunday", SAID) == (Span(day(2023, 5, 7), day(2023, 5, 8)), True)
    assert event_span("I love running", SAID) == (Span(day(2023, 5, 8), day(2023, 5, 9)), False)
    assert event_span("I love running", None) == (None, False)


@pytest.mark.parametrize(
    "text",
    [
        "I've had them for 3 years now and they bring me tons of joy!",
        "I've been playing professionally for just under a year now.",
        "We have been friends for the past two decades",
        "Four years now, and still going",
        "我养这两只乌龟三年了",
        "钢琴我学了两个多月了",
        "这只猫陪了我半年之久",
    ],
)
def test_a_duration_states_a_time_but_keeps_the_day_it_was_said(text: str) -> None:
    assert event_span(text, SAID) == (Span(day(2023, 5, 8), day(2023, 5, 9)), True)
    assert event_fields(text, SAID, SAID)["time_source"] == "text"


@pytest.mark.parametrize(
    "text", ["Thanks for the two books!", "I have four cats", "for a while now", "他三天两头来找我", "我有三只猫"]
)
def test_numbers_and_counts_are_not_durations(text: str) -> None:
    assert event_span(text, SAID) == (Span(day(2023, 5, 8), day(2023, 5, 9)), False)


def test_event_fields_of_a_new_memory() -> None:
    added = dt.datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    stated = event_fields("I went there yesterday", SAID, added)
    assert stated == {
        "memory_time": "2023-05-07",
        "event_start": "2023-05-07T00:00:00Z",
        "event_end": "2023-05-08T00:00:00Z",
        "time_source": "text",
    }
    assert event_fields("Nice!", SAID, added)["time_source"] == "chat_time"
    assert event_fields("Nice!", None, added)["memory_time"] == "2026-12-06"
    assert event_fields("Nice!", None, added)["time_source"] == "added"
    given = event_fields("I went there yesterday", SAID, added, memory_time="2020-02-29")
    assert given["memory_time"] == "2020-02-29" and given["time_source"] == "caller"
    assert given["event_start"] == "2020-02-29T00:00:00Z"
    # a memory_time nobody can read stays as given; the span comes from the text
    odd = event_fields("I went there yesterday", SAID, added, memory_time="around then")
    assert odd["memory_time"] == "around then" and odd["time_source"] == "text"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When did Caroline go to the support group?", True),
        ("What year did John start surfing?", True),
        ("How long ago was Caroline's 18th birthday?", True),
        ("Since when has she painted, and when did she start?", True),
        ("What does Melanie do to destress?", False),
        ("Where did Joanna travel in July 2022?", False),
        ("小明什么时候去的北京?", True),
        ("她哪天搬的家", True),
        ("小明喜欢什么?", False),
        ("How long has Nate had his first two turtles?", True),
        ("他学钢琴多久了？", True),
        ("How many turtles does Nate have?", False),
    ],
)
def test_asks_when(question: str, expected: bool) -> None:
    assert asks_when(question) is expected


def test_question_span_is_the_hull_of_its_times() -> None:
    asked = dt.datetime(2024, 1, 10, tzinfo=UTC)
    spans = question_spans("What did she do between May 2023 and July 2023?", asked)
    assert spans == (Span(day(2023, 5, 1), day(2023, 8, 1)),)
    assert question_spans("What did I do last week?", asked) == (Span(day(2024, 1, 1), day(2024, 1, 10)),)
    assert question_spans("What does Melanie like?", asked) == ()


def test_a_yearless_date_takes_the_year_of_a_dated_one_beside_it() -> None:
    asked = dt.datetime(2026, 12, 6, tzinfo=UTC)
    spans = question_spans("Where was John between August 11 and August 15 2023?", asked, anchored=False)
    assert spans == (Span(day(2023, 8, 11), day(2023, 8, 16)),)


def test_a_yearless_month_stands_for_every_recent_year_unless_the_question_is_anchored() -> None:
    asked = dt.datetime(2026, 12, 6, tzinfo=UTC)
    floating = question_spans("Which country was Tim visiting in November?", asked, anchored=False)
    assert Span(day(2023, 11, 1), day(2023, 12, 1)) in floating
    assert Span(day(2027, 11, 1), day(2027, 12, 1)) in floating
    assert len(floating) == 12  # ten years back to the next one
    anchored = question_spans("Which country was Tim visiting in November?", asked)
    assert anchored == (Span(day(2026, 11, 1), day(2026, 12, 1)),)
    # relative times always read against the reference
    assert question_spans("What did I do last week?", asked, anchored=False) == (
        Span(day(2026, 11, 23), day(2026, 12, 6)),
    )
    assert question_spans("What did Nate win in July 2022?", asked, anchored=False) == (
        Span(day(2022, 7, 1), day(2022, 8, 1)),
    )

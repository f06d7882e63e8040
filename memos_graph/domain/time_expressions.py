"""The time expressions of a text, English and Chinese ("yesterday", "last Saturday", "two weeks ago", "in May
2023", "the week before 16 November 2023"; "昨天", "上周六", "三天前", "2023年5月"), found and resolved against
a reference moment into spans (domain/time_spans.py).

"yesterday" said at 1:56 pm on 8 May 2023 is [7 May 2023 00:00, 8 May 2023 00:00) in the reference's
timezone. Where a phrase has two readings, the span covers both: "last week" runs from the Monday of the week
before to the reference day, so it holds both "the calendar week before" and "the seven days before".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from memos_graph.domain.time_spans import (
    DAY,
    MONTH_NAMES,
    MONTHS,
    NUMBER_WORDS,
    WEEKDAYS,
    ZH_DIGITS,
    ZH_WEEKDAYS,
    Span,
    ago_span,
    day_span,
    day_start,
    month_span,
    nearest_month,
    relative_unit,
    shift_months,
    week_start,
    weekday_span,
    year_span,
)


@dataclass(frozen=True)
class Mention:
    """A time expression found in a text: where it is, what it said, and the span it names."""

    begin: int
    finish: int
    phrase: str
    span: Span
    # A calendar date or month named without its year ("in June", "May 8th", "5月8日"): the year is the
    # reference's guess (the one within six months of it).
    floating: bool = False


# -- finding expressions in text --------------------------------------------------------------------------------

_WEEKDAY_NAMES = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
# The number words as one alternation, longest first (temporal.py's durations use it too).
NUMBER_PATTERN = "|".join(re.escape(word) for word in sorted(NUMBER_WORDS, key=len, reverse=True))
_UNITS = r"(?P<unit>day|week|month|year)s?"
_ABSOLUTE_DAY = (
    rf"(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?P<month>{MONTH_NAMES})\.?"
    rf"|(?P<month2>{MONTH_NAMES})\.?\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b)"
    r"(?:,?\s*(?P<year>\d{4}))?"
)
# A Chinese amount: digits, number characters, "a few" or "half".
ZH_AMOUNT = r"(?P<zh_amount>\d+|[零一二两三四五六七八九十]+|几|半)"

Resolver = Callable[[re.Match[str], dt.datetime], Span | None]


def _zh_number(text: str) -> int | None:
    """A small Chinese (or Arabic) numeral as an int: "三" 3, "十二" 12, "二十" 20, "12" 12; "几" counts as 3."""
    if text.isdigit():
        return int(text)
    if text == "几":
        return 3
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (ZH_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for char in text:
        if char not in ZH_DIGITS:
            return None
        value = value * 10 + ZH_DIGITS[char]
    return value


def _absolute_day(match: re.Match[str], reference: dt.datetime) -> Span | None:
    parts = match.groupdict()
    month_name = parts["month"] or parts["month2"]
    day = int(parts["day"] or parts["day2"])
    month = MONTHS[month_name.lower().rstrip(".")]
    # no year: the date within six months of the reference
    year = int(parts["year"]) if parts["year"] else nearest_month(reference, month).start.year
    try:
        return day_span(dt.datetime(year, month, day, tzinfo=reference.tzinfo))
    except ValueError:
        return None


def _before_after(match: re.Match[str], reference: dt.datetime) -> Span | None:
    """ "the week/weekend/day/<weekday> before|after <date>"."""
    anchor = _absolute_day(match, reference)
    if anchor is None:
        return None
    what, direction = match.group("what").lower(), (-1 if match.group("side").lower() == "before" else 1)
    moment = anchor.start
    if what == "day":
        return day_span(moment, direction)
    if what == "week":
        return Span(moment - 7 * DAY, moment) if direction < 0 else Span(anchor.end, anchor.end + 7 * DAY)
    if what == "weekend":
        return relative_unit(moment, "weekend", direction)
    return weekday_span(moment, WEEKDAYS[what], direction)


def _part_of_month(match: re.Match[str], reference: dt.datetime) -> Span | None:
    """ "early / mid / late / the beginning of / the end of <month> [year]"."""
    month = MONTHS[match.group("pmonth").lower().rstrip(".")]
    year_text = match.group("pyear")
    whole = month_span(int(year_text), month, reference.tzinfo) if year_text else nearest_month(reference, month)
    part = (match.group("part") or match.group("part2")).lower()
    if part in ("early", "beginning", "start"):
        return Span(whole.start, whole.start + 10 * DAY)
    if part in ("mid", "middle"):
        return Span(whole.start + 10 * DAY, whole.start + 20 * DAY)
    return Span(whole.start + 20 * DAY, whole.end)


def _month_year(match: re.Match[str], reference: dt.datetime) -> Span | None:
    month = MONTHS[match.group("mmonth").lower().rstrip(".")]
    return month_span(int(match.group("myear")), month, reference.tzinfo)


def _bare_month(match: re.Match[str], reference: dt.datetime) -> Span | None:
    return nearest_month(reference, MONTHS[match.group("bmonth").lower().rstrip(".")])


def _year(match: re.Match[str], reference: dt.datetime) -> Span | None:
    return year_span(int(match.group("year")), reference.tzinfo)


def _iso_day(match: re.Match[str], reference: dt.datetime) -> Span | None:
    try:
        moment = dt.datetime(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None
    return day_span(moment.replace(tzinfo=reference.tzinfo))


def _named_day(match: re.Match[str], reference: dt.datetime) -> Span | None:
    word = " ".join(match.group(0).lower().split())
    offsets = {
        "the day before yesterday": -2,
        "day before yesterday": -2,
        "the day after tomorrow": 2,
        "day after tomorrow": 2,
        "yesterday": -1,
        "last night": -1,
        "today": 0,
        "tonight": 0,
        "this morning": 0,
        "this afternoon": 0,
        "this evening": 0,
        "tomorrow": 1,
    }
    return day_span(reference, offsets[word])


def _relative(match: re.Match[str], reference: dt.datetime) -> Span | None:
    which = " ".join(match.group("which").lower().split())
    direction = {"last": -1, "past": -1, "previous": -1, "this past": -1, "this": 0, "next": 1, "coming": 1}.get(
        which, 1
    )
    return relative_unit(reference, match.group("runit").lower(), direction)


def _weekday(match: re.Match[str], reference: dt.datetime) -> Span | None:
    which = " ".join((match.group("wwhich") or "").lower().split())
    direction = 1 if which in ("next", "this coming", "coming") else -1
    return weekday_span(reference, WEEKDAYS[match.group("wday").lower()], direction)


def _ago(match: re.Match[str], reference: dt.datetime) -> Span | None:
    amount_text = " ".join(match.group("amount").lower().split())
    amount = int(amount_text) if amount_text.isdigit() else NUMBER_WORDS[amount_text]
    direction = -1 if match.group("ago") else 1
    return ago_span(reference, amount, match.group("unit").lower(), direction)


def _other_day(match: re.Match[str], reference: dt.datetime) -> Span | None:
    return Span(day_start(reference) - 7 * DAY, day_start(reference))


def _zh_full_date(match: re.Match[str], reference: dt.datetime) -> Span | None:
    year = int(match.group("zy")) if match.group("zy") else None
    month = int(match.group("zm"))
    if not 1 <= month <= 12:
        return None
    if match.group("zd"):
        day = int(match.group("zd"))
        year = year if year is not None else nearest_month(reference, month).start.year
        try:
            return day_span(dt.datetime(year, month, day, tzinfo=reference.tzinfo))
        except ValueError:
            return None
    if year is None:
        return nearest_month(reference, month)
    return month_span(year, month, reference.tzinfo)


def _zh_year(match: re.Match[str], reference: dt.datetime) -> Span | None:
    return year_span(int(match.group("zyear")), reference.tzinfo)


def _zh_named_day(match: re.Match[str], reference: dt.datetime) -> Span | None:
    word = match.group(0)
    offsets = {"大前天": -3, "前天": -2, "昨": -1, "今": 0, "明": 1, "后天": 2, "大后天": 3}
    for prefix, offset in offsets.items():
        if word.startswith(prefix):
            return day_span(reference, offset)
    return None


_ZH_DIRECTION = {"上": -1, "去": -1, "前": -2, "这": 0, "本": 0, "今": 0, "下": 1, "明": 1, "后": 2}


def _zh_relative(match: re.Match[str], reference: dt.datetime) -> Span | None:
    prefix, unit = match.group("zwhich"), match.group("zunit")
    direction = _ZH_DIRECTION[prefix[-1]]
    if prefix.startswith("上上") or prefix.startswith("下下"):
        direction *= 2
    if unit == "年":
        return year_span(reference.year + direction, reference.tzinfo)
    if unit in ("月", "个月"):
        return month_span(*shift_months(reference, direction), reference.tzinfo)
    day_name = match.group("zday")
    if day_name is not None and day_name != "末":
        monday = week_start(reference) + 7 * direction * DAY
        return day_span(monday, ZH_WEEKDAYS[day_name])
    if day_name == "末":
        return relative_unit(reference, "weekend", max(-1, min(1, direction)))
    if abs(direction) > 1:
        monday = week_start(reference) + 7 * direction * DAY
        return Span(monday, monday + 7 * DAY)
    return relative_unit(reference, "week", direction)


def _zh_bare_weekday(match: re.Match[str], reference: dt.datetime) -> Span | None:
    day = match.group("zbday")
    if day == "末":
        return relative_unit(reference, "weekend", -1)
    return weekday_span(reference, ZH_WEEKDAYS[day], -1)


def _zh_ago(match: re.Match[str], reference: dt.datetime) -> Span | None:
    amount_text = match.group("zh_amount")
    amount = 1 if amount_text == "半" else _zh_number(amount_text)
    if amount is None:
        return None
    unit = {"天": "day", "日": "day", "周": "week", "星期": "week", "礼拜": "week", "月": "month", "年": "year"}[
        match.group("zagounit")
    ]
    return ago_span(reference, amount, unit, -1 if match.group("zside") in ("前", "以前", "之前") else 1)


_PATTERNS: tuple[tuple[re.Pattern[str], Resolver], ...] = (
    (
        re.compile(
            rf"\bthe\s+(?P<what>day|week|weekend|{_WEEKDAY_NAMES})\s+(?P<side>before|after)\s+{_ABSOLUTE_DAY}",
            re.IGNORECASE,
        ),
        _before_after,
    ),
    (
        re.compile(
            r"\b(?:(?:the\s+)?(?:(?P<part>early|mid|late)[\s-]+|(?P<part2>beginning|start|middle|end)\s+of\s+))"
            rf"(?P<pmonth>{MONTH_NAMES})\b\.?(?:,?\s*(?P<pyear>\d{{4}}))?",
            re.IGNORECASE,
        ),
        _part_of_month,
    ),
    (re.compile(rf"\b{_ABSOLUTE_DAY}", re.IGNORECASE), _absolute_day),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), _iso_day),
    (re.compile(rf"\b(?P<mmonth>{MONTH_NAMES})\.?,?\s+(?P<myear>\d{{4}})\b", re.IGNORECASE), _month_year),
    (
        re.compile(
            r"\b(?:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|day\s+before\s+yesterday|"
            r"day\s+after\s+tomorrow|yesterday|last\s+night|today|tonight|this\s+(?:morning|afternoon|evening)|"
            r"tomorrow)\b",
            re.IGNORECASE,
        ),
        _named_day,
    ),
    (
        re.compile(
            r"\b(?P<which>this\s+past|last|past|previous|this|next|coming)\s+"
            r"(?P<runit>week|weekend|month|year|spring|summer|fall|autumn|winter)\b",
            re.IGNORECASE,
        ),
        _relative,
    ),
    (
        re.compile(
            rf"\b(?:(?P<wwhich>this\s+coming|this\s+past|last|next|coming|on|this|past)\s+)?"
            rf"(?P<wday>{_WEEKDAY_NAMES})\b",
            re.IGNORECASE,
        ),
        _weekday,
    ),
    (
        re.compile(rf"\b(?:(?P<amount>\d+|{NUMBER_PATTERN})\s+{_UNITS}\s+(?P<ago>ago)\b)", re.IGNORECASE),
        _ago,
    ),
    (
        re.compile(rf"\bin\s+(?P<amount>\d+|{NUMBER_PATTERN})\s+{_UNITS}(?P<ago>)\b(?!\s+ago)", re.IGNORECASE),
        _ago,
    ),
    (re.compile(r"\bthe\s+other\s+day\b", re.IGNORECASE), _other_day),
    (
        re.compile(rf"\b(?:in|of|during|since|by|from)\s+(?P<bmonth>{MONTH_NAMES})\b(?!\s*\d)", re.IGNORECASE),
        _bare_month,
    ),
    (re.compile(r"(?<![\d-])\b(?P<year>(?:19|20)\d{2})\b(?![\d-])"), _year),
    # Chinese
    (
        re.compile(r"(?:(?P<zy>\d{4})年)?(?P<zm>\d{1,2})月(?:(?P<zd>\d{1,2})[日号])?"),
        _zh_full_date,
    ),
    (re.compile(r"(?P<zyear>\d{4})年"), _zh_year),
    (re.compile(r"大前天|前天|昨天|昨日|昨晚|昨夜|今天|今日|今晚|今早|今夜|明天|明日|明晚|大后天|后天"), _zh_named_day),
    (
        re.compile(
            r"(?P<zwhich>上上|下下|上|下|这|本|去|今|明|前|后)(?:个)?"
            r"(?:(?P<zunit>年|个月|月)(?!\d)|(?:周|星期|礼拜)(?P<zday>[一二三四五六日天末])?)"
        ),
        _zh_relative,
    ),
    (re.compile(r"(?:周|星期|礼拜)(?P<zbday>[一二三四五六日天末])"), _zh_bare_weekday),
    (
        re.compile(
            ZH_AMOUNT + r"(?:个)?(?P<zagounit>天|日|周|星期|礼拜|月|年)(?:多)?(?P<zside>以前|之前|前|以后|之后|后)"
        ),
        _zh_ago,
    ),
)


_CALENDAR: frozenset[Resolver] = frozenset({_absolute_day, _before_after, _part_of_month, _bare_month, _zh_full_date})
# A year in digits: a mention holding one names its year.
YEAR_PATTERN = re.compile(r"\d{4}")


def mentions(text: str, reference: dt.datetime) -> list[Mention]:
    """The time expressions of the text, resolved against `reference` (an aware moment), in text order; where
    two overlap, the one found first (the patterns go from specific to general) wins."""
    if reference.utcoffset() is None:
        raise ValueError("the reference moment needs a timezone")
    found: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for pattern, resolve in _PATTERNS:
        for match in pattern.finditer(text):
            begin, finish = match.span()
            if any(begin < end and start < finish for start, end in taken):
                continue
            span = _resolved(resolve, match, reference)
            if span is not None:
                floating = resolve in _CALENDAR and YEAR_PATTERN.search(match.group(0)) is None
                found.append(Mention(begin, finish, match.group(0), span, floating))
                taken.append((begin, finish))
    return sorted(found, key=lambda mention: mention.begin)


def _resolved(resolve: Resolver, match: re.Match[str], reference: dt.datetime) -> Span | None:
    try:
        return resolve(match, reference)
    except (ValueError, OverflowError, KeyError):  # a date that does not exist ("31 June"), a year out of range
        return None

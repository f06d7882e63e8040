"""When things happened: a message's chat_time parsed, and the time expressions of a text ("yesterday", "last
Saturday", "two weeks ago", "in May 2023", "the week before 16 November 2023"; "昨天", "上周六", "三天前",
"2023年5月") resolved against a reference moment into spans of time.

Everything here is pure and deterministic: no clock is read (a caller passes the reference), no locale is
consulted. A span is half-open, [start, end), timezone-aware, at day precision or coarser (a week, a month,
a year): "yesterday" said at 1:56 pm on 8 May 2023 is [7 May 2023 00:00, 8 May 2023 00:00) in the
reference's timezone. Weeks start on Monday. Where a phrase has two readings, the span covers both: "last
week" runs from the Monday of the week before to the reference day, so it holds both "the calendar week
before" and "the seven days before".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

UTC = dt.UTC
DAY = dt.timedelta(days=1)

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday",),
            ("tuesday",),
            ("wednesday",),
            ("thursday",),
            ("friday",),
            ("saturday",),
            ("sunday",),
        )
    )
    for name in names
}
ZH_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
    "several": 3,
}
ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
SEASONS = {"spring": (3, 6), "summer": (6, 9), "fall": (9, 12), "autumn": (9, 12), "winter": (12, 15)}


@dataclass(frozen=True, order=True)
class Span:
    """A half-open stretch of time [start, end), both timezone-aware."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError("a span needs timezone-aware ends")
        if self.end <= self.start:
            raise ValueError("a span must end after it starts")

    def overlaps(self, other: Span) -> bool:
        """Whether the two share any moment."""
        return self.start < other.end and other.start < self.end

    def days(self) -> float:
        """Its length in days."""
        return (self.end - self.start) / DAY


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


# -- moments: chat_time and the like ------------------------------------------------------------------------

_CLOCK = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?P<month>{_MONTH_NAMES})\.?,?\s*(?P<year>\d{{4}})"
_MONTH_DAY_YEAR = rf"(?P<month>{_MONTH_NAMES})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s*(?P<year>\d{{4}})"
_MOMENT_FORMS = (
    # LoCoMo: "1:56 pm on 8 May, 2023"; also "8 May 2023, 1:56 pm", "May 8, 2023 at 13:56"
    re.compile(rf"^{_CLOCK}\s+(?:on\s+)?{_DAY_MONTH_YEAR}$", re.IGNORECASE),
    re.compile(rf"^{_CLOCK}\s+(?:on\s+)?{_MONTH_DAY_YEAR}$", re.IGNORECASE),
    re.compile(rf"^{_DAY_MONTH_YEAR}(?:,?\s*(?:at\s+)?{_CLOCK})?$", re.IGNORECASE),
    re.compile(rf"^{_MONTH_DAY_YEAR}(?:,?\s*(?:at\s+)?{_CLOCK})?$", re.IGNORECASE),
    # "2023年5月8日 13:56", "2023年5月8日下午1点56分"
    re.compile(
        r"^(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]?\s*(?P<zh_half>上午|下午|晚上|早上)?"
        r"\s*(?:(?P<hour>\d{1,2})[:点時时](?P<minute>\d{1,2})?分?(?::(?P<second>\d{2}))?)?$"
    ),
    # "2023/05/08 13:56", "2023.05.08"
    re.compile(
        r"^(?P<year>\d{4})[/.](?P<month>\d{1,2})[/.](?P<day>\d{1,2})"
        r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
    ),
)


def parse_moment(text: str, default_tz: dt.tzinfo = UTC) -> dt.datetime | None:
    """A chat_time as an aware datetime, or None when it is not a moment this module reads.

    Read: ISO 8601 ("2023-05-08", "2023-05-08T13:56:00+08:00", "2023-05-08 13:56", "...Z"), LoCoMo's "1:56 pm
    on 8 May, 2023", "8 May 2023[, 1:56 pm]", "May 8, 2023", "2023/05/08 13:56" and "2023年5月8日 13:56". A
    moment without an offset is in `default_tz`; one with an offset keeps it."""
    value = text.strip()
    if not value or len(value) > 64:
        return None
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        moment = None
        for form in _MOMENT_FORMS:
            match = form.match(value)
            if match is not None:
                moment = _moment_from(match)
                break
    if moment is None:
        return None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=default_tz)


def _moment_from(match: re.Match[str]) -> dt.datetime | None:
    parts = match.groupdict()
    month_text = parts["month"]
    month = int(month_text) if month_text.isdigit() else MONTHS[month_text.lower().rstrip(".")]
    hour = int(parts["hour"] or 0)
    ampm = (parts.get("ampm") or "").lower().replace(".", "")
    half = parts.get("zh_half") or ""
    if (ampm == "pm" or half in ("下午", "晚上")) and hour < 12:
        hour += 12
    if ampm == "am" and hour == 12:
        hour = 0
    try:
        return dt.datetime(
            int(parts["year"]), month, int(parts["day"]), hour, int(parts["minute"] or 0), int(parts["second"] or 0)
        )
    except ValueError:
        return None


# -- spans from calendar units --------------------------------------------------------------------------------


def day_start(moment: dt.datetime) -> dt.datetime:
    """Midnight of the moment's day, in its timezone."""
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def day_span(moment: dt.datetime, offset_days: int = 0, length_days: int = 1) -> Span:
    """The day `offset_days` from the moment's (and `length_days` long)."""
    start = day_start(moment) + offset_days * DAY
    return Span(start, start + length_days * DAY)


def month_span(year: int, month: int, tz: dt.tzinfo | None, months: int = 1) -> Span:
    """Calendar months from (year, month); months past 12 roll into the next year."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    end_year, end_month = year + (month - 1 + months) // 12, (month - 1 + months) % 12 + 1
    return Span(dt.datetime(year, month, 1, tzinfo=tz), dt.datetime(end_year, end_month, 1, tzinfo=tz))


def year_span(year: int, tz: dt.tzinfo | None) -> Span:
    return Span(dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz))


def week_start(moment: dt.datetime) -> dt.datetime:
    """Midnight of the Monday of the moment's week."""
    return day_start(moment) - moment.weekday() * DAY


def shift_months(moment: dt.datetime, months: int) -> tuple[int, int]:
    """(year, month) `months` from the moment's month."""
    index = moment.year * 12 + moment.month - 1 + months
    return index // 12, index % 12 + 1


def relative_unit(reference: dt.datetime, unit: str, direction: int) -> Span:
    """ "last/this/next <unit>": direction -1, 0, 1. "last week" runs from the Monday of the week before to the
    reference day (both readings of the phrase); "next week" likewise from the next day to the Sunday after."""
    tz = reference.tzinfo
    if unit == "day":
        return day_span(reference, direction)
    if unit == "week":
        monday = week_start(reference)
        if direction < 0:
            return Span(monday - 7 * DAY, max(day_start(reference), monday - 7 * DAY + DAY))
        if direction > 0:
            return Span(day_start(reference) + DAY, monday + 14 * DAY)
        return Span(monday, monday + 7 * DAY)
    if unit == "weekend":
        saturday = week_start(reference) + 5 * DAY
        if direction < 0:
            saturday = saturday - 7 * DAY if day_start(reference) <= saturday + DAY else saturday
        elif direction > 0:
            saturday += 7 * DAY
        return Span(saturday, saturday + 2 * DAY)
    if unit == "month":
        return month_span(*shift_months(reference, direction), tz)
    if unit == "year":
        return year_span(reference.year + direction, tz)
    first, last = SEASONS[unit]  # a season: this year's, or the one before / after
    year = reference.year + direction
    if direction == 0 and unit == "winter" and reference.month < 3:
        year -= 1
    return month_span(year, first, tz, last - first)


def weekday_span(reference: dt.datetime, weekday: int, direction: int) -> Span:
    """A named weekday near the reference: the last one before it (direction -1, and for a bare "on Saturday",
    said of the past), or the next one after it (direction 1)."""
    today = reference.weekday()
    if direction > 0:
        ahead = (weekday - today) % 7 or 7
        return day_span(reference, ahead)
    back = (today - weekday) % 7 or 7
    return day_span(reference, -back)


def ago_span(reference: dt.datetime, amount: int, unit: str, direction: int = -1) -> Span:
    """ "N <units> ago" (direction -1) or "in N <units>" (1): the unit N away, as a span of that unit."""
    tz = reference.tzinfo
    if unit == "day":
        # "a few / several / 5 days ago" is rarely exact: a day either side from three days on
        spread = 1 if amount >= 3 else 0
        return day_span(reference, direction * amount - spread, 1 + 2 * spread)
    if unit == "week":
        start = day_start(reference) + direction * 7 * amount * DAY
        return Span(start - 3 * DAY, start + 4 * DAY)
    if unit == "month":
        return month_span(*shift_months(reference, direction * amount), tz)
    return year_span(reference.year + direction * amount, tz)


def nearest_month(reference: dt.datetime, month: int) -> Span:
    """A month named without a year: the one within six months of the reference."""
    year = reference.year
    if month - reference.month > 6:
        year -= 1
    elif reference.month - month > 6:
        year += 1
    return month_span(year, month, reference.tzinfo)


# -- finding expressions in text --------------------------------------------------------------------------------

_WEEKDAY_NAMES = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_NUMBER = "|".join(re.escape(word) for word in sorted(NUMBER_WORDS, key=len, reverse=True))
_UNITS = r"(?P<unit>day|week|month|year)s?"
_ABSOLUTE_DAY = (
    rf"(?:(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?P<month>{_MONTH_NAMES})\.?"
    rf"|(?P<month2>{_MONTH_NAMES})\.?\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b)"
    r"(?:,?\s*(?P<year>\d{4}))?"
)
_ZH_NUMBER = r"(?P<zh_amount>\d+|[零一二两三四五六七八九十]+|几|半)"

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
            rf"(?P<pmonth>{_MONTH_NAMES})\b\.?(?:,?\s*(?P<pyear>\d{{4}}))?",
            re.IGNORECASE,
        ),
        _part_of_month,
    ),
    (re.compile(rf"\b{_ABSOLUTE_DAY}", re.IGNORECASE), _absolute_day),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), _iso_day),
    (re.compile(rf"\b(?P<mmonth>{_MONTH_NAMES})\.?,?\s+(?P<myear>\d{{4}})\b", re.IGNORECASE), _month_year),
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
        re.compile(rf"\b(?:(?P<amount>\d+|{_NUMBER})\s+{_UNITS}\s+(?P<ago>ago)\b)", re.IGNORECASE),
        _ago,
    ),
    (
        re.compile(rf"\bin\s+(?P<amount>\d+|{_NUMBER})\s+{_UNITS}(?P<ago>)\b(?!\s+ago)", re.IGNORECASE),
        _ago,
    ),
    (re.compile(r"\bthe\s+other\s+day\b", re.IGNORECASE), _other_day),
    (
        re.compile(rf"\b(?:in|of|during|since|by|from)\s+(?P<bmonth>{_MONTH_NAMES})\b(?!\s*\d)", re.IGNORECASE),
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
            _ZH_NUMBER + r"(?:个)?(?P<zagounit>天|日|周|星期|礼拜|月|年)(?:多)?(?P<zside>以前|之前|前|以后|之后|后)"
        ),
        _zh_ago,
    ),
)


_CALENDAR: frozenset[Resolver] = frozenset({_absolute_day, _before_after, _part_of_month, _bare_month, _zh_full_date})
_YEAR = re.compile(r"\d{4}")


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
                floating = resolve in _CALENDAR and _YEAR.search(match.group(0)) is None
                found.append(Mention(begin, finish, match.group(0), span, floating))
                taken.append((begin, finish))
    return sorted(found, key=lambda mention: mention.begin)


def _resolved(resolve: Resolver, match: re.Match[str], reference: dt.datetime) -> Span | None:
    try:
        return resolve(match, reference)
    except (ValueError, OverflowError, KeyError):  # a date that does not exist ("31 June"), a year out of range
        return None


# How long something has lasted ("for three years", "for just under a year", "两年了", "三个多月了"): the text
# states a time, but not when the event began or will end (tense decides, and "for two weeks" may lie ahead).
_DURATION = re.compile(
    r"\bfor\s+(?:about\s+|around\s+|almost\s+|nearly\s+|over\s+|more\s+than\s+|less\s+than\s+|"
    r"just\s+(?:under|over)\s+|the\s+(?:past|last)\s+)?"
    rf"(?:\d+|{_NUMBER})\s+(?:day|week|month|year|decade)s?\b"
    rf"|\b(?:\d+|{_NUMBER})\s+(?:week|month|year|decade)s?\s+now\b"
    "|" + _ZH_NUMBER.replace("?P<zh_amount>", "?:") + r"(?:个)?(?:多)?(?:天|周|星期|礼拜|月|年)(?:多)?(?:了|之久)",
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
    dated = [m for m in found if not m.floating and _YEAR.search(m.phrase)]
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


def hull(spans: list[Span]) -> Span:
    """The smallest span holding all of them (at least one)."""
    return Span(min(span.start for span in spans), max(span.end for span in spans))


def _years_later(span: Span, years: int) -> Span | None:
    try:
        return Span(span.start.replace(year=span.start.year + years), span.end.replace(year=span.end.year + years))
    except ValueError:  # 29 February in a year without one
        return None


def iso_utc(moment: dt.datetime) -> str:
    """The moment in UTC as fixed-width ISO 8601 text ("2023-05-07T00:00:00Z"): the stored form of span ends,
    which compare as text in the order of time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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

"""Spans of time and the calendar arithmetic behind them: a moment parsed from a chat_time, a day, week, month,
season or year around a reference moment, "three weeks ago", the nearest May.

Everything here is pure and deterministic: no clock is read (a caller passes the reference), no locale is
consulted. A span is half-open, [start, end), timezone-aware, at day precision or coarser (a week, a month,
a year). Weeks start on Monday.
"""

from __future__ import annotations

import datetime as dt
import re
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


# -- moments: chat_time and the like ------------------------------------------------------------------------

_CLOCK = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
# The month names as one alternation of a regular expression, longest first.
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?(?P<month>{MONTH_NAMES})\.?,?\s*(?P<year>\d{{4}})"
_MONTH_DAY_YEAR = rf"(?P<month>{MONTH_NAMES})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s*(?P<year>\d{{4}})"
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


def hull(spans: list[Span]) -> Span:
    """The smallest span holding all of them (at least one)."""
    return Span(min(span.start for span in spans), max(span.end for span in spans))


def iso_utc(moment: dt.datetime) -> str:
    """The moment in UTC as fixed-width ISO 8601 text ("2023-05-07T00:00:00Z"): the stored form of span ends,
    which compare as text in the order of time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

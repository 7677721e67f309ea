"""Dates and times as spreadsheets and other CRMs write them, read for imports.

Accepted dates: ISO (2026-12-31, 2026/12/31), day.month.year (31.12.2026), numbers with / or -
(31/12/2026, 12/31/2026: read whichever way is possible; 03/04/2026 is refused as ambiguous rather
than guessed), and month names (31 Dec 2026, 31-Dec-2026, Dec 31, 2026, December 31st 2026).
A time may follow (14:30, 14:30:15, 2:30 PM, ISO's T14:30:00Z or +02:00). A time without a zone is
in the organization's time zone (TIME_ZONE).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from django.utils import timezone

HINT = "write it as 2026-12-31, 31/12/2026, 12/31/2026 or 31 Dec 2026"

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9

ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})", re.I)
MONTH_NAME_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I)
TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([ap])?\.?(?:m\.?)?\s*(z|utc|[+-]\d{2}:?\d{2})?", re.I)
SEPARATOR = re.compile(r"^(?:t|\s|,|at\b)+", re.I)


def parse_date(text: str) -> dt.date:
    """A date; a time after it (a spreadsheet's datetime cell) is allowed and dropped."""
    day, _time = _parts(text)
    return day


def parse_datetime(text: str, time_text: str = "") -> dt.datetime:
    """An aware datetime. ``time_text`` (a separate time column) gives the time when ``text`` has none;
    a date alone is midnight."""
    day, time = _parts(text)
    if time is None and time_text.strip():
        time = parse_time(time_text)
    value = dt.datetime.combine(day, time or dt.time())
    if value.tzinfo is None:
        value = timezone.make_aware(value, timezone.get_current_timezone())
    return value


def parse_time(text: str) -> dt.time:
    match = TIME.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time (write it as 14:30 or 2:30 PM).")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:  # AM/PM: 12 AM is midnight, 12 PM noon
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r} is not a time: {hour} AM/PM.")
        hour = hour % 12 + (12 if match[4].lower() == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{text!r} is not a time of day.")
    return dt.time(hour, minute, second, tzinfo=_zone(match[5]))


def _zone(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    if text.lower() in ("z", "utc"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _parts(text: str) -> tuple[dt.date, dt.time | None]:
    raw = text.strip()
    for pattern, build in ((ISO, _iso), (NUMERIC, _numeric), (DAY_MONTH_NAME, _dmy), (MONTH_NAME_DAY, _mdy)):
        match = pattern.match(raw)
        if match:
            day = build(match, text)
            rest = SEPARATOR.sub("", raw[match.end() :])
            if not rest:
                return day, None
            try:
                return day, parse_time(rest)
            except ValueError:
                raise ValueError(f"{text!r} is not a date, or a date and time ({HINT}; then 14:30).") from None
    raise ValueError(f"{text!r} is not a date ({HINT}).")


def _date(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date.") from None


def _iso(match, text: str) -> dt.date:
    return _date(int(match[1]), int(match[2]), int(match[3]), text)


def _numeric(match, text: str) -> dt.date:
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    if match[2] == ".":  # 31.12.2026: the dotted form is day first wherever it is used
        return _date(year, second, first, text)
    if first > 12 >= second:
        return _date(year, second, first, text)
    if second > 12 >= first or first == second:
        return _date(year, first, second, text)
    if first > 12 and second > 12:
        raise ValueError(f"{text!r} is not a real date.")
    raise ValueError(
        f"{text!r} is ambiguous (day/month or month/day?): write it as {year}-{second:02d}-{first:02d} "
        f"or {year}-{first:02d}-{second:02d}."
    )


def _month(name: str, text: str) -> int:
    month = MONTHS.get(name.lower())
    if month is None:
        raise ValueError(f"{text!r} is not a date ({HINT}).")
    return month


def _dmy(match, text: str) -> dt.date:
    return _date(int(match[3]), _month(match[2], text), int(match[1]), text)


def _mdy(match, text: str) -> dt.date:
    return _date(int(match[3]), _month(match[1], text), int(match[2]), text)

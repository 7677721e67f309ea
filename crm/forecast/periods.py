"""Forecast periods: months, fiscal quarters and fiscal years.

The fiscal year starts on the 1st of ``fiscal_year_start_month`` (ForecastSettings). A fiscal year is
named by the calendar year it ends in (a year starting in February 2026 is FY2027), as most finance
teams do; with a January start the fiscal year is the calendar year. Quarter 1 starts with the fiscal
year. Keys: ``2026-05`` (a month), ``FY2027-Q1`` (a quarter), ``FY2027`` (a year). A period covers
[start, end): ``end`` is the first day after it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from crm.core.errors import ValidationFailed

KINDS = ("month", "quarter", "year")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^FY(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^FY(\d{4})$")


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # exclusive
    key: str

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


def _add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def _fiscal_year_start(day: dt.date, fy_start: int) -> dt.date:
    year = day.year if day.month >= fy_start else day.year - 1
    return dt.date(year, fy_start, 1)


def _fy_name(fy_first_day: dt.date, fy_start: int) -> int:
    """The calendar year the fiscal year ends in."""
    return fy_first_day.year if fy_start == 1 else fy_first_day.year + 1


def containing(kind: str, day: dt.date, fy_start: int = 1) -> Period:
    """The period of ``kind`` that ``day`` falls in."""
    if kind == "month":
        start = day.replace(day=1)
        return Period("month", start, _add_months(start, 1), start.strftime("%Y-%m"))
    fy = _fiscal_year_start(day, fy_start)
    name = _fy_name(fy, fy_start)
    if kind == "year":
        return Period("year", fy, _add_months(fy, 12), f"FY{name}")
    if kind == "quarter":
        offset = (day.year - fy.year) * 12 + day.month - fy.month
        q = offset // 3
        start = _add_months(fy, 3 * q)
        return Period("quarter", start, _add_months(start, 3), f"FY{name}-Q{q + 1}")
    raise ValidationFailed({"period": f"A period is one of {', '.join(KINDS)}."})


def parse(key: str, fy_start: int = 1) -> Period:
    """The period a key names; a clear 422 for anything else."""
    key = (key or "").strip()
    if m := _MONTH.match(key):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12 and 1 <= year:
            return containing("month", dt.date(year, month, 1), fy_start)
    elif m := _QUARTER.match(key):
        first = _first_of_fy(int(m[1]), fy_start)
        if first is not None:
            return containing("quarter", _add_months(first, 3 * (int(m[2]) - 1)), fy_start)
    elif m := _YEAR.match(key):
        first = _first_of_fy(int(m[1]), fy_start)
        if first is not None:
            return containing("year", first, fy_start)
    raise ValidationFailed({"period": f'"{key}" is not a period: write 2026-05, FY2026-Q2 or FY2026.'})


def _first_of_fy(name: int, fy_start: int) -> dt.date | None:
    year = name if fy_start == 1 else name - 1
    return dt.date(year, fy_start, 1) if 1 <= year <= 9998 else None


def of_start(kind: str, start: dt.date, fy_start: int = 1) -> Period:
    """The period of ``kind`` beginning on ``start`` (422 when no period begins that day)."""
    period = containing(kind, start, fy_start)
    if period.start != start:
        raise ValidationFailed(
            {"period_start": f"No {kind} starts on {start.isoformat()}: {period.key} starts on {period.start}."}
        )
    return period


def shifted(period: Period, steps: int, fy_start: int = 1) -> Period:
    months = {"month": 1, "quarter": 3, "year": 12}[period.kind]
    return containing(period.kind, _add_months(period.start, months * steps), fy_start)

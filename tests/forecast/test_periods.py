"""Period boundaries with the fiscal year start (hand-checked dates)."""

import datetime as dt

import pytest

from crm.core.errors import ValidationFailed
from crm.forecast import periods

D = dt.date


def test_calendar_year_quarters():
    q = periods.containing("quarter", D(2026, 3, 31), 1)
    assert (q.key, q.start, q.end) == ("FY2026-Q1", D(2026, 1, 1), D(2026, 4, 1))
    assert periods.containing("quarter", D(2026, 4, 1), 1).key == "FY2026-Q2"
    assert periods.containing("year", D(2026, 12, 31), 1).key == "FY2026"


def test_fiscal_year_starting_in_february_is_named_by_the_year_it_ends_in():
    assert periods.containing("year", D(2026, 1, 31), 2).key == "FY2026"  # FY Feb 2025 – Jan 2026
    y = periods.containing("year", D(2026, 2, 1), 2)
    assert (y.key, y.start, y.end) == ("FY2027", D(2026, 2, 1), D(2027, 2, 1))
    q4 = periods.containing("quarter", D(2027, 1, 31), 2)
    assert (q4.key, q4.start, q4.end) == ("FY2027-Q4", D(2026, 11, 1), D(2027, 2, 1))
    q1 = periods.containing("quarter", D(2026, 4, 30), 2)
    assert (q1.key, q1.start, q1.end) == ("FY2027-Q1", D(2026, 2, 1), D(2026, 5, 1))
    assert periods.containing("quarter", D(2026, 5, 1), 2).key == "FY2027-Q2"


def test_fiscal_year_starting_in_october():
    q = periods.parse("FY2027-Q1", 10)
    assert (q.start, q.end) == (D(2026, 10, 1), D(2027, 1, 1))
    assert periods.parse("FY2027", 10).start == D(2026, 10, 1)
    assert periods.containing("quarter", D(2026, 9, 30), 10).key == "FY2026-Q4"


def test_months_and_parse_round_trip():
    m = periods.parse("2026-02", 7)
    assert (m.start, m.end, m.last_day) == (D(2026, 2, 1), D(2026, 3, 1), D(2026, 2, 28))
    for start in (1, 2, 7, 12):
        for key in ("FY2026", "FY2026-Q3", "2026-12"):
            assert periods.parse(key, start).key == key
    assert periods.shifted(periods.parse("FY2026-Q4", 1), 1).key == "FY2027-Q1"
    assert periods.shifted(periods.parse("2026-01", 1), -1).key == "2025-12"


@pytest.mark.parametrize("key", ["", "2026-13", "2026-Q1", "FY2026-Q5", "FY0000", "x"])
def test_bad_keys_are_clear_errors(key):
    with pytest.raises(ValidationFailed) as exc:
        periods.parse(key, 1)
    assert "period" in exc.value.fields


def test_of_start_refuses_a_day_no_period_starts_on():
    assert periods.of_start("quarter", D(2026, 2, 1), 2).key == "FY2027-Q1"
    with pytest.raises(ValidationFailed):
        periods.of_start("quarter", D(2026, 1, 1), 2)

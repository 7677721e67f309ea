"""crm/core/decimals.py: the one reader of typed decimals (quote and order lines)."""

import decimal

import pytest

from crm.core.decimals import read_decimal

D = decimal.Decimal
LIMIT = D(10) ** 6


@pytest.mark.parametrize(
    ("value", "expected"), [("12.5", D("12.5")), (7, D(7)), (" -3.25 ", D("-3.25")), ("", None), (None, None)]
)
def test_good_and_empty_values(value, expected):
    errors = {}
    assert read_decimal(value, "x", errors, places=2, limit=LIMIT) == expected
    assert errors == {}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (1.5, "not a float"),
        (True, "not a float"),
        ("abc", "Enter a number, not 'abc'"),
        ("NaN", "below"),
        ("Infinity", "below"),
        ("1000000", "below 1,000,000"),
        ("1.005", "At most 2 decimal places"),
    ],
)
def test_bad_values_are_named_with_their_path_and_never_rounded(value, says):
    errors = {}
    assert read_decimal(value, "lines.3.unit_price", errors, places=2, limit=LIMIT) is None
    assert says in errors["lines.3.unit_price"]

"""Money on a quote: the currency's minor units, separators, symbol or code, a real minus sign."""

from decimal import Decimal as D

import pytest

from crm.quotes.formatting import money, number


@pytest.mark.parametrize(
    ("amount", "currency", "minor", "text"),
    [
        ("1234.5", "EUR", 2, "€1,234.50"),
        ("-10.005", "EUR", 2, "\u2212€10.01"),
        ("1234", "JPY", 0, "¥1,234"),
        ("999.5", "JPY", 0, "¥1,000"),
        ("1234.5", "KWD", 3, "1,234.500\u00a0KWD"),
        ("0", "usd", 2, "$0.00"),
    ],
)
def test_money(amount, currency, minor, text):
    assert money(D(amount), currency, minor) == text


def test_number_has_no_trailing_zeros_or_exponent():
    assert [number(D(x)) for x in ("2.000", "1.50", "20", "2E+1", "-1")] == ["2", "1.5", "20", "20", "\u22121"]

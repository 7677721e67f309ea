"""Money and numbers as a quote shows them: the currency's minor units, thousands separators, its
symbol where one is unambiguous (else the ISO code after the amount). Decimal in, text out."""

from __future__ import annotations

from decimal import Decimal

from crm.quotes.totals import rounded

# Symbols only for currencies whose symbol nobody confuses; every other code is written out.
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF\u00a0", "INR": "₹"}
MINUS = "\u2212"


def money(amount: Decimal, currency: str, minor_units: int) -> str:
    """``money(Decimal("-1234.5"), "EUR", 2)`` → ``−€1,234.50``; ``(…, "KWD", 3)`` → ``1,234.500 KWD``."""
    value = rounded(Decimal(amount), minor_units)
    text = f"{abs(value):,.{minor_units}f}"
    sign = MINUS if value < 0 else ""
    symbol = SYMBOLS.get(currency.upper())
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text}\u00a0{currency.upper()}"


def number(value: Decimal) -> str:
    """A quantity or a rate without trailing zeros: 2, 1.5, 19, 8.5 (never exponent notation)."""
    value = Decimal(value)
    text = f"{value:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", MINUS)

"""Reading the values an invoice or a payment is written with: amounts (Decimal, never float, to the
currency's minor unit, crm/core/decimals.py), dates (a date or ISO text), currencies (enabled ones)."""

from __future__ import annotations

import datetime as dt
import decimal

from django.core.exceptions import ValidationError as DjangoValidationError

from crm.core.decimals import read_decimal
from crm.money.currencies import minor_units, require_currency

LIMIT = decimal.Decimal(10) ** 16  # what a DecimalField(18, 2) holds
NEGATIVE_HINT = {  # a negative amount without the flag that allows it
    False: "Enter an amount of zero or more (a negative amount is a credit note: kind credit_note).",
    True: "Enter an amount above zero (money given back is a refund: is_refund, with a negative amount).",
}


def amount(
    value, path: str, errors: dict, *, currency: str, positive: bool = False, negative: str = ""
) -> decimal.Decimal | None:
    """A money amount of ``currency``: no finer than its minor unit (JPY: whole yen), never negative
    (``positive``: above zero). ``negative``: what the amount is (a credit note, a refund): then below
    zero, and only then. None when empty or bad (``errors[path]`` says why)."""
    if value is None or value == "":
        errors[path] = "Enter an amount."
        return None
    places = min(2, minor_units(currency)) if currency else 2
    number = read_decimal(value, path, errors, places=places, limit=LIMIT)
    if number is None:
        return None
    if negative:
        if number >= 0:
            errors[path] = f"A {negative} has an amount below zero."
            return None
    elif number < 0:
        errors[path] = NEGATIVE_HINT[positive]
        return None
    elif positive and number == 0:
        errors[path] = "Enter an amount above zero."
        return None
    return number.quantize(decimal.Decimal("0.01"))


def date(value, path: str, errors: dict) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[path] = f"{str(value)[:40]!r} is not a date (YYYY-MM-DD)."
    return None


def currency(value, path: str, errors: dict) -> str | None:
    code = value.strip().upper() if isinstance(value, str) else ""
    try:
        require_currency(code or None)
    except DjangoValidationError as exc:
        errors[path] = f"{value!r}: {exc.messages[0]}"
        return None
    return code

"""Reading a decimal typed or sent by a user (quantities, prices, rates) with a field-path error.

Floats are refused (money and quantities are never binary floating point), as are values that are not
finite, too large for their columns, or finer than the places the column keeps (never rounded silently).
"""

from __future__ import annotations

import decimal


def read_decimal(value, path: str, errors: dict, *, places: int, limit: decimal.Decimal) -> decimal.Decimal | None:
    """``value`` as a Decimal, or None: when it is empty (no error) or bad (``errors[path]`` says why)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | float):
        errors[path] = "Enter a number as a decimal string or integer, not a float."
        return None
    try:
        number = decimal.Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        errors[path] = f"Enter a number, not {str(value)[:40]!r}."
        return None
    if not number.is_finite() or abs(number) >= limit:
        errors[path] = f"Enter a number below {limit:,}."
        return None
    step = decimal.Decimal(1).scaleb(-places)
    if number != number.quantize(step, rounding=decimal.ROUND_DOWN):
        errors[path] = f"At most {places} decimal places."
        return None
    return number

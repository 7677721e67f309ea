"""What other apps ask about currencies: the organization's one, whether a code may be used, and how
an amount rounds in it.

- ``organization_currency() -> str``: settings.DEFAULT_CURRENCY, upper case. Every exchange rate is
  against it (crm.money.rates); changing the setting later means entering the rates again.
- ``require_currency(code) -> None``: raises django.core.exceptions.ValidationError naming the code when
  it is not an enabled currency (the organization's one is always enabled).
- ``minor_units(code) -> int``: digits after the decimal point (JPY 0, EUR 2, KWD 3); 2 for a code
  the table lacks.
- ``quantize(amount: Decimal, code) -> Decimal``: rounded half-up to the currency's minor unit
  (2.345 EUR → 2.35, 2.5 JPY → 3). Never floats: a float argument is refused with TypeError.
- ``rounder(units) -> callable``: the same rounding as ``quantize`` for a Decimal, for loops that round
  thousands of amounts (commission statements): no query, no checks, the exponent made once.

The table is small and read often (every deal write, every converted total): rows are read per call
(one indexed query), no process cache, so an admin's change is seen at once by every process.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError

from crm.money.models import Currency

DEFAULT_MINOR_UNITS = 2


def organization_currency() -> str:
    return settings.DEFAULT_CURRENCY.upper()


def enabled_codes() -> list[str]:
    codes = set(Currency.objects.filter(enabled=True).values_list("code", flat=True))
    return sorted(codes | {organization_currency()})


def is_enabled(code: str | None) -> bool:
    if not isinstance(code, str) or not code:
        return False
    code = code.upper()
    return code == organization_currency() or Currency.objects.filter(code=code, enabled=True).exists()


def require_currency(code) -> None:
    if not is_enabled(code):
        raise ValidationError(
            f"{code} is not an enabled currency; an admin can enable it under Settings → Currencies.",
            code="currency_not_enabled",
        )


def minor_units(code: str) -> int:
    found = Currency.objects.filter(code=str(code).upper()).values_list("minor_units", flat=True).first()
    return DEFAULT_MINOR_UNITS if found is None else found


@lru_cache(maxsize=16)  # a handful of unit counts; made per call it was ~4 % of a commission statement run
def exponent(units: int) -> Decimal:
    return Decimal(1).scaleb(-units)


def quantize(amount: Decimal, code: str, *, units: int | None = None) -> Decimal:
    """``units``: the minor units when the caller already has them (saves the query)."""
    if isinstance(amount, float):
        raise TypeError("Money is Decimal, never float.")
    places = minor_units(code) if units is None else units
    return Decimal(amount).quantize(exponent(places), rounding=ROUND_HALF_UP)


def rounder(units: int):
    """``quantize(amount, code, units=units)`` for Decimal amounts (no float check, no conversion)."""

    exp, to = exponent(units), Decimal.quantize

    def rounded(amount: Decimal) -> Decimal:
        return to(amount, exp, ROUND_HALF_UP)

    return rounded

"""Converting amounts between currencies at a date.

- ``convert(amount: Decimal, from_code, to_code, on: date) -> Converted`` (frozen dataclass: ``amount``
  quantized half-up to ``to_code``'s minor unit, ``rate`` (Decimal: to_code units per from_code unit),
  ``rate_date``, ``from_code``, ``to_code``).
- The rate used is the latest one dated on or before ``on`` (a rate entered for the 1st holds until the
  next one). No rate → ``MissingRate`` (HTTP 422, "No exchange rate for EUR on or before 2026-05-01"),
  never a silent 1.0.
- Rates are stored against the organization's currency only (1 EUR = ``rate`` USD). Between two other
  currencies the amount goes through it: rate = rate(from) / rate(to); ``rate_date`` is then the older
  of the two rates' dates. A currency to itself is rate 1 dated ``on``.
- ``RateTable``: the rates of a few currencies read in one query, for totals that convert many
  (currency, date) groups (crm.sales.selectors).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from crm.core.errors import ServiceError
from crm.money.currencies import minor_units, organization_currency, quantize
from crm.money.models import ExchangeRate

ONE = Decimal(1)


class MissingRate(ServiceError):
    status = 422
    code = "missing_rate"

    def __init__(self, code: str, on: dt.date):
        message = f"No exchange rate for {code} on or before {on.isoformat()}"
        super().__init__(message, fields={"currency": message})
        self.currency, self.on = code, on


@dataclass(frozen=True)
class Converted:
    amount: Decimal
    rate: Decimal
    rate_date: dt.date
    from_code: str
    to_code: str


def rate_on(code: str, on: dt.date) -> tuple[Decimal, dt.date]:
    """(rate to the organization's currency, its date) for ``code`` on ``on``; MissingRate when none."""
    code = code.upper()
    if code == organization_currency():
        return ONE, on
    found = ExchangeRate.objects.filter(currency_id=code, date__lte=on).order_by("-date").values_list("rate", "date")
    row = found.first()
    if row is None:
        raise MissingRate(code, on)
    return row


def convert(amount: Decimal, from_code: str, to_code: str, on: dt.date) -> Converted:
    if isinstance(amount, float):
        raise TypeError("Money is Decimal, never float.")
    from_code, to_code = from_code.upper(), to_code.upper()
    if from_code == to_code:
        rate, rate_date = ONE, on
    else:
        from_rate, from_date = rate_on(from_code, on)
        to_rate, to_date = rate_on(to_code, on)
        rate, rate_date = from_rate / to_rate, min(from_date, to_date)
    return Converted(quantize(Decimal(amount) * rate, to_code), rate, rate_date, from_code, to_code)


class RateTable:
    """The rates of ``codes`` up to ``until``, read once; ``lookup`` finds the one in force on a date."""

    def __init__(self, codes, until: dt.date | None = None):
        self.org = organization_currency()
        self.org_units = minor_units(self.org)  # read once: every converted total rounds to it
        wanted = {c.upper() for c in codes} - {self.org}
        rows = ExchangeRate.objects.filter(currency_id__in=wanted)
        if until is not None:
            rows = rows.filter(date__lte=until)
        self._dates: dict[str, list[dt.date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        for code, date, rate in rows.order_by("currency_id", "date").values_list("currency_id", "date", "rate"):
            self._dates.setdefault(code, []).append(date)
            self._rates.setdefault(code, []).append(rate)

    def lookup(self, code: str, on: dt.date) -> tuple[Decimal, dt.date] | None:
        """(rate, rate date) of ``code`` → the organization's currency on ``on``, or None."""
        if code == self.org:
            return ONE, on
        dates = self._dates.get(code, [])
        i = bisect.bisect_right(dates, on)
        return (self._rates[code][i - 1], dates[i - 1]) if i else None

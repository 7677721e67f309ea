"""The demo's currencies: EUR and GBP enabled beside the organization's one, with a rate on the 1st of
each month for the past year and the next months, set through crm.money.services, so the board shows
converted totals. The rates are plausible, not historical."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crm.money import services
from crm.money.currencies import organization_currency

TRADED = ("EUR", "GBP", "USD")
IN_USD = {"USD": Decimal("1"), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
# A small monthly wiggle (per mille), the same every run.
WIGGLE = (0, 4, -3, 7, 2, -5, 1, 6, -2, 3, -6, 5, 0, -1, 2, 4, -4, 3)


def months(now: dt.date, back: int = 13, ahead: int = 4) -> list[dt.date]:
    index = now.year * 12 + now.month - 1
    return [dt.date(i // 12, i % 12 + 1, 1) for i in range(index - back, index + ahead + 1)]


def ensure_currencies(actor, now: dt.datetime) -> int:
    """Enable the traded currencies and set their monthly rates; the number of rates set."""
    org = organization_currency()
    codes = [c for c in TRADED if c != org and (c != "USD" or org in IN_USD)]
    for code in codes:
        services.set_enabled(code, True, actor=actor)
    if org not in IN_USD:
        return 0  # no demo rates against another currency: the board names the missing ones
    items = []
    for i, first in enumerate(months(now.date())):
        wiggle = Decimal(1) + Decimal(WIGGLE[i % len(WIGGLE)]) / 1000
        for code in codes:
            rate = (IN_USD[code] / IN_USD[org] * wiggle).quantize(Decimal("0.000001"))
            items.append({"currency": code, "date": first, "rate": rate})
    return len(services.rates_set(actor=actor, items=items))

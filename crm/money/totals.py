"""Totals that mix currencies, in the organization's currency.

Callers group in SQL by (currency, date) and hand the few groups here: ``converted(groups, table)``
converts each group's sums at the rate in force on its date (crm.money.rates: the latest on or before)
and adds them. Each group is converted at full precision; the sum is rounded once, half-up to the
organization currency's minor unit. A group without a rate is never counted at 1.0 nor dropped
quietly: the total's ``amount`` and ``weighted_amount`` are then None and ``missing_rates`` names each
missing (currency, date), e.g. "EUR on 2026-05-01". ``rates`` lists the distinct rates applied
(currency, rate, rate_date), the organization's own currency left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from crm.money.currencies import organization_currency, quantize
from crm.money.rates import RateTable


@dataclass(frozen=True)
class Group:
    """Sums of one currency on one date (None: no date; converted at today's rates)."""

    currency: str
    on: dt.date | None
    amount: Decimal
    weighted: Decimal


def table_for(groups: Iterable[Group]) -> RateTable:
    groups = list(groups)
    dates = [g.on for g in groups if g.on is not None] + [timezone.localdate()]
    return RateTable({g.currency for g in groups}, until=max(dates))


def converted(groups: Iterable[Group], table: RateTable) -> dict:
    org = organization_currency()
    amount = weighted = Decimal(0)
    used: set[tuple[str, Decimal, dt.date]] = set()
    missing: set[tuple[str, dt.date]] = set()
    today = timezone.localdate()
    for group in groups:
        on = group.on or today
        found = table.lookup(group.currency.upper(), on)
        if found is None:
            missing.add((group.currency, on))
            continue
        rate, rate_date = found
        if group.currency != org:
            used.add((group.currency, rate, rate_date))
        amount += Decimal(group.amount) * rate
        weighted += Decimal(group.weighted) * rate
    units = table.org_units
    return {
        "currency": org,
        "amount": None if missing else quantize(amount, org, units=units),
        "weighted_amount": None if missing else quantize(weighted, org, units=units),
        "rates": [{"currency": c, "rate": r, "rate_date": d} for c, r, d in sorted(used, key=lambda u: (u[0], u[2]))],
        "missing_rates": [f"{c} on {d.isoformat()}" for c, d in sorted(missing)],
    }


def withheld(org: str | None = None) -> dict:
    """A converted total the reader may not see (hidden amount or close date)."""
    return {
        "currency": org or organization_currency(),
        "amount": None,
        "weighted_amount": None,
        "rates": [],
        "missing_rates": [],
    }

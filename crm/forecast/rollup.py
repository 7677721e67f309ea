"""Adding the methods' per-deal values into figures: per rep, team, pipeline and in total, in the
organization's currency and per currency.

Each deal's value is converted at the rate of its date (an open deal's expected close date, a closed
deal's close date; crm.money.rates: the latest rate on or before it), at full precision; a figure is
rounded once, to the organization currency's minor unit. A missing rate is never taken as 1.0: the
forecast refuses with ``MissingRate`` ("No exchange rate for EUR on or before 2026-05-01").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from crm.forecast import methods
from crm.money.currencies import quantize
from crm.money.rates import MissingRate, RateTable

FIGURES = (*methods.CATEGORY_COLUMNS, "commit_total", "best_case_total", "stage", "history", "age")


@dataclass
class Computed:
    """The per-deal values of every figure, and each deal's rate to the organization's currency."""

    deals: dict[int, methods.DealFact]
    values: dict[str, dict[int, Decimal]]
    rates: dict[int, Decimal]
    org: str
    units: int


def compute(
    deals: list[methods.DealFact],
    history_closed: Iterable[methods.DealFact],
    moves: list[methods.Move],
    *,
    today: dt.date,
    table: RateTable,
    min_sample: int = methods.MIN_SAMPLE,
) -> Computed:
    values = dict(methods.by_category(deals))
    values["stage"] = methods.weighted_by_stage(deals)
    values["history"] = methods.weighted_by_history(
        deals, methods.win_rates(history_closed, moves, min_sample=min_sample)
    )
    values["age"] = methods.age_adjusted(deals, methods.typical_days(moves, min_sample=min_sample), today=today)
    rates, missing = {}, []
    for d in deals:
        on = d.close_date or today
        found = table.lookup(d.currency.upper(), on)
        if found is None:
            missing.append((d.currency, on))
        else:
            rates[d.id] = found[0]
    if missing:
        raise MissingRate(*min(missing))
    return Computed({d.id: d for d in deals}, values, rates, table.org, table.org_units)


def figures(c: Computed, deal_ids: Iterable[int]) -> dict:
    """The figures of some deals in the organization's currency."""
    ids = list(deal_ids)
    out = {"count": len(ids)}
    for name in FIGURES:
        column = c.values[name]
        total = sum((column[i] * c.rates[i] for i in ids if i in column), Decimal(0))
        out[name] = quantize(total, c.org, units=c.units)
    return out


def per_currency(c: Computed, deal_ids: Iterable[int]) -> list[dict]:
    """The same figures in each deal currency, never added across currencies."""
    by_currency: dict[str, list[int]] = {}
    for i in deal_ids:
        by_currency.setdefault(c.deals[i].currency, []).append(i)
    out = []
    for code, ids in sorted(by_currency.items()):
        row = {"currency": code, "count": len(ids)}
        for name in FIGURES:
            column = c.values[name]
            row[name] = quantize(sum((column[i] for i in ids if i in column), Decimal(0)), code)
        out.append(row)
    return out

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

FIGURES = (*methods.CATEGORY_COLUMNS, "commit_total", "best_case_total", "stage", "history", "age", "predicted")


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
    *,
    rates: dict[int, Decimal],
    typical: dict[int, Decimal],
    today: dt.date,
    table: RateTable,
    known_by: dt.date | None = None,
    predicted: dict[int, float] | None = None,
) -> Computed:
    """The per-deal values of every figure. ``rates`` (stage → historical win rate) and ``typical``
    (stage → usual days in it) are what the history methods learnt (crm/forecast/history.py).
    ``known_by``: convert at the latest rate dated on or before min(the deal's date, ``known_by``),
    so a backtest never uses a rate entered after its as-of day."""
    values = dict(methods.by_category(deals))
    values["stage"] = methods.weighted_by_stage(deals)
    values["history"] = methods.weighted_by_history(deals, rates)
    values["age"] = methods.age_adjusted(deals, typical, today=today)
    # The model's scores are today's: a backtest (known_by) passes none, so its "predicted" is the stage value.
    values["predicted"] = methods.weighted_by_prediction(deals, predicted or {})
    conversion, missing = {}, []
    for d in deals:
        on = d.close_date or today
        if known_by is not None:
            on = min(on, known_by)
        found = table.lookup(d.currency.upper(), on)
        if found is None:
            missing.append((d.currency, on))
        else:
            conversion[d.id] = found[0]
    if missing:
        raise MissingRate(*min(missing))
    return Computed({d.id: d for d in deals}, values, conversion, table.org, table.org_units)


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

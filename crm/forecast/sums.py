"""The forecast's figures from groups of alike deals, summed by the database, instead of one value per deal.

Every method's value of a deal depends on a few of its facts only: status, stage, probability,
category, currency, the day its rate is taken (close date), and, for the age method, the day it
entered its stage when it has been there longer than usual. Deals alike in those facts and in the
rollup's dimensions (owner, pipeline) form a group: the database returns one row per group with the
deal count and the sum of amounts in hundredths (integers: exact on SQLite too, where amounts are
stored as floating point). A quarter of 10,000 deals is a few thousand rows of small integers, with
no per-deal datetime parsing, Decimal or dataclass; each group's values are then what
``methods.py`` gives a deal of that amount, so the figures equal the per-deal ones (tests/forecast
check them against the pure functions).

``groups_from_rows`` builds the same groups from deal rows in Python, for the backtest, whose deals are
rolled back one by one from the change log (crm/forecast/asof.py).

The ``predicted`` figure weighs each open deal by its own predicted win probability (crm/predict), so it
cannot come from a group's facts: each group also carries the sum of cents × probability in ten-thousandths
(an integer, exact like the cents) — the model's probability for a deal a model in use scored, the stage
probability for the others. The backtest has no past scores: there it equals ``stage``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import connection

from crm.forecast import methods
from crm.forecast.history import local_date_sql
from crm.forecast.models import DealCategory, StageCategory
from crm.money.currencies import organization_currency, quantize
from crm.money.models import ExchangeRate
from crm.money.rates import MissingRate, RateTable
from crm.records.models import Deal, DealStatus

FIGURES = (*methods.CATEGORY_COLUMNS, "commit_total", "best_case_total", "stage", "history", "age", "predicted")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Group:
    owner_id: int | None
    pipeline_id: int
    currency: str
    status: str
    stage_id: int | None  # open deals only: the history and age methods read it
    category: str  # open deals: pipeline, best_case, commit or omitted; closed: "closed" or "omitted"
    probability: int  # open deals only
    rate_on: dt.date | None  # the day its rate is taken on; None in the organization's currency (1)
    entered_day: dt.date | None  # open deals in their stage longer than usual (the age method) only
    count: int
    cents: int  # the sum of the amounts, in hundredths
    weighted: int  # open deals: the sum of cents × win probability in ten-thousandths (the predicted figure)


def over_typical(stage_id, entered: dt.date, typical: dict[int, Decimal], today: dt.date) -> bool:
    """Whether the age method discounts a deal: longer in its stage than the usual stay."""
    usual = typical.get(stage_id)
    return usual is not None and (today - entered).days > usual


def _key(owner, pipeline, currency, status, stage, category, probability, rate_on, entered):
    if status != DealStatus.OPEN:
        return (owner, pipeline, currency, status, None, category, 0, rate_on, None)
    return (owner, pipeline, currency, status, stage, category, probability, rate_on, entered)


def groups_from_rows(facts: Iterable[methods.DealFact], typical: dict[int, Decimal], today: dt.date) -> list[Group]:
    """Deal facts (selectors.deal_facts) added into groups."""
    org = organization_currency()
    sums: dict[tuple, list[int]] = {}
    for d in facts:
        entered = None
        if d.status == DealStatus.OPEN and over_typical(d.stage_id, d.stage_entered, typical, today):
            entered = d.stage_entered
        rate_on = None if d.currency.upper() == org else d.close_date
        key = _key(
            d.owner_id, d.pipeline_id, d.currency, d.status, d.stage_id, d.category, d.probability, rate_on, entered
        )
        acc = sums.setdefault(key, [0, 0, 0])
        acc[0] += 1
        cents = int(d.amount * 100)
        acc[1] += cents
        if d.status == DealStatus.OPEN:
            acc[2] += cents * int(d.probability) * 100  # no past scores: the stage probability
    return [Group(*key, count, cents, weighted) for key, (count, cents, weighted) in sums.items()]


def groups_in_sql(deals, typical: dict[int, Decimal], today: dt.date) -> list[Group]:
    """The groups of the deals of a queryset (already narrowed to a period), summed by the database."""
    ids_sql, ids_params = deals.order_by().values("pk").query.sql_with_params()
    closed_day, closed_params = local_date_sql("d.closed_at")
    entered_day, entered_params = local_date_sql("d.stage_changed_at")
    # The age method's cut-off per stage: a deal entered before it has been in the stage longer than
    # usual (days > typical ⟺ days > floor(typical), days being whole).
    cutoffs = [(stage, today - dt.timedelta(days=int(usual))) for stage, usual in typical.items()]
    if cutoffs:
        whens = " ".join("WHEN %s THEN %s" for _ in cutoffs)
        cutoff = f"(CASE d.stage_id {whens} END)"
        entered = f"CASE WHEN d.status = 'open' AND {entered_day} < {cutoff} THEN {entered_day} END"
        entered_params = (*entered_params, *[v for pair in cutoffs for v in pair], *entered_params)
    else:
        entered, entered_params = "NULL", ()
    # The rate of a deal in another currency is the latest dated on or before its close date: deals
    # whose dates share that rate share a group (the close date itself when there is none: MissingRate).
    close = f"CASE WHEN d.status = 'open' THEN d.expected_close_date ELSE {closed_day} END"
    rate_on = f"""CASE WHEN UPPER(d.currency) = %s THEN NULL ELSE COALESCE(
        (SELECT MAX(r.date) FROM {ExchangeRate._meta.db_table} r
         WHERE r.currency_id = UPPER(d.currency) AND r.date <= {close}), {close}) END"""
    rate_params = (organization_currency(), *closed_params, *closed_params)
    integer = "INTEGER" if connection.vendor == "sqlite" else "BIGINT"
    cents = f"CAST(ROUND(COALESCE(d.amount, 0) * 100) AS {integer})"
    # The probability of a deal a model in use scored (crm/predict), else its stage's, in ten-thousandths.
    chance = f"COALESCE(CAST(ROUND(s.probability * 10000) AS {integer}), d.probability * 100)"
    scores = apps.get_model("predict", "DealScore")._meta.db_table
    sql = f"""
        SELECT d.owner_id, d.pipeline_id, d.currency, d.status,
               CASE WHEN d.status = 'open' THEN d.stage_id END,
               CASE WHEN d.status = 'open' THEN COALESCE(dc.category, sc.category, 'pipeline')
                    WHEN d.status = 'won' THEN 'closed' ELSE 'omitted' END,
               CASE WHEN d.status = 'open' THEN d.probability ELSE 0 END,
               {rate_on},
               {entered},
               COUNT(*), SUM({cents}),
               SUM(CASE WHEN d.status = 'open' THEN {cents} * {chance} ELSE 0 END)
        FROM {Deal._meta.db_table} d
        LEFT JOIN {DealCategory._meta.db_table} dc ON dc.deal_id = d.id
        LEFT JOIN {StageCategory._meta.db_table} sc ON sc.stage_id = d.stage_id
        LEFT JOIN {scores} s ON s.deal_id = d.id AND s.model_id IS NOT NULL
        WHERE d.id IN ({ids_sql})
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"""
    params = [*rate_params, *entered_params, *ids_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Group(*head, _day(on), _day(entered), count, int(total), int(weighted))
        for *head, on, entered, count, total, weighted in rows
    ]


def _day(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _values(g: Group, rates: dict[int, Decimal], typical: dict[int, Decimal], today: dt.date) -> dict[str, Decimal]:
    """Each figure's value of a group in its currency: what methods.py gives its deals, added."""
    amount = Decimal(g.cents) / 100
    if g.status != DealStatus.OPEN:
        won = amount if g.status == DealStatus.WON else ZERO
        out = dict.fromkeys(FIGURES, ZERO)
        out.update(stage=won, history=won, age=won, predicted=won)
        if g.status == DealStatus.WON:
            out.update(closed=won, commit_total=won, best_case_total=won)
        return out
    out = dict.fromkeys(FIGURES, ZERO)
    weighted = amount * g.probability / methods.HUNDRED
    out["stage"] = weighted
    out["predicted"] = Decimal(g.weighted) / 1_000_000
    out["history"] = amount * rates[g.stage_id] if g.stage_id in rates else weighted
    if g.entered_day is None:
        out["age"] = weighted
    else:
        out["age"] = weighted * methods.age_factor((today - g.entered_day).days, typical.get(g.stage_id))
    out[g.category] = amount
    if g.category == "commit":
        out["commit_total"] = amount
    if g.category in ("commit", "best_case"):
        out["best_case_total"] = amount
    return out


class Rollup:
    """The groups of a period with each one's values, converted to the organization's currency at the
    rate of its date (an open deal's expected close date, a closed one's close date; with ``known_by``,
    the latest rate dated on or before min(that date, ``known_by``): a backtest never uses a rate
    entered later). A missing rate is never taken as 1.0: ``MissingRate``."""

    def __init__(self, groups, *, rates, typical, today: dt.date, table: RateTable, known_by=None):
        self.groups = groups
        self.org, self.units = table.org, table.org_units
        self.values = [_values(g, rates, typical, today) for g in groups]
        conversion, missing = [], []
        for g in groups:
            on = g.rate_on or today
            if known_by is not None:
                on = min(on, known_by)
            found = table.lookup(g.currency.upper(), on)
            if found is None:
                missing.append((g.currency, on))
            conversion.append(found[0] if found else None)
        if missing:
            raise MissingRate(*min(missing))
        # Converted once per group (not per figure asked): [count, every figure in FIGURES order].
        self.converted = [
            [g.count, *(values[n] * rate if values[n] else ZERO for n in FIGURES)]
            for g, values, rate in zip(groups, self.values, conversion, strict=True)
        ]

    def totals_by(self, key: Callable[[Group], object]) -> dict[object, list]:
        """Unrounded totals (``[count, *FIGURES]``) per value of ``key`` (an owner, a pipeline)."""
        out: dict[object, list] = {}
        for g, row in zip(self.groups, self.converted, strict=True):
            k = key(g)
            acc = out.get(k)
            if acc is None:
                out[k] = list(row)
            else:
                for i, v in enumerate(row):
                    acc[i] += v
        return out

    def shaped(self, *totals: list) -> dict:
        """The figures of some totals (of ``totals_by``) added, rounded once to the organization's
        currency's minor unit."""
        added = [0, *([ZERO] * len(FIGURES))]
        for row in totals:
            for i, v in enumerate(row):
                added[i] += v
        out = {"count": added[0]}
        for name, value in zip(FIGURES, added[1:], strict=True):
            out[name] = quantize(value, self.org, units=self.units)
        return out

    def figures(self) -> dict:
        """The figures of every group."""
        return self.shaped(*self.converted)

    def per_currency(self) -> list[dict]:
        """The same figures in each deal currency, never added across currencies."""
        by_currency: dict[str, list] = {}
        for g, values in zip(self.groups, self.values, strict=True):
            row = by_currency.setdefault(g.currency, [0, *([ZERO] * len(FIGURES))])
            row[0] += g.count
            for i, name in enumerate(FIGURES, start=1):
                row[i] += values[name]
        return [
            {"currency": code, "count": row[0], **{n: quantize(v, code) for n, v in zip(FIGURES, row[1:], strict=True)}}
            for code, row in sorted(by_currency.items())
        ]


def rollup_of(groups: list[Group], *, rates, typical, today: dt.date) -> Rollup:
    """The rollup of a period's groups, rates read up to the latest date needed."""
    last = max([today, *(g.rate_on for g in groups if g.rate_on)])
    table = RateTable({g.currency for g in groups}, until=last)
    return Rollup(groups, rates=rates, typical=typical, today=today, table=table)

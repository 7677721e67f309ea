"""The forecast methods: pure functions over deal facts and stage history (no database).

Each method gives a value per deal in the deal's own currency; ``sums.py`` groups, converts and adds them.
A won deal counts its whole amount and a lost one nothing in every method; they differ on open deals:

- ``stage``: amount × the deal's probability (its stage's, unless the deal overrides it) / 100.
- ``history``: amount × the share of closed deals that reached the deal's stage and then won (per
  stage, so per pipeline), when at least ``min_sample`` closed deals reached that stage; else as
  ``stage``.
- ``age``: the ``stage`` value × min(1, typical / days), where days is how long the deal has been in
  its current stage and typical the median length of the completed stays in that stage (from the
  stage history, at least ``min_sample`` of them; else no adjustment). A deal twice as long in its
  stage as usual counts half.
- ``predicted``: amount × the deal's predicted win probability when a trained model is in use and
  scored it (crm/predict), else as ``stage``.
- categories: the full amount in the deal's category (pipeline, best case, commit, closed, omitted);
  ``commit`` = commit + closed and ``best case`` = commit + closed + best case are the sums reported.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

MIN_SAMPLE = 10
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DealFact:
    id: int
    owner_id: int | None
    pipeline_id: int
    stage_id: int
    status: str  # open, won, lost
    amount: Decimal
    currency: str
    close_date: dt.date | None  # the expected close date of an open deal, the day a closed one closed
    probability: int
    category: str
    stage_entered: dt.date


@dataclass(frozen=True)
class Move:
    """One stage-history row: the deal entered ``to_stage_id`` on ``on``."""

    deal_id: int
    to_stage_id: int
    on: dt.date


def weighted_by_stage(deals: Iterable[DealFact]) -> dict[int, Decimal]:
    return {d.id: _closed_value(d) if d.status != "open" else d.amount * d.probability / HUNDRED for d in deals}


def _closed_value(d: DealFact) -> Decimal:
    return d.amount if d.status == "won" else Decimal(0)


def win_rates(closed: Iterable[DealFact], moves: Iterable[Move], *, min_sample: int = MIN_SAMPLE) -> dict[int, Decimal]:
    """Per stage: the share of the closed deals that reached it (in the stage history) and won;
    only stages at least ``min_sample`` closed deals reached."""
    status = {d.id: d.status for d in closed if d.status in ("won", "lost")}
    reached: dict[int, set[int]] = {}
    for m in moves:
        if m.deal_id in status:
            reached.setdefault(m.to_stage_id, set()).add(m.deal_id)
    rates = {}
    for stage_id, deal_ids in reached.items():
        if len(deal_ids) >= min_sample:
            won = sum(1 for i in deal_ids if status[i] == "won")
            rates[stage_id] = Decimal(won) / Decimal(len(deal_ids))
    return rates


def weighted_by_history(deals: Iterable[DealFact], rates: dict[int, Decimal]) -> dict[int, Decimal]:
    out = {}
    for d in deals:
        if d.status != "open":
            out[d.id] = _closed_value(d)
        elif d.stage_id in rates:
            out[d.id] = d.amount * rates[d.stage_id]
        else:
            out[d.id] = d.amount * d.probability / HUNDRED
    return out


def typical_days(moves: Iterable[Move], *, min_sample: int = MIN_SAMPLE) -> dict[int, Decimal]:
    """Per stage: the median days of the completed stays in it (a stay ends with the deal's next move)."""
    by_deal: dict[int, list[Move]] = {}
    for m in moves:
        by_deal.setdefault(m.deal_id, []).append(m)
    stays: dict[int, list[int]] = {}
    for deal_moves in by_deal.values():
        deal_moves.sort(key=lambda m: m.on)
        for this, nxt in zip(deal_moves, deal_moves[1:], strict=False):
            stays.setdefault(this.to_stage_id, []).append((nxt.on - this.on).days)
    return {s: Decimal(str(statistics.median(days))) for s, days in stays.items() if len(days) >= min_sample}


def age_factor(days_in_stage: int, typical: Decimal | None) -> Decimal:
    """1 up to the typical stay, then typical / days (a stay of at most one day counts as one)."""
    if typical is None or days_in_stage <= typical:
        return Decimal(1)
    return max(typical, Decimal(1)) / Decimal(days_in_stage)


def age_adjusted(deals: Iterable[DealFact], typical: dict[int, Decimal], *, today: dt.date) -> dict[int, Decimal]:
    out = {}
    for d in deals:
        if d.status != "open":
            out[d.id] = _closed_value(d)
            continue
        days = (today - d.stage_entered).days
        out[d.id] = d.amount * d.probability / HUNDRED * age_factor(days, typical.get(d.stage_id))
    return out


def weighted_by_prediction(deals: Iterable[DealFact], predicted: dict[int, float]) -> dict[int, Decimal]:
    """amount × the predicted win probability (crm/predict) of each open deal a model scored; the
    ``stage`` value of the others (no model in use, or not scored yet)."""
    out = {}
    for d in deals:
        if d.status != "open":
            out[d.id] = _closed_value(d)
        elif d.id in predicted:
            out[d.id] = d.amount * Decimal(str(round(predicted[d.id], 4)))
        else:
            out[d.id] = d.amount * d.probability / HUNDRED
    return out


CATEGORY_COLUMNS = ("closed", "commit", "best_case", "pipeline", "omitted")


def by_category(deals: Iterable[DealFact]) -> dict[str, dict[int, Decimal]]:
    """Per category column: the amount of each deal in it (won deals are ``closed``; lost ones count in
    none: their amount is not revenue), plus the reported sums ``commit_total`` and ``best_case_total``."""
    columns: dict[str, dict[int, Decimal]] = {c: {} for c in (*CATEGORY_COLUMNS, "commit_total", "best_case_total")}
    for d in deals:
        if d.status == "lost":
            continue
        category = "closed" if d.status == "won" else d.category
        columns[category][d.id] = d.amount
        if category in ("closed", "commit"):
            columns["commit_total"][d.id] = d.amount
        if category in ("closed", "commit", "best_case"):
            columns["best_case_total"][d.id] = d.amount
    return columns

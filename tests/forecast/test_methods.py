"""Each forecast method on small hand-computed cases (pure functions, no database)."""

import datetime as dt
from decimal import Decimal

from crm.forecast import methods
from crm.forecast.methods import DealFact, Move

D = dt.date
TODAY = D(2026, 6, 30)


def deal(i, status="open", amount="1000", stage=1, prob=50, category="pipeline", entered=TODAY, currency="USD"):
    return DealFact(i, 1, 1, stage, status, Decimal(amount), currency, TODAY, prob, category, entered)


def test_weighted_by_stage():
    deals = [deal(1, prob=50), deal(2, amount="200", prob=10), deal(3, "won", "300"), deal(4, "lost", "999")]
    assert methods.weighted_by_stage(deals) == {1: Decimal(500), 2: Decimal(20), 3: Decimal(300), 4: Decimal(0)}


def history(stage_counts):
    """Closed deals that reached stage 1: ``stage_counts`` = (won, lost)."""
    won, lost = stage_counts
    closed = [deal(100 + i, "won") for i in range(won)] + [deal(200 + i, "lost") for i in range(lost)]
    moves = [Move(d.id, 1, D(2026, 1, 1)) for d in closed]
    return closed, moves


def test_history_rate_with_enough_sample():
    closed, moves = history((3, 7))  # 10 closed deals reached stage 1: 3 won
    rates = methods.win_rates(closed, moves, min_sample=10)
    assert rates == {1: Decimal("0.3")}
    out = methods.weighted_by_history([deal(1, prob=50), deal(2, stage=2, prob=40), deal(3, "won")], rates)
    assert out == {1: Decimal(300), 2: Decimal(400), 3: Decimal(1000)}  # stage 2: no rate, its probability


def test_history_falls_back_below_the_minimum_sample():
    closed, moves = history((3, 6))  # 9 < 10
    assert methods.win_rates(closed, moves, min_sample=10) == {}
    assert methods.weighted_by_history([deal(1, prob=50)], {}) == {1: Decimal(500)}


def test_history_counts_open_deals_and_unknown_deals_out():
    closed, moves = history((1, 1))
    moves.append(Move(999, 1, D(2026, 1, 1)))  # not closed: not in the sample
    assert methods.win_rates(closed, moves, min_sample=2) == {1: Decimal("0.5")}


def test_typical_days_is_the_median_completed_stay():
    moves = []
    for i, days in enumerate([10, 20, 30]):
        moves += [Move(i, 1, D(2026, 1, 1)), Move(i, 2, D(2026, 1, 1) + dt.timedelta(days=days))]
    moves.append(Move(9, 1, D(2026, 1, 1)))  # still in stage 1: not a completed stay
    assert methods.typical_days(moves, min_sample=3) == {1: Decimal(20)}
    assert methods.typical_days(moves, min_sample=4) == {}


def test_age_adjusted():
    typical = {1: Decimal(20)}
    deals = [
        deal(1, prob=50, entered=TODAY - dt.timedelta(days=10)),  # younger than usual: 500
        deal(2, prob=50, entered=TODAY - dt.timedelta(days=20)),  # exactly usual: 500
        deal(3, prob=50, entered=TODAY - dt.timedelta(days=40)),  # twice as old: 500 × 20/40
        deal(4, prob=50, stage=2, entered=TODAY - dt.timedelta(days=400)),  # no typical stay: 500
        deal(5, "won", "300"),
    ]
    assert methods.age_adjusted(deals, typical, today=TODAY) == {
        1: Decimal(500),
        2: Decimal(500),
        3: Decimal(250),
        4: Decimal(500),
        5: Decimal(300),
    }


def test_by_category():
    deals = [
        deal(1, "won", "100"),
        deal(2, amount="200", category="commit"),
        deal(3, amount="400", category="best_case"),
        deal(4, amount="800", category="pipeline"),
        deal(5, amount="1600", category="omitted"),
        deal(6, "lost", "3200"),
    ]
    cols = methods.by_category(deals)
    total = {k: sum(v.values()) for k, v in cols.items()}
    assert total == {
        "closed": 100,
        "commit": 200,
        "best_case": 400,
        "pipeline": 800,
        "omitted": 1600,
        "commit_total": 300,
        "best_case_total": 700,
    }

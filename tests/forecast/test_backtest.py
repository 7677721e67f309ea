"""The backtest's no-leakage rule: a forecast "as of" a past instant equals the one computed by hand from
what was known then. The history (the ``story`` fixture, tests/forecast/conftest.py) is written through
the services at past moments (clock.at), as real use writes it; every later change in it would change
the answer if it leaked into the past.

Period FY2026-Q2 = [2026-04-01, 2026-07-01); start = 04-01 00:00, midway = 05-16 00:00 (UTC).
"""

import datetime as dt
from decimal import Decimal

from crm.forecast import backtest, periods
from crm.records.models import Deal
from tests.forecast.conftest import at

D = dt.date
Q2 = periods.parse("FY2026-Q2", 1)
START = backtest.instant(Q2, "start")
MIDWAY = backtest.instant(Q2, "midway")


def test_the_start_forecast_uses_only_what_was_known_then(story, admin_user):
    visible = Deal.objects.restrict(admin_user)
    figures = backtest.forecast_as_of(visible, Q2, START)
    # raised: 1000 × 10 % = 100; commit: 4000 × 50 % = 2000; reassigned: 500 × 10 % = 50.
    # No closed deals yet and no completed stays: history and age fall back to the stage's probability.
    assert figures == {
        "stage": Decimal("2150.00"),
        "history": Decimal("2150.00"),
        "age": Decimal("2150.00"),
        "commit_total": Decimal("4000.00"),  # the commit deal, in commit then
        "best_case_total": Decimal("4000.00"),
    }


def test_ownership_then(story, admin_user, rep_a, rep_b):
    visible = Deal.objects.restrict(admin_user)
    assert backtest.forecast_as_of(visible, Q2, START, owners={rep_a.pk})["stage"] == Decimal("2150.00")
    assert backtest.forecast_as_of(visible, Q2, START, owners={rep_b.pk})["stage"] == Decimal("0.00")


def test_the_midway_forecast(story, admin_user):
    visible = Deal.objects.restrict(admin_user)
    figures = backtest.forecast_as_of(visible, Q2, MIDWAY)
    # raised 5000 × 50 % = 2500 (won only on 05-20); moved-in 2000 × 50 % = 1000; late 3000 × 50 % = 1500;
    # commit won: 4000; reassigned 500 × 10 % = 50; the ten lost deals count 0. Total 9050.
    assert figures["stage"] == Decimal("9050.00")
    # Qualify: 10 closed deals reached it, none won → 0 (reassigned: 0). Proposal: one closed deal, too
    # few → its probability.
    assert figures["history"] == Decimal("9000.00")
    # Qualify stays: ten of 33 days and raised's 40 → usual 33; reassigned has been in it 104 days:
    # 50 × 33 / 104 = 15.865…
    assert figures["age"] == Decimal("9015.87")
    assert figures["commit_total"] == Decimal("4000.00")


def test_run_next_to_what_was_won(story, admin_user):
    result = backtest.run(admin_user, kind="quarter", count=1, now=at(D(2026, 7, 2)))
    (row,) = result["periods"]
    assert row["period"] == Q2
    assert row["actual"] == Decimal("9000.00")  # raised 5000 + commit 4000, won in the period
    start, midway = row["points"]
    assert (start["point"], start["as_of"], midway["as_of"]) == ("start", D(2026, 4, 1), D(2026, 5, 16))
    stage = next(m for m in result["methods"] if m["method"] == "stage")
    # (2150 − 9000) / 9000 = −76.11 %, (9050 − 9000) / 9000 = +0.56 %
    assert (stage["mape"], stage["bias"], stage["samples"]) == (Decimal("38.3"), Decimal("-37.8"), 2)
    history = next(m for m in result["methods"] if m["method"] == "history")
    assert history["mape"] == Decimal("38.1")  # 76.11 and 0.00
    assert result["best"] == "history"


def test_points_after_now_are_not_forecast(story, admin_user):
    result = backtest.run(admin_user, kind="quarter", count=1, now=at(D(2026, 7, 2)))
    assert len(result["periods"][0]["points"]) == 2
    mid_q3 = backtest.run(admin_user, kind="month", count=1, now=at(D(2026, 6, 10)))
    assert [p["point"] for p in mid_q3["periods"][0]["points"]] == ["start", "midway"]


def test_the_backtest_reads_only_what_the_viewer_sees(story, rep_b):
    # rep_b sees only the deal that is theirs today; at the start it was 500 × 10 %.
    visible = Deal.objects.restrict(rep_b)
    assert backtest.forecast_as_of(visible, Q2, START)["stage"] == Decimal("50.00")
    result = backtest.run(rep_b, kind="quarter", count=1, now=at(D(2026, 7, 2)))
    assert result["periods"][0]["actual"] == Decimal("0.00")
    assert result["best"] is None  # nothing won: no error to measure


def test_a_deal_loaded_without_its_log_is_open_before_it_closed(admin_user, pipeline, rep_a):
    """Bulk-loaded data logs only the creation: a deal won on 05-01 was still open on 04-01, in the
    stage its history had it in then (Qualify, 10 %), not in Won."""
    from crm.records.models import DealStatus, StageChange
    from tests.factories import DealFactory

    stages = {s.name: s for s in pipeline.stages.all()}
    won_at, entered = at(D(2026, 5, 1)), at(D(2026, 3, 1))
    deal = DealFactory(
        owner=rep_a,
        pipeline=pipeline,
        stage=stages["Won"],
        status=DealStatus.WON,
        amount=Decimal("1000"),
        expected_close_date=D(2026, 5, 1),
        probability=100,
        closed_at=won_at,
        stage_changed_at=won_at,
        created_at=entered,
    )
    StageChange.objects.create(deal=deal, to_stage=stages["Qualify"], changed_at=entered)
    StageChange.objects.create(deal=deal, to_stage=stages["Proposal"], changed_at=at(D(2026, 3, 20)))
    StageChange.objects.create(deal=deal, to_stage=stages["Won"], changed_at=won_at)
    visible = Deal.objects.restrict(admin_user)
    assert backtest.forecast_as_of(visible, Q2, START)["stage"] == Decimal("500.00")  # Proposal, 50 %
    assert backtest.forecast_as_of(visible, Q2, MIDWAY)["stage"] == Decimal("1000.00")  # won by then


def test_the_page_backtest_is_cached_per_scope(story, admin_user, rep_b):
    first = backtest.cached_run(admin_user, kind="quarter")
    assert backtest.cached_run(admin_user, kind="quarter") == first
    theirs = backtest.cached_run(rep_b, kind="quarter")  # another scope: its own backtest, not the admin's
    assert theirs == backtest.run(rep_b, kind="quarter") != first

"""The backtest's no-leakage rule: a forecast "as of" a past instant equals the one computed by hand from
what was known then. The history is written through the services at past moments (clock.at), as real
use writes it; every later change below would change the answer if it leaked into the past.

Period FY2026-Q2 = [2026-04-01, 2026-07-01); start = 04-01 00:00, midway = 05-16 00:00 (UTC).
"""

import datetime as dt
from decimal import Decimal

import pytest

from crm.core import clock
from crm.forecast import backtest, categories, periods
from crm.records.models import Deal
from crm.records.services.deals import deal_create, deal_update

D = dt.date
Q2 = periods.parse("FY2026-Q2", 1)
START = backtest.instant(Q2, "start")
MIDWAY = backtest.instant(Q2, "midway")


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


@pytest.fixture
def story(admin_user, rep_a, rep_b, make_deal):
    stages = make_deal.stages
    deals = {}

    def create(key, day, *, amount, stage, close, owner=rep_a):
        with clock.at(at(day)):
            data = {"name": key, "amount": Decimal(amount), "stage_id": stages[stage].pk, "owner_id": owner.pk}
            deals[key] = deal_create(actor=admin_user, data={**data, "expected_close_date": close}).obj

    def update(key, day, **data):
        with clock.at(at(day)):
            deals[key] = deal_update(Deal.objects.get(pk=deals[key].pk), actor=admin_user, data=data).obj

    def category(key, day, value):
        with clock.at(at(day)):
            categories.deal_category_set(deals[key].pk, value, actor=admin_user)

    # Known at the start: 1000 in Qualify (10 %). Later: amount raised, moved on, then won.
    create("raised", D(2026, 3, 1), amount="1000", stage="Qualify", close=D(2026, 5, 15))
    update("raised", D(2026, 4, 10), amount=Decimal("5000"), stage_id=stages["Proposal"].pk)
    update("raised", D(2026, 5, 20), stage_id=stages["Won"].pk)
    # Expected to close after the period at the start; the close date moved into it later.
    create("moved-in", D(2026, 3, 5), amount="2000", stage="Proposal", close=D(2026, 7, 20))
    update("moved-in", D(2026, 4, 5), expected_close_date=D(2026, 6, 10))
    # Created after the start.
    create("late", D(2026, 4, 15), amount="3000", stage="Proposal", close=D(2026, 6, 1))
    # Commit at the start (50 %); its category changed later, then it was won.
    create("commit", D(2026, 3, 10), amount="4000", stage="Proposal", close=D(2026, 6, 15))
    category("commit", D(2026, 3, 12), "commit")
    category("commit", D(2026, 4, 2), "best_case")
    update("commit", D(2026, 4, 20), stage_id=stages["Won"].pk)
    # rep_a's at the start, reassigned to rep_b later.
    create("reassigned", D(2026, 2, 1), amount="500", stage="Qualify", close=D(2026, 5, 1))
    update("reassigned", D(2026, 4, 3), owner_id=rep_b.pk)
    # Ten deals in Qualify, all lost after the start: leaked, they would make Qualify's conversion 0
    # and its usual stay 33 days (which the 59 days "reassigned" had spent in Qualify would exceed).
    for i in range(10):
        create(f"lost{i}", D(2026, 3, 1), amount="100", stage="Qualify", close=D(2026, 9, 1))
        update(f"lost{i}", D(2026, 4, 3), stage_id=stages["Lost"].pk, lost_reason="Price")
    return deals


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

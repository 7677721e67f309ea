"""/api/v1/forecast/backtest and /snapshots: shapes, figures, scopes and refusals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.forecast import backtest, periods, snapshots

D = dt.date


@pytest.fixture
def deals(make_deal, rep_a, rep_b, eur_rates):
    make_deal(rep_a, "1000", stage="Proposal", close=D(2026, 5, 15))
    make_deal(rep_a, "100", stage="Won", close=D(2026, 4, 15), currency="EUR")  # × 1.10 = 110
    make_deal(rep_b, "400", stage="Proposal", close=D(2026, 6, 1))


def _q2(body):
    return next(p for p in body["periods"] if p["period"]["key"] == "FY2026-Q2")


def test_backtest_of_deals_created_after_the_period(deals, api, admin_user, rep_b):
    # The deals were created today, after FY2026-Q2: nothing was known at its start or midway, so every
    # method forecast 0 against the 110 won: −100 % each.
    today = timezone.localdate()
    count = len([p for p in backtest.past_periods("quarter", 24, today) if p.start >= D(2026, 4, 1)])
    r = api(admin_user).get("/forecast/backtest", {"kind": "quarter", "periods": count})
    assert r.status_code == 200, r.content
    body = r.json()
    q2 = _q2(body)
    assert Decimal(str(q2["actual"])) == Decimal("110.00")
    assert [p["point"] for p in q2["points"]] == ["start", "midway"]
    assert {
        (f["method"], Decimal(str(f["forecast"])), Decimal(str(f["error_pct"]))) for f in q2["points"][0]["forecasts"]
    } == {(m, Decimal("0.00"), Decimal("-100.0")) for m, _ in backtest.METHODS}
    stage = next(m for m in body["methods"] if m["method"] == "stage")
    assert (Decimal(str(stage["mape"])), Decimal(str(stage["bias"])), stage["samples"]) == (
        Decimal("100.0"),
        Decimal("-100.0"),
        2,
    )
    assert body["best"] == "stage"  # all equal: the first
    theirs = api(admin_user).get("/forecast/backtest", {"periods": count, "owner_id": rep_b.pk}).json()
    assert Decimal(str(_q2(theirs)["actual"])) == Decimal("0.00") and theirs["best"] is None


def test_backtest_refusals(api, rep_a):
    assert api(rep_a).get("/forecast/backtest", {"periods": 0}).status_code == 422
    assert api(rep_a).get("/forecast/backtest", {"periods": 25}).status_code == 422
    assert api(rep_a).get("/forecast/backtest", {"kind": "week"}).status_code == 422
    assert api(rep_a).get("/forecast/backtest", {"team_id": 999999, "periods": 1}).status_code == 404


def test_snapshots_api(deals, api, admin_user, rep_b):
    now = dt.datetime(2026, 4, 20, 5, tzinfo=dt.UTC)
    snapshots.take(now)
    r = api(admin_user).get("/forecast/snapshots", {"period": "FY2026-Q2", "figure": "stage"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["weeks"] == ["2026-04-20"] and body["figure"] == "stage"
    total = next(s for s in body["series"] if s["scope"] == "total")
    assert [Decimal(str(v)) for v in total["values"]] == [Decimal("810.00")]  # 500 + 110 + 200
    mine = api(rep_b).get("/forecast/snapshots", {"period": "FY2026-Q2"}).json()
    assert [(s["scope"], s["id"], [Decimal(str(v)) for v in s["values"]]) for s in mine["series"]] == [
        ("owner", rep_b.pk, [Decimal("200.00")])
    ]
    assert api(rep_b).get("/forecast/snapshots", {"figure": "nope"}).status_code == 422


def test_hidden_amounts_get_no_backtest_nor_snapshots(api, rep_a):
    from crm.access.models import Role
    from crm.access.policy import forget

    Role.objects.filter(pk=rep_a.profile.role_id).update(field_access={"deal": {"amount": "hidden"}})
    forget(rep_a)
    assert api(rep_a).get("/forecast/backtest", {"periods": 1}).status_code == 403
    assert api(rep_a).get("/forecast/snapshots").status_code == 403


def test_instants():
    q = periods.parse("FY2026-Q1", 1)
    assert backtest.instant(q, "start").date() == D(2026, 1, 1)
    assert backtest.instant(q, "midway").date() == D(2026, 2, 15)  # 90 days: day 45

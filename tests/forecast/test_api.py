"""/api/v1/forecast/...: the same numbers as the selectors, permissions, and clear refusals."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.forecast.models import Adjustment, Quota

D = dt.date


def put(client, path, data):
    return client._call("put", path, data)


@pytest.fixture
def deals(make_deal, rep_a, rep_b, eur_rates):
    make_deal(rep_a, "1000", stage="Proposal", close=D(2026, 5, 15))  # 500
    make_deal(rep_a, "100", stage="Won", close=D(2026, 4, 15), currency="EUR")  # 110
    make_deal(rep_b, "400", stage="Proposal", close=D(2026, 6, 1))  # 200


def test_forecast_numbers_and_visibility(deals, api, admin_user, rep_a):
    r = api(admin_user).get("/forecast", {"period": "FY2026-Q2"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["period"] == {"key": "FY2026-Q2", "kind": "quarter", "start": "2026-04-01", "last_day": "2026-06-30"}
    assert Decimal(str(body["total"]["stage"])) == Decimal("810.00")
    assert Decimal(str(body["total"]["closed"])) == Decimal("110.00")
    assert {c["currency"] for c in body["per_currency"]} == {"USD", "EUR"}
    mine = api(rep_a).get("/forecast", {"period": "FY2026-Q2"}).json()
    assert Decimal(str(mine["total"]["stage"])) == Decimal("610.00")
    listed = api(rep_a).get("/forecast/deals", {"period": "FY2026-Q2", "category": "closed"}).json()
    assert [(d["currency"], d["category"]) for d in listed] == [("EUR", "closed")]


def test_bad_period_is_a_422(api, rep_a):
    r = api(rep_a).get("/forecast", {"period": "2026-Q5"})
    assert r.status_code == 422
    assert "period" in str(r.json()["error"]["fields"])


def test_missing_rate_is_a_clear_422(make_deal, rep_a, api, foreign_currencies):
    make_deal(rep_a, "100", close=D(2026, 5, 1), currency="GBP")
    r = api(rep_a).get("/forecast", {"period": "2026-05"})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "No exchange rate for GBP on or before 2026-05-01"


def test_deal_category_override(make_deal, api, rep_a, rep_b):
    deal = make_deal(rep_a, "10")
    assert put(api(rep_b), f"/forecast/deals/{deal.pk}/category", {"category": "commit"}).status_code == 404
    r = put(api(rep_a), f"/forecast/deals/{deal.pk}/category", {"category": "commit"})
    assert r.json() == {"category": "commit"}
    assert put(api(rep_a), f"/forecast/deals/{deal.pk}/category", {"category": "closed"}).status_code == 422


def test_settings_admins_only(api, admin_user, rep_a):
    assert put(api(rep_a), "/forecast/settings", {"fiscal_year_start_month": 4}).status_code == 403
    assert put(api(admin_user), "/forecast/settings", {"fiscal_year_start_month": 4}).json() == {
        "fiscal_year_start_month": 4
    }
    assert put(api(admin_user), "/forecast/settings", {"fiscal_year_start_month": 13}).status_code == 422
    # April start: the current quarter and named periods follow it
    r = api(rep_a).get("/forecast", {"period": "FY2027-Q1"}).json()
    assert r["period"]["start"] == "2026-04-01"


def test_quota_and_adjustment_endpoints(api, manager, rep_a, rep_b):
    r = api(manager).post("/forecast/quotas", {"period": "FY2026-Q2", "user_id": rep_a.pk, "amount": "1000"})
    assert r.status_code == 200, r.content
    assert r.json()["period"] == "FY2026-Q2"
    r = api(manager).post("/forecast/quotas", {"period": "FY2026-Q2", "user_id": rep_b.pk, "amount": "1"})
    assert r.status_code == 403
    assert [q["user_id"] for q in api(rep_a).get("/forecast/quotas", {"period": "FY2026-Q2"}).json()] == [rep_a.pk]
    assert api(rep_b).get("/forecast/quotas", {"period": "FY2026-Q2"}).json() == []
    body = {"period": "FY2026-Q2", "rep_id": rep_a.pk, "amount": "900", "note": "Slipping"}
    assert api(manager).post("/forecast/adjustments", body).status_code == 200
    assert api(rep_a).post("/forecast/adjustments", body).status_code == 403
    history = api(rep_a).get("/forecast/adjustments", {"period": "FY2026-Q2", "rep_id": rep_a.pk}).json()
    assert [(h["amount"], h["note"]) for h in history] in ([("900.00", "Slipping")], [(900.0, "Slipping")])
    assert api(rep_b).get("/forecast/adjustments", {"period": "FY2026-Q2", "rep_id": rep_a.pk}).status_code == 404
    assert Adjustment.objects.count() == 1


def test_quota_import_preview_then_write(api, admin_user, rep_a, rep_b, team):
    text = (
        "period,user,team,amount,deal_count,rolls_up\n"
        f"FY2026-Q2,{rep_a.username},,1000,4,\n"
        f"FY2026-Q2,{rep_b.email},,2000.50,,no\n"
        "FY2026-Q2,,East,,,yes\n"
    )
    r = api(admin_user).post("/forecast/quotas/import", {"csv": text, "preview": True})
    assert r.status_code == 200, r.content
    assert [row["action"] for row in r.json()["rows"]] == ["create"] * 3
    assert Quota.objects.count() == 0
    r = api(admin_user).post("/forecast/quotas/import", {"csv": text, "preview": False})
    assert r.json()["written"] is True
    assert Quota.objects.get(user=rep_b).amount == Decimal("2000.50")
    assert Quota.objects.get(team=team).rolls_up is True
    r = api(admin_user).post("/forecast/quotas/import", {"csv": text, "preview": True})
    assert [row["action"] for row in r.json()["rows"]] == ["update"] * 3


def test_quota_import_bad_input_writes_nothing(api, admin_user, manager, rep_a, rep_b):
    text = (
        "period,user,amount,rolls_up\n"
        f"FY2026-Q2,{rep_a.username},1000,\n"  # fine
        "FY2026-Q9,nobody,-5,maybe\n"  # line 3: every column wrong
        f"FY2026-Q2,{rep_a.username},12.345,\n"  # line 4: three decimals, and a duplicate of line 2
        f"FY2026-Q2,{rep_b.username},10,yes\n"  # line 5: a user's quota does not roll up
    )
    r = api(admin_user).post("/forecast/quotas/import", {"csv": text, "preview": False})
    assert r.status_code == 422
    fields = r.json()["error"]["fields"]
    assert set(fields) == {
        "rows.3.period",
        "rows.3.user",
        "rows.3.amount",
        "rows.3.rolls_up",
        "rows.4.amount",
        "rows.4.period",
        "rows.5.rolls_up",
    }
    assert "Line 2" in fields["rows.4.period"]
    assert Quota.objects.count() == 0
    # a manager may not set a quota outside the team: named per line, nothing written
    r = api(manager).post("/forecast/quotas/import", {"csv": f"period,user,amount\n2026-05,{rep_b.username},1\n"})
    assert r.status_code == 422 and "rows.2.user" in r.json()["error"]["fields"]
    for bad in (
        "",
        "period,amount\n2026-05,1\n",
        "period,user,amount,colour\n2026-05,x,1,red\n",
        "period,user,amount\n",
    ):
        r = api(admin_user).post("/forecast/quotas/import", {"csv": bad})
        assert r.status_code == 422 and "csv" in r.json()["error"]["fields"], bad


def test_the_refusals_are_in_the_openapi(api, admin_user):
    """A period that does not exist or a missing rate is a 422: each GET that can answer one says so."""
    paths = api(admin_user).get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/forecast",
        "/api/v1/forecast/backtest",
        "/api/v1/forecast/snapshots",
        "/api/v1/forecast/deals",
    ):
        assert "422" in paths[path]["get"]["responses"], path

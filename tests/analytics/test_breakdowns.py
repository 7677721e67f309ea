"""/api/v1/analytics/sales/categories, /activities and /trend: hand-computed on the story of conftest.py
(2026-05 beside 2026-04), restricted to what the viewer may see, drill-down, refusals."""

from decimal import Decimal

import pytest

from tests.analytics.conftest import D, at
from tests.factories import ActivityFactory

N = Decimal


def get(api, user, path, **params):
    r = api(user).get(path, {"period": "2026-05", **params})
    assert r.status_code == 200, r.content
    return r.json()


def test_categories_by_hand(lines, api, rep_a):
    body = get(api, rep_a, "/analytics/sales/categories")
    assert body["period"]["key"] == "2026-05" and body["currency"] == "USD"
    rows = [
        (r["category"], r["deals"], N(r["amount"]), r["previous_deals"], N(r["previous_amount"]))
        for r in body["categories"]
    ]
    assert rows == [
        ("Hardware", 1, N("750.00"), 0, N("0.00")),  # 1,000 × 300/400
        ("Services", 1, N("250.00"), 0, N("0.00")),
        ("", 1, N("120.00"), 1, N("400.00")),  # w2: 100 EUR at 1.20, no lines; April: w3
    ]
    assert N(body["categories"][2]["change_amount"]) == N("-280.00")


def test_categories_only_what_the_viewer_sees(lines, api, rep_b, admin_user):
    theirs = get(api, rep_b, "/analytics/sales/categories")["categories"]
    assert [(r["category"], r["deals"], N(r["amount"])) for r in theirs] == [("", 1, N("9999.00"))]
    everyone = {
        r["category"]: (r["deals"], N(r["amount"]))
        for r in get(api, admin_user, "/analytics/sales/categories")["categories"]
    }
    assert everyone[""] == (2, N("10119.00")) and everyone["Hardware"] == (1, N("750.00"))


def test_category_drill_down(lines, api, rep_a, rep_b):
    deals = get(api, rep_a, "/analytics/sales/deals", figure="category", category="Hardware")
    assert [d["id"] for d in deals] == [lines["w1"].pk]
    assert [d["id"] for d in get(api, rep_a, "/analytics/sales/deals", figure="category", category="")] == [
        lines["w2"].pk
    ]
    assert get(api, rep_b, "/analytics/sales/deals", figure="category", category="Hardware") == []


def test_activity_counts_per_rep(story, api, rep_a, rep_b, admin_user):
    for kind, day in (
        ("call", D(2026, 5, 2)),
        ("call", D(2026, 5, 31)),
        ("meeting", D(2026, 5, 9)),
        ("call", D(2026, 4, 30)),
    ):
        ActivityFactory(owner=rep_a, kind=kind, occurred_at=at(day))
    ActivityFactory(owner=rep_b, kind="email", occurred_at=at(D(2026, 5, 3)))
    ActivityFactory(owner=rep_a, kind="note", occurred_at=at(D(2026, 6, 1)))  # after the period
    mine = get(api, rep_a, "/analytics/sales/activities")["reps"]
    assert mine == [
        {
            "owner_id": rep_a.pk,
            "owner": mine[0]["owner"],
            "kinds": {"call": 2, "meeting": 1},
            "total": 3,
            "previous_total": 1,
            "change": 2,
        }
    ]
    everyone = {r["owner_id"]: r["total"] for r in get(api, admin_user, "/analytics/sales/activities")["reps"]}
    assert everyone == {rep_a.pk: 3, rep_b.pk: 1}
    only_b = get(api, admin_user, "/analytics/sales/activities", owner_id=rep_b.pk)["reps"]
    assert [(r["owner_id"], r["kinds"]) for r in only_b] == [(rep_b.pk, {"email": 1})]


def test_revenue_trend_by_hand(story, make, api, rep_a, admin_user):
    make(rep_a, "50", [("Qualify", D(2025, 5, 1)), ("Won", D(2025, 5, 20))])  # a year before May 2026
    make(rep_a, "70", [("Qualify", D(2025, 6, 1)), ("Won", D(2025, 6, 2))])  # the first month shown
    months = get(api, rep_a, "/analytics/sales/trend")["months"]
    assert [m["month"] for m in months] == [f"2025-{m:02d}" for m in range(6, 13)] + [
        f"2026-{m:02d}" for m in range(1, 6)
    ]
    by = {
        m["month"]: (m["won_count"], N(m["won_amount"]), m["previous_year_count"], N(m["previous_year_amount"]))
        for m in months
    }
    assert by["2026-05"] == (2, N("1120.00"), 1, N("50.00"))
    assert by["2026-04"] == (1, N("400.00"), 0, N("0.00"))
    assert by["2025-06"] == (1, N("70.00"), 0, N("0.00"))
    assert sum(m["won_count"] for m in months) == 4
    assert get(api, admin_user, "/analytics/sales/trend")["months"][-1]["won_count"] == 3  # b1 too


@pytest.mark.parametrize(
    "path", ["/analytics/sales/categories", "/analytics/sales/activities", "/analytics/sales/trend"]
)
def test_refusals_are_422(story, api, rep_a, path):
    assert api(rep_a).get(path, {"period": "May"}).status_code == 422
    assert api(rep_a).get(path, {"period": "2026-05", "team_id": 999999}).status_code == 422

"""/api/v1/analytics/sales: hand-computed figures, restriction, the previous period, refusals."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

N = Decimal


def get(api, user, path="/analytics/sales", **params):
    r = api(user).get(path, {"period": "2026-05", **params})
    assert r.status_code == 200, r.content
    return r.json()


def dec(value):
    return None if value is None else N(str(value))


def test_rep_figures_by_hand(story, api, rep_a):
    body = get(api, rep_a)
    assert body["period"]["key"] == "2026-05" and body["previous_period"]["key"] == "2026-04"
    cur = body["current"]
    assert (cur["won_count"], cur["lost_count"]) == (2, 1)  # w1, w2 won; l1 lost (b1 is rep_b's)
    assert dec(cur["win_rate"]) == N("0.6667")
    assert dec(cur["won_amount"]) == N("1120.00")  # 1000 + 100 EUR at 1.20 (closed 05-21)
    assert dec(cur["avg_won_amount"]) == N("560.00")
    assert dec(cur["cycle_days"]) == N("30.0")  # (40 + 20) / 2
    assert (cur["open_count"], dec(cur["open_amount"])) == (1, N("2000.00"))
    assert dec(cur["velocity_per_day"]) == N("12.45")  # 1 × 0.6667 × 560 / 30
    assert dec(cur["quota"]) == N("5000") and dec(cur["remaining_quota"]) == N("3880.00")
    assert dec(cur["coverage"]) == N("0.5155")  # 2000 / 3880
    assert (cur["new_count"], dec(cur["new_amount"])) == (2, N("610.00"))  # w2 at 1.10 (05-01) + l1
    assert cur["lost_reasons"] == [{"reason": "Price", "count": 1}]
    stages = {s["stage"]: s for s in cur["stages"]}
    q = stages["Qualify"]
    assert (q["reached"], q["advanced"], dec(q["conversion"])) == (3, 2, N("0.6667"))
    assert (q["stays"], dec(q["avg_days"]), dec(q["median_days"])) == (3, N("13.3"), N("10"))
    p = stages["Proposal"]
    assert (p["reached"], p["advanced"], dec(p["conversion"]), dec(p["avg_days"])) == (1, 1, N("1.0000"), N("30.0"))
    assert (stages["Won"]["reached"], stages["Won"]["conversion"]) == (2, None)
    assert stages["Lost"]["reached"] == 1


def test_previous_period_and_change(story, api, rep_a):
    body = get(api, rep_a)
    prev, change = body["previous"], body["change"]
    assert (prev["won_count"], prev["lost_count"], dec(prev["win_rate"])) == (1, 1, N("0.5000"))
    assert (dec(prev["won_amount"]), dec(prev["cycle_days"])) == (N("400.00"), N("20.0"))
    assert (prev["open_count"], dec(prev["velocity_per_day"])) == (0, N("0.00"))
    assert prev["quota"] is None and prev["coverage"] is None
    assert (prev["new_count"], dec(prev["new_amount"])) == (2, N("1300.00"))  # w1 and l2
    assert prev["lost_reasons"] == [{"reason": "Timing", "count": 1}]
    assert change["won_count"] == 1 and dec(change["win_rate"]) == N("0.1667")
    assert dec(change["won_amount"]) == N("720.00") and dec(change["cycle_days"]) == N("10.0")
    assert dec(change["new_amount"]) == N("-690.00") and change["coverage"] is None


def test_restriction_rep_sees_only_own_deals(story, api, rep_b, admin_user):
    mine = get(api, rep_b)["current"]
    assert (mine["won_count"], mine["lost_count"], dec(mine["won_amount"])) == (1, 0, N("9999.00"))
    every = get(api, admin_user)["current"]
    assert (every["won_count"], dec(every["won_amount"])) == (3, N("11119.00"))
    ids = [d["id"] for d in get(api, rep_b, "/analytics/sales/deals", figure="won")]
    assert ids == [story["b1"].pk]


def test_filters(story, api, admin_user, rep_a, team):
    assert get(api, admin_user, owner_id=rep_a.pk)["current"]["won_count"] == 2
    assert get(api, admin_user, team_id=team.pk)["current"]["won_count"] == 2  # rep_a is in the team
    assert get(api, admin_user, source="Web")["current"]["won_count"] == 1
    assert get(api, admin_user, source="Fair")["current"]["won_count"] == 0
    assert get(api, admin_user, pipeline_id=story["w1"].pipeline_id)["current"]["won_count"] == 3


def test_drill_down_lists_the_deals_behind_each_figure(story, api, rep_a):
    def ids(**params):
        return sorted(d["id"] for d in get(api, rep_a, "/analytics/sales/deals", **params))

    assert ids(figure="won") == sorted([story["w1"].pk, story["w2"].pk])
    assert ids(figure="lost", lost_reason="Price") == [story["l1"].pk]
    assert ids(figure="open") == [story["o1"].pk]
    assert ids(figure="new") == sorted([story["w2"].pk, story["l1"].pk])
    assert ids(figure="won", period="2026-04") == [story["w3"].pk]


@pytest.mark.parametrize(
    "params",
    [
        {"period": "2026-13"},
        {"period": "FY2026-Q5"},
        {"owner_id": 0},
        {"team_id": 999999},
        {"pipeline_id": 999999},
        {"owner_id": 999999},
        {"source": ""},
    ],
)
def test_bad_filters_are_422(api, rep_a, params, db):
    r = api(rep_a).get("/analytics/sales", {"period": "2026-05", **params})
    assert r.status_code == 422, r.content


def test_bad_figure_is_422(api, rep_a):
    assert api(rep_a).get("/analytics/sales/deals", {"figure": "all"}).status_code == 422


def test_missing_rate_is_a_clear_422(make, rep_a, api, foreign_currencies):
    make(rep_a, "100", [("Qualify", dt.date(2026, 5, 1)), ("Won", dt.date(2026, 5, 3))], currency="GBP")
    r = api(rep_a).get("/analytics/sales", {"period": "2026-05"})
    assert r.status_code == 422
    assert "GBP" in r.json()["error"]["message"]


def test_stuck_deals_are_older_than_usual_in_their_stage(make, rep_a, api):
    today = timezone.localdate()
    for _ in range(10):  # ten completed 5-day stays in Qualify: the usual stay is 5 days
        make(rep_a, "10", [("Qualify", today - dt.timedelta(days=60)), ("Lost", today - dt.timedelta(days=55))])
    old = make(rep_a, "10", [("Qualify", today - dt.timedelta(days=30))])
    make(rep_a, "10", [("Qualify", today - dt.timedelta(days=1))])
    body = api(rep_a).get("/analytics/sales").json()
    assert (body["stuck_count"], body["stuck_ids"]) == (1, [old.pk])
    listed = api(rep_a).get("/analytics/sales/deals", {"figure": "stuck"}).json()
    assert [d["id"] for d in listed] == [old.pk]


def _hide(user, field):
    from crm.access import fieldrules
    from crm.access.models import Role

    Role.objects.filter(pk=user.profile.role_id).update(field_access={"deal": {field: fieldrules.HIDDEN}})


def test_hidden_amount_means_no_figures_and_hidden_owner_no_owner_filter(story, api, rep_a, web):
    _hide(rep_a, "owner")
    r = api(rep_a).get("/analytics/sales", {"period": "2026-05", "owner_id": rep_a.pk})
    assert r.status_code == 400 and "owner_id" in r.json()["error"]["fields"]
    _hide(rep_a, "amount")
    assert api(rep_a).get("/analytics/sales", {"period": "2026-05"}).status_code == 403
    assert web(rep_a).get("/analytics/", {"period": "2026-05"}).status_code == 403

"""The forecast of a period: hand-computed figures, dated conversion, visibility, quotas, adjustments."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.forecast import periods, quotas, selectors
from crm.money.rates import MissingRate

D = dt.date
Q2 = periods.parse("FY2026-Q2", 1)
TODAY = D(2026, 4, 20)


@pytest.fixture
def world(make_deal, rep_a, rep_b, manager, eur_rates):
    make_deal(rep_a, "1000", stage="Qualify", close=D(2026, 5, 15))  # 10 %: 100
    make_deal(rep_a, "2000", stage="Proposal", close=D(2026, 5, 20), currency="EUR")  # × 1.20 = 2400; 50 %: 1200
    make_deal(rep_a, "500", stage="Won", close=D(2026, 4, 15), currency="EUR")  # × 1.10 = 550
    make_deal(rep_a, "300", stage="Lost", close=D(2026, 5, 1))
    make_deal(rep_a, "9999", stage="Proposal", close=D(2026, 7, 1))  # next quarter
    make_deal(rep_b, "400", stage="Proposal", close=D(2026, 6, 1))  # 50 %: 200


def fig(row, *names):
    return tuple(row[n] for n in names)


def test_admin_total_hand_computed(world, admin_user):
    f = selectors.forecast(admin_user, Q2, today=TODAY)
    assert f["currency"] == "USD"
    t = f["total"]
    assert t["count"] == 5
    assert fig(t, "closed", "pipeline", "commit_total", "best_case_total") == (
        Decimal("550.00"),
        Decimal("3800.00"),
        Decimal("550.00"),
        Decimal("550.00"),
    )
    # 100 + 1200 + 550 + 200; too few closed deals for history and no completed stays for age: both fall back.
    assert t["stage"] == t["history"] == t["age"] == Decimal("2050.00")
    eur = next(c for c in f["per_currency"] if c["currency"] == "EUR")
    assert fig(eur, "count", "closed", "pipeline", "stage") == (
        2,
        Decimal("500.00"),
        Decimal("2000.00"),
        Decimal("1500.00"),
    )
    assert [p["stage"] for p in f["pipelines"]] == [Decimal("2050.00")]


def test_rollup_team_to_rep(world, admin_user, rep_a, rep_b):
    f = selectors.forecast(admin_user, Q2, today=TODAY)
    east = next(t for t in f["teams"] if t["name"] == "East")
    assert east["stage"] == Decimal("1850.00")
    assert [r["id"] for r in east["reps"]] == [rep_a.pk]  # the manager has neither deals nor quota
    none = next(t for t in f["teams"] if t["id"] is None)
    assert [(r["id"], r["stage"]) for r in none["reps"]] == [(rep_b.pk, Decimal("200.00"))]


def test_rep_sees_own_and_manager_the_team(world, rep_a, rep_b, manager):
    assert selectors.forecast(rep_a, Q2, today=TODAY)["total"]["stage"] == Decimal("1850.00")
    assert selectors.forecast(rep_b, Q2, today=TODAY)["total"]["stage"] == Decimal("200.00")
    assert selectors.forecast(manager, Q2, today=TODAY)["total"]["stage"] == Decimal("1850.00")
    assert {d.owner_id for d in selectors.drill_down(manager, Q2)} == {rep_a.pk}
    assert selectors.drill_down(rep_b, Q2, owner_id=rep_a.pk) == []


def test_drill_down_by_category(world, rep_a):
    deals = selectors.drill_down(rep_a, Q2, category="closed")
    assert [(d.amount, d.currency) for d in deals] == [(Decimal("500.00"), "EUR")]
    assert len(selectors.drill_down(rep_a, Q2)) == 4


def test_missing_rate_names_currency_and_date(make_deal, rep_a, foreign_currencies):
    make_deal(rep_a, "100", close=D(2026, 5, 1), currency="GBP")
    with pytest.raises(MissingRate) as exc:
        selectors.forecast(rep_a, Q2, today=TODAY)
    assert exc.value.message == "No exchange rate for GBP on or before 2026-05-01"


def test_history_method_uses_enough_closed_deals(make_deal, rep_a, admin_user):
    qualify = make_deal.stages["Qualify"]
    from crm.records.models import StageChange

    for i in range(10):  # 10 closed deals passed Qualify: 4 won → 40 %
        d = make_deal(rep_a, "1", stage="Won" if i < 4 else "Lost", close=D(2025, 1, 1))
        StageChange.objects.create(deal=d, to_stage=qualify)
    make_deal(rep_a, "1000", stage="Qualify", close=D(2026, 5, 15))
    t = selectors.forecast(admin_user, Q2, today=TODAY)["total"]
    assert (t["stage"], t["history"]) == (Decimal("100.00"), Decimal("400.00"))


def test_quota_attainment_gap_and_team_rollup(world, admin_user, manager, rep_a, rep_b, team):
    quotas.quota_set(actor=manager, period=Q2, user_id=rep_a.pk, amount=Decimal("1000"))
    quotas.quota_set(actor=manager, period=Q2, user_id=manager.pk, amount=Decimal("500"))
    with pytest.raises(PermissionDenied):
        quotas.quota_set(actor=manager, period=Q2, user_id=rep_b.pk, amount=Decimal("1"))
    with pytest.raises(PermissionDenied):
        quotas.quota_set(actor=rep_a, period=Q2, user_id=rep_a.pk, amount=Decimal("1"))
    f = selectors.forecast(admin_user, Q2, today=TODAY)
    east = next(t for t in f["teams"] if t["name"] == "East")
    rep = next(r for r in east["reps"] if r["id"] == rep_a.pk)
    assert fig(rep, "quota", "attainment", "gap", "attainment_pct") == (
        Decimal("1000"),
        Decimal("550.00"),
        Decimal("450.00"),
        Decimal("55.0"),
    )
    assert east["quota"] == Decimal("1500")  # rolls up: no team row
    quotas.quota_set(actor=admin_user, period=Q2, team_id=team.pk, amount=Decimal("5000"))
    f = selectors.forecast(admin_user, Q2, today=TODAY)
    assert next(t for t in f["teams"] if t["name"] == "East")["quota"] == Decimal("5000")
    quotas.quota_set(actor=admin_user, period=Q2, team_id=team.pk, amount=None, rolls_up=True)
    f = selectors.forecast(admin_user, Q2, today=TODAY)
    assert next(t for t in f["teams"] if t["name"] == "East")["quota"] == Decimal("1500")
    # rep_b sees no one else's quota
    f = selectors.forecast(rep_b, Q2, today=TODAY)
    assert [r["id"] for t in f["teams"] for r in t["reps"]] == [rep_b.pk]


def test_quota_validation(rep_a, admin_user, team):
    with pytest.raises(ValidationFailed) as exc:
        quotas.quota_set(actor=admin_user, period=Q2, user_id=rep_a.pk, amount=Decimal("-1"))
    assert "amount" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        quotas.quota_set(actor=admin_user, period=Q2, user_id=rep_a.pk, amount=Decimal("1"), rolls_up=True)
    assert "rolls_up" in exc.value.fields
    with pytest.raises(ValidationFailed):
        quotas.quota_set(actor=admin_user, period=Q2, user_id=rep_a.pk, team_id=team.pk, amount=Decimal("1"))


def test_adjustments_keep_history(world, manager, rep_a, rep_b, admin_user):
    quotas.adjustment_add(actor=manager, rep_id=rep_a.pk, period=Q2, amount=Decimal("2000"), note="Big renewal")
    quotas.adjustment_add(actor=manager, rep_id=rep_a.pk, period=Q2, amount=Decimal("2100"), note="Upsell")
    with pytest.raises(PermissionDenied):
        quotas.adjustment_add(actor=rep_a, rep_id=rep_a.pk, period=Q2, amount=Decimal("1"), note="me")
    with pytest.raises(ValidationFailed) as exc:
        quotas.adjustment_add(actor=manager, rep_id=rep_a.pk, period=Q2, amount=Decimal("1"), note=" ")
    assert "note" in exc.value.fields
    history = quotas.adjustment_history(rep_a, rep_a.pk, Q2)
    assert [(a.amount, a.note, a.created_by_id) for a in history] == [
        (Decimal("2100.00"), "Upsell", manager.pk),
        (Decimal("2000.00"), "Big renewal", manager.pk),
    ]
    with pytest.raises(NotFound):
        quotas.adjustment_history(rep_b, rep_a.pk, Q2)
    f = selectors.forecast(admin_user, Q2, today=TODAY)
    rep = next(r for t in f["teams"] for r in t["reps"] if r["id"] == rep_a.pk)
    assert rep["adjusted"]["amount"] == Decimal("2100.00")


def test_a_role_with_hidden_amounts_has_no_forecast(world, rep_a, api):
    from crm.access.models import Role
    from crm.access.policy import forget

    Role.objects.filter(pk=rep_a.profile.role_id).update(field_access={"deal": {"amount": "hidden"}})
    forget(rep_a)
    with pytest.raises(PermissionDenied):
        selectors.forecast(rep_a, Q2, today=TODAY)
    assert api(rep_a).get("/forecast", {"period": "FY2026-Q2"}).status_code == 403
    assert api(rep_a).get("/forecast/deals", {"period": "FY2026-Q2"}).status_code == 403

"""Refusals of plans, assignments, splits and adjustments (422 with the field), and who may do what."""

from decimal import Decimal

import pytest

from crm.commissions import plans, statements
from crm.commissions.models import CommissionPlan, DealSplit
from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.commissions.conftest import D

pytestmark = pytest.mark.django_db


def refused(fn, *args, **kwargs) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        fn(*args, **kwargs)
    return exc.value.fields


def test_splits_summing_to_90_are_refused(rep_a, rep_b, won, admin_user):
    deal = won(rep_a, "1000", D(2026, 5, 3))
    fields = refused(
        plans.splits_set,
        deal,
        actor=admin_user,
        splits=[{"user_id": rep_a.pk, "percent": "50"}, {"user_id": rep_b.pk, "percent": "40"}],
    )
    assert fields == {"splits": "The shares sum to 90 %; they must sum to 100 %."}
    assert not DealSplit.objects.exists()


def test_split_rows_are_checked_one_by_one(rep_a, won, admin_user):
    deal = won(rep_a, "1000", D(2026, 5, 3))
    fields = refused(
        plans.splits_set,
        deal,
        actor=admin_user,
        splits=[
            {"user_id": rep_a.pk, "percent": 50.0},
            {"user_id": rep_a.pk, "percent": "-5"},
            {"user_id": 99999, "percent": "0"},
        ],
    )
    assert set(fields) == {
        "splits.0.percent",
        "splits.1.user_id",
        "splits.1.percent",
        "splits.2.user_id",
        "splits.2.percent",
    }


def test_splits_replace_and_clear(rep_a, rep_b, won, admin_user):
    deal = won(rep_a, "1000", D(2026, 5, 3))
    plans.splits_set(
        deal, actor=admin_user, splits=[{"user_id": rep_a.pk, "percent": "70"}, {"user_id": rep_b.pk, "percent": "30"}]
    )
    assert sorted(DealSplit.objects.values_list("percent", flat=True)) == [Decimal("30"), Decimal("70")]
    plans.splits_set(deal, actor=admin_user, splits=[])
    assert not DealSplit.objects.exists()


def test_a_rep_may_not_split_someone_elses_deal(rep_a, rep_b, won):
    deal = won(rep_b, "1000", D(2026, 5, 3))
    with pytest.raises(NotFound):
        plans.splits_set(deal, actor=rep_a, splits=[{"user_id": rep_a.pk, "percent": "100"}])


def test_negative_rate_and_other_bad_plans_are_refused(admin_user):
    fields = refused(
        plans.plan_create,
        actor=admin_user,
        data={
            "name": "Bad",
            "base_rate": "-1",
            "cap": "-5",
            "clawback_days": -1,
            "basis": "vibes",
            "tiers": [{"threshold": "100", "rate": "8"}, {"threshold": "100", "rate": "101"}],
            "category_rates": [{"category": "", "rate": 0.5}],
        },
    )
    assert set(fields) == {
        "base_rate",
        "cap",
        "clawback_days",
        "basis",
        "tiers.1.threshold",
        "tiers.1.rate",
        "category_rates.0.category",
        "category_rates.0.rate",
    }
    assert not CommissionPlan.objects.exists()


def test_only_admins_write_plans(manager):
    with pytest.raises(PermissionDenied):
        plans.plan_create(actor=manager, data={"name": "Mine", "base_rate": "50"})


def test_overlapping_assignments_are_refused(rep_a, plan, assign, admin_user):
    p = plan("Standard", 5)
    assign(rep_a, p, "FY2026-Q2")  # April to June 2026
    fields = refused(plans.assignment_create, actor=admin_user, rep_id=rep_a.pk, plan_id=p.pk, period="2026-05")
    assert "overlaps 2026-05" in fields["period"]
    assign(rep_a, p, "2026-07")  # next to it, not over it


def test_a_manager_assigns_their_team_not_others_nor_themselves(rep_a, rep_b, manager, plan):
    p = plan("Standard", 5)
    plans.assignment_create(actor=manager, rep_id=rep_a.pk, plan_id=p.pk, period="2026-05")
    with pytest.raises(NotFound):
        plans.assignment_create(actor=manager, rep_id=rep_b.pk, plan_id=p.pk, period="2026-05")
    with pytest.raises(PermissionDenied):
        plans.assignment_create(actor=manager, rep_id=manager.pk, plan_id=p.pk, period="2026-05")


def test_bad_adjustments_are_refused(rep_a, manager, plan, assign):
    assign(rep_a, plan("Standard", 5))
    fields = refused(statements.adjustment_add, actor=manager, rep_id=rep_a.pk, period="2026-05", amount=1.5, note=" ")
    assert set(fields) == {"amount", "note"}
    assert refused(
        statements.adjustment_add, actor=manager, rep_id=rep_a.pk, period="2026-06", amount="5", note="x"
    ) == {"period": f"User {rep_a.pk} has no commission plan for 2026-06."}


def test_who_reads_which_statements(rep_a, rep_b, manager, admin_user, readonly, plan, assign, won):
    p = plan("Standard", 5)
    for rep in (rep_a, rep_b):
        assign(rep, p)
        statements.recalculate(actor=admin_user, rep_id=rep.pk, period="2026-05")
    assert {s.rep for s in statements.latest_visible(rep_a)} == {rep_a}
    assert {s.rep for s in statements.latest_visible(manager)} == {rep_a}  # rep_a is in the manager's team
    assert {s.rep for s in statements.latest_visible(admin_user)} == {rep_a, rep_b}
    with pytest.raises(PermissionDenied):
        statements.latest_visible(readonly)
    with pytest.raises(PermissionDenied):  # a rep does not adjust their own pay
        statements.adjustment_add(actor=rep_a, rep_id=rep_a.pk, period="2026-05", amount="5", note="me")

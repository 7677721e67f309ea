"""/commissions/plans/: admins create and edit plans through the forms (the service's refusals beside
the fields, nothing half-written), managers assign their reps, reps read only their own plan."""

from decimal import Decimal

import pytest

from crm.audit.models import ObjectChange
from crm.commissions.models import CommissionPlan, PlanAssignment

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Accelerated",
    "basis": "deals",
    "base_rate": "5",
    "cap": "",
    "clawback_days": "60",
    "tier_rows": "3",
    "tier_threshold_0": "100",
    "tier_rate_0": "8",
    "tier_threshold_1": "",
    "tier_rate_1": "",
    "tier_threshold_2": "150",
    "tier_rate_2": "10",
    "cat_rows": "2",
    "cat_category_0": "Services",
    "cat_rate_0": "3",
}


def test_admin_creates_a_tiered_plan_then_edits_it(web, admin_user):
    client = web(admin_user)
    assert client.get("/commissions/plans/new/").status_code == 200
    created = client.post("/commissions/plans/new/", FORM)
    plan = CommissionPlan.objects.get(name="Accelerated")
    assert created.status_code == 302 and created["Location"] == f"/commissions/plans/{plan.pk}/"
    assert [(t.threshold, t.rate) for t in plan.tiers.all()] == [(100, 8), (150, 10)]  # the blank row left out
    assert [(c.category, c.rate) for c in plan.category_rates.all()] == [("Services", 3)]
    assert (plan.base_rate, plan.cap, plan.clawback_days) == (5, None, 60)
    assert ObjectChange.objects.filter(object_type="commission_plan", object_id=str(plan.pk)).count() == 1

    form = client.get(f"/commissions/plans/{plan.pk}/edit/").content.decode()
    assert 'value="150"' in form and 'value="Services"' in form  # the plan's terms, normalized
    edit = {**FORM, "cap": "2500.50", "tier_rows": "1", "tier_threshold_0": "120", "cat_rows": "0"}
    assert client.post(f"/commissions/plans/{plan.pk}/edit/", edit).status_code == 302
    plan.refresh_from_db()
    assert plan.cap == Decimal("2500.50") and [t.threshold for t in plan.tiers.all()] == [120]
    assert not plan.category_rates.exists()
    page = client.get(f"/commissions/plans/{plan.pk}/").content.decode()
    assert "Above 120 % of quota" in page and "2500.50" in page


def test_bad_input_shows_errors_beside_fields_and_writes_nothing(web, admin_user):
    client = web(admin_user)
    bad = {
        **FORM,
        "name": " ",
        "base_rate": "abc",
        "clawback_days": "-3",
        "tier_threshold_2": "100",  # the second filled tier starts where the first does
        "cat_rate_0": "101",
    }
    page = client.post("/commissions/plans/new/", bad)
    body = page.content.decode()
    assert page.status_code == 422 and not CommissionPlan.objects.exists()
    for message in ("A plan needs a name.", "Not a number.", "A whole number of days", "Two tiers start at 100"):
        assert message in body
    assert "Between 0 and 100." in body
    assert 'value="abc"' in body  # what was typed stays in the form
    client.post("/commissions/plans/new/", FORM)
    taken = client.post("/commissions/plans/new/", {**FORM, "name": "accelerated"})
    assert taken.status_code == 422 and "A plan named accelerated exists already." in taken.content.decode()


def test_rep_cannot_edit_and_sees_only_own_plan(web, admin_user, rep_a, rep_b, plan, assign):
    mine, other = plan("Mine", 5, tiers=[(100, 8)]), plan("Theirs", 7)
    assign(rep_a, mine)
    assign(rep_b, other)
    client = web(rep_a)
    assert client.get("/commissions/plans/new/").status_code == 403
    assert client.post("/commissions/plans/new/", FORM).status_code == 403
    assert client.get(f"/commissions/plans/{mine.pk}/edit/").status_code == 403
    assert client.post(f"/commissions/plans/{mine.pk}/edit/", {**FORM, "base_rate": "50"}).status_code == 403
    assert client.post(f"/commissions/plans/{mine.pk}/delete/").status_code == 403
    mine.refresh_from_db()
    assert mine.base_rate == 5 and CommissionPlan.objects.count() == 2

    listed = client.get("/commissions/plans/").content.decode()
    assert "Mine" in listed and "Theirs" not in listed and "New plan" not in listed
    assert "Put a rep on a plan" not in listed
    own = client.get(f"/commissions/plans/{mine.pk}/").content.decode()
    assert "8 %" in own and "Edit" not in own
    assert client.get(f"/commissions/plans/{other.pk}/").status_code == 404
    assert "Theirs" not in client.get("/commissions/").content.decode()


def test_manager_assigns_own_team_only(web, manager, rep_a, rep_b, plan):
    standard = plan("Standard", 5)
    client = web(manager)
    page = client.get("/commissions/plans/").content.decode()
    assert "Standard" in page and "New plan" not in page and "Put a rep on a plan" in page
    assert client.get("/commissions/plans/new/").status_code == 403  # plans are admins'
    bad = client.post("/commissions/assignments/", {"rep_id": rep_a.pk, "plan_id": standard.pk, "period": "May"})
    assert bad.status_code == 422 and "is not a period" in bad.content.decode()
    ok = client.post("/commissions/assignments/", {"rep_id": rep_a.pk, "plan_id": standard.pk, "period": "2026-05"})
    assert ok.status_code == 302
    row = PlanAssignment.objects.get(rep=rep_a)
    clash = client.post("/commissions/assignments/", {"rep_id": rep_a.pk, "plan_id": standard.pk, "period": "FY2026"})
    assert clash.status_code == 422 and "overlaps" in clash.content.decode()
    other = client.post("/commissions/assignments/", {"rep_id": rep_b.pk, "plan_id": standard.pk, "period": "2026-05"})
    assert other.status_code == 404 and not PlanAssignment.objects.filter(rep=rep_b).exists()
    no_plan = client.post("/commissions/assignments/", {"rep_id": rep_a.pk, "plan_id": "x", "period": "2026-06"})
    assert no_plan.status_code == 422 and "Choose a plan." in no_plan.content.decode()
    assert web(rep_a).post(f"/commissions/assignments/{row.pk}/delete/").status_code == 403
    assert client.post(f"/commissions/assignments/{row.pk}/delete/").status_code == 302
    assert not PlanAssignment.objects.exists()


def test_assigned_plan_is_not_deleted(web, admin_user, rep_a, plan, assign):
    standard = plan("Standard", 5)
    assign(rep_a, standard)
    page = web(admin_user).post(f"/commissions/plans/{standard.pk}/delete/", follow=True)
    assert "remove the assignments first" in page.content.decode() and CommissionPlan.objects.count() == 1


def test_plan_names_are_escaped(web, admin_user):
    web(admin_user).post("/commissions/plans/new/", {**FORM, "name": "<b>x</b>"})
    body = web(admin_user).get("/commissions/plans/").content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in body and "<b>x</b>" not in body

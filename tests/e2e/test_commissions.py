"""A manager adjusts a rep's commission statement in a real browser (CSRF on, the form as rendered):
the page shows version 2 with the manual line and the new total; the rep then sees it read-only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.commissions import plans, statements
from crm.records.models import DealStatus
from tests.e2e.conftest import shot
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_manager_adjusts_a_statement(open_page, manager, rep_a, admin_user, pipeline):
    plan = plans.plan_create(actor=admin_user, data={"name": "Standard", "base_rate": "5"})
    plans.assignment_create(actor=admin_user, rep_id=rep_a.pk, plan_id=plan.pk, period="2026-05")
    DealFactory(
        name="Acme renewal",
        owner=rep_a,
        pipeline=pipeline,
        stage=pipeline.stages.get(is_won=True),
        status=DealStatus.WON,
        amount=Decimal("2000"),
        closed_at=timezone.make_aware(dt.datetime(2026, 5, 4, 12)),
    )
    first, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")

    page = open_page(manager)
    page.goto("/commissions/")
    page.get_by_role("link", name="2026-05").click()
    expect(page.locator("#lines")).to_contain_text("base rate: 5 %")
    page.get_by_label("Amount (negative to deduct)", exact=True).fill("-15.25")
    page.get_by_label("Note (why)", exact=True).fill("Discount given without approval")
    page.get_by_role("button", name="Add adjustment").click()
    expect(page.locator("#lines")).to_contain_text("Discount given without approval")
    expect(page.locator("#totals")).to_contain_text("84.75")  # 5 % of 2,000 = 100, less 15.25
    expect(page.locator("#versions")).to_contain_text("version 1")
    shot(page, "commission-statement")

    rep_page = open_page(rep_a)
    rep_page.goto(f"/commissions/statements/{first.pk}/")
    expect(rep_page.locator("#versions")).to_contain_text("version 2")
    expect(rep_page.get_by_role("button", name="Add adjustment")).to_have_count(0)


def test_admin_creates_a_tiered_plan_and_a_manager_sees_it(open_page, admin_user, manager, rep_a):
    """The admin fills the plan form as rendered (a blank row between tiers is left out), the manager
    then finds the plan with its tiers and puts a rep on it."""
    page = open_page(admin_user)
    page.goto("/commissions/")
    page.get_by_role("link", name="Plans and assignments").click()
    page.get_by_role("link", name="New plan").click()
    page.get_by_label("Name", exact=True).fill("Accelerated")
    page.get_by_label("Base rate (%)").fill("5")
    page.get_by_label("Tier 1 threshold").fill("100")
    page.get_by_label("Tier 1 rate").fill("abc")
    page.get_by_role("button", name="Create plan").click()
    expect(page.locator("#tiers")).to_contain_text("Not a number.")
    page.get_by_label("Tier 1 rate").fill("8")
    page.get_by_label("Tier 3 threshold").fill("150")  # tier 2 stays blank
    page.get_by_label("Tier 3 rate").fill("10")
    page.get_by_role("button", name="Create plan").click()
    expect(page.locator("#terms")).to_contain_text("Above 100 % of quota")
    expect(page.locator("#terms")).to_contain_text("Above 150 % of quota")

    boss_view = open_page(manager)
    boss_view.goto("/commissions/plans/")
    expect(boss_view.locator("#plans")).to_contain_text("8 % above 100 % of quota; 10 % above 150 % of quota")
    boss_view.get_by_label("Rep", exact=True).select_option(label=rep_a.get_username())
    boss_view.get_by_label("Plan", exact=True).select_option(label="Accelerated")
    boss_view.get_by_label("Period", exact=True).fill("2026-05")
    boss_view.get_by_role("button", name="Assign").click()
    expect(boss_view.locator("#assignments")).to_contain_text("Accelerated")
    shot(boss_view, "commission-plans")

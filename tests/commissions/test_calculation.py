"""Hand-computed statements. Every figure below is worked out in the comment beside it."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.commissions import plans, statements
from crm.commissions.models import Statement
from crm.core import clock
from crm.orders.services.orders import order_create, order_from_deal, order_set_status
from crm.products.models import Product
from tests.commissions.conftest import D, at

pytestmark = pytest.mark.django_db


def lines_of(statement):
    return [(x.kind, x.commission, x.rule) for x in statement.lines.order_by("position")]


def test_tier_boundary_exactly_at_100_percent(rep_a, plan, assign, won, admin_user):
    # Quota 10,000; 5 % up to 100 %, 8 % above. 6,000 + 4,000 reach exactly 100 %: all at 5 %.
    p = plan("Standard", 5, tiers=[(100, 8)])
    assign(rep_a, p, "2026-05", quota="10000")
    won(rep_a, "6000", D(2026, 5, 3))
    won(rep_a, "4000", D(2026, 5, 10))
    s, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert s.attainment == Decimal("100.00")
    assert lines_of(s) == [
        ("deal", Decimal("300.00"), "tier 1: 5 % up to 100 % of quota"),  # 6,000 × 5 %
        ("deal", Decimal("200.00"), "tier 1: 5 % up to 100 % of quota"),  # 4,000 × 5 %: ends exactly at 100 %
    ]
    assert s.total == Decimal("500.00")

    # One more deal of 1,000 lies wholly above 100 %: 8 % of it = 80.
    won(rep_a, "1000", D(2026, 5, 20))
    s, created = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert created and s.version == 2
    assert lines_of(s)[2] == ("deal", Decimal("80.00"), "tier 2: 8 % above 100 % of quota")
    assert (s.total, s.attainment) == (Decimal("580.00"), Decimal("110.00"))


def test_a_credit_crossing_the_threshold_is_cut_at_it(rep_a, plan, assign, won, admin_user):
    p = plan("Standard", 5, tiers=[(100, 8)])
    assign(rep_a, p, "2026-05", quota="10000")
    won(rep_a, "6000", D(2026, 5, 3))
    won(rep_a, "5000", D(2026, 5, 10))  # 4,000 below 100 % (200) + 1,000 above (80) = 280
    s, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert lines_of(s)[1] == (
        "deal",
        Decimal("280.00"),
        "tier 1: 5 % up to 100 % of quota on 4,000.00; tier 2: 8 % above 100 % of quota on 1,000.00",
    )
    assert s.total == Decimal("580.00")


def test_a_deal_split_across_two_reps_on_two_plans(rep_a, rep_b, plan, assign, won, admin_user, rates):
    # 10,000 EUR at 1.10 = 11,000 USD. rep_a 60 % = 6,600 on "Hunters" (5 % to 100 % of a 10,000 quota,
    # then 8 %): 6,600 × 5 % = 330. rep_b 40 % = 4,400 on "Farmers" (flat 10 %, no quota): 440.
    assign(rep_a, plan("Hunters", 5, tiers=[(100, 8)]), quota="10000")
    assign(rep_b, plan("Farmers", 10))
    deal = won(rep_a, "10000", D(2026, 5, 12), currency="EUR")
    plans.splits_set(
        deal, actor=admin_user, splits=[{"user_id": rep_a.pk, "percent": "60"}, {"user_id": rep_b.pk, "percent": "40"}]
    )
    a, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    b, _ = statements.recalculate(actor=admin_user, rep_id=rep_b.pk, period="2026-05")
    line_a, line_b = a.lines.get(), b.lines.get()
    assert (line_a.base_amount, line_a.split_percent, line_a.commission) == (Decimal("11000.00"), 60, Decimal("330.00"))
    assert (line_b.base_amount, line_b.split_percent, line_b.commission) == (Decimal("11000.00"), 40, Decimal("440.00"))
    assert line_a.rule == "tier 1: 5 % up to 100 % of quota"
    assert line_b.rule == "base rate: 10 %"
    assert (a.credited, a.attainment, b.credited, b.attainment) == (
        Decimal("6600.00"),
        Decimal("66.00"),
        Decimal("4400.00"),
        None,
    )


def test_clawback_of_a_period_1_deal_lands_in_period_2(rep_a, plan, assign, won, admin_user, customer):
    # Won 20 May (May: 5 % of 2,000 = 100); its order cancelled 10 June, 21 days later, inside a
    # 30-day window: June's statement takes the 100 back. May's statement is not touched.
    p = plan("Standard", 5, clawback_days=30)
    assign(rep_a, p, "2026-05")
    assign(rep_a, p, "2026-06")
    deal = won(rep_a, "2000", D(2026, 5, 20))
    deal.company = customer
    deal.save()
    order = order_from_deal(deal, admin_user).obj
    may, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    with clock.at(at(D(2026, 6, 10))):
        order_set_status(order, actor=admin_user, status="cancelled")
    june, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-06")
    assert may.total == Decimal("100.00")
    assert lines_of(june) == [
        (
            "clawback",
            Decimal("-100.00"),
            "clawback: cancelled 21 days after the win (window 30 days); takes back what 2026-05 paid",
        ),
    ]
    assert june.clawbacks == june.total == Decimal("-100.00")
    again, created = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert (again.pk, created, again.total) == (may.pk, False, Decimal("100.00"))
    assert order.clawbacks.get().settled_at is not None


def test_no_clawback_outside_the_window(rep_a, plan, assign, won, admin_user, customer):
    p = plan("Short window", 5, clawback_days=10)
    assign(rep_a, p, "2026-05")
    assign(rep_a, p, "2026-06")
    deal = won(rep_a, "2000", D(2026, 5, 20))
    deal.company = customer
    deal.save()
    order = order_from_deal(deal, admin_user).obj
    with clock.at(at(D(2026, 6, 10))):  # 21 days > 10
        order_set_status(order, actor=admin_user, status="returned")
    june, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-06")
    assert lines_of(june) == [] and june.total == 0


def test_cap_is_applied_last(rep_a, plan, assign, won, admin_user, manager):
    # 5 % of 10,000 = 500, plus a manager's 50 = 550; the cap of 400 takes it to 400.
    assign(rep_a, plan("Capped", 5, cap="400"))
    won(rep_a, "10000", D(2026, 5, 3))
    s, _ = statements.adjustment_add(actor=manager, rep_id=rep_a.pk, period="2026-05", amount="50", note="Spiff")
    assert (s.earned, s.adjustments, s.before_cap, s.total) == (
        Decimal("500.00"),
        Decimal("50.00"),
        Decimal("550.00"),
        Decimal("400.00"),
    )
    assert s.cap_note == "cap applied last: 550.00 capped to 400.00"
    assert lines_of(s)[1][0:2] == ("adjustment", Decimal("50.00"))


def test_category_rate_from_order_lines(rep_a, plan, assign, admin_user, customer):
    # An orders plan: 5 % base, Hardware 10 %. One order: 1,000 of Hardware (100) and 3,000 of
    # services (150) = 250. The 4,000 all count toward attainment.
    p = plan("Orders", 5, basis="orders", category_rates=[{"category": "Hardware", "rate": "10"}])
    assign(rep_a, p, "2026-05", quota="100000")
    box = Product.objects.create(sku="BOX", name="Box", category="Hardware")
    order_create(
        actor=admin_user,
        data={
            "company_id": customer.pk,
            "order_date": D(2026, 5, 4),
            "lines": [
                {"product_id": box.pk, "quantity": "1", "unit_price": "1000"},
                {"description": "Set-up", "quantity": "1", "unit_price": "3000"},
            ],
        },
    )
    s, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert lines_of(s) == [
        (
            "order",
            Decimal("250.00"),
            "tier 1: 5 % on 3,000.00; category Hardware: 10 % (instead of the tiers) on 1,000.00",
        )
    ]
    assert (s.credited, s.attainment) == (Decimal("4000.00"), Decimal("4.00"))


def test_recalculation_writes_version_2_only_when_something_changed(rep_a, plan, assign, won, admin_user):
    assign(rep_a, plan("Standard", 5))
    deal = won(rep_a, "1000", D(2026, 5, 3))
    first, created = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert (first.version, created, first.total) == (1, True, Decimal("50.00"))
    same, created = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert (same.pk, created) == (first.pk, False)
    deal.amount = Decimal("3000")
    deal.save()
    second, created = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert (second.version, created, second.total) == (2, True, Decimal("150.00"))
    assert Statement.objects.get(pk=first.pk).total == Decimal("50.00")  # the old version is kept
    assert Statement.objects.filter(rep=rep_a).count() == 2


def test_deals_outside_the_period_or_of_others_do_not_count(rep_a, rep_b, plan, assign, won, admin_user):
    assign(rep_a, plan("Standard", 5))
    won(rep_a, "1000", D(2026, 4, 30))
    won(rep_a, "1000", D(2026, 6, 1))
    won(rep_b, "1000", D(2026, 5, 5))
    s, _ = statements.recalculate(actor=admin_user, rep_id=rep_a.pk, period="2026-05")
    assert lines_of(s) == [] and s.total == 0


def test_statement_follows_the_deal_in_the_background(
    rep_a, plan, assign, pipeline, admin_user, django_capture_on_commit_callbacks
):
    """Winning a deal through the service enqueues the recalculation; the job writes the statement."""
    from crm.automation.jobs import run_due
    from crm.records.services.deals import deal_create, deal_move_stage

    today = dt.date.today()
    assign(rep_a, plan("Standard", 5), period=today.strftime("%Y-%m"))
    with django_capture_on_commit_callbacks(execute=True):
        deal = deal_create(
            actor=admin_user, data={"name": "Big", "amount": "2000", "owner_id": rep_a.pk, "pipeline": pipeline.pk}
        ).obj
        deal_move_stage(deal, pipeline.stages.get(is_won=True), actor=admin_user)
    run_due()
    s = Statement.objects.get(rep=rep_a)
    assert (s.version, s.total, s.created_by) == (1, Decimal("100.00"), None)


def test_a_cancellation_recalculates_the_later_period_in_the_background(
    rep_a, plan, assign, won, admin_user, customer, django_capture_on_commit_callbacks
):
    from crm.automation.jobs import run_due

    p = plan("Standard", 5, clawback_days=30)
    assign(rep_a, p, "2026-05")
    assign(rep_a, p, "2026-06")
    deal = won(rep_a, "2000", D(2026, 5, 20))
    deal.company = customer
    deal.save()
    order = order_from_deal(deal, admin_user).obj
    with django_capture_on_commit_callbacks(execute=True), clock.at(at(D(2026, 6, 10))):
        order_set_status(order, actor=admin_user, status="cancelled")
    run_due()
    june = Statement.objects.get(rep=rep_a, period_key="2026-06")
    assert (june.version, june.total, june.created_by) == (1, Decimal("-100.00"), None)
    may = Statement.objects.get(rep=rep_a, period_key="2026-05")  # the deal's own period, recalculated too
    assert (may.version, may.total) == (1, Decimal("100.00"))

"""Order services: totals from the quotes' engine, bad input refused with field paths, status changes
and clawback marks, a won deal's order, who sees which orders, purchase stats."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from crm.orders.models import Clawback, Order, PurchaseStats
from crm.orders.services.orders import (
    order_create,
    order_create_from_lines,
    order_delete,
    order_from_deal,
    order_set_status,
    order_update,
)
from crm.records.services.deals import deal_move_stage
from tests.factories import CompanyFactory, DealFactory
from tests.orders.conftest import line

pytestmark = pytest.mark.django_db


def test_create_computes_totals_per_line_with_the_quote_engine(rep_a, acme):
    lines = [
        line(quantity="3", unit_price="19.99", discount_percent="10", tax_rate="20"),
        line(description="Setup", quantity="1", unit_price="100", tax_rate="0"),
    ]
    order = order_create(actor=rep_a, data={"company_id": acme.pk, "currency": "EUR", "lines": lines}).obj
    # 3 × 19.99 = 59.97, −10 % = 5.997 → 6.00, net 53.97, tax 20 % = 10.794 → 10.79
    assert order.subtotal == Decimal("159.97") and order.discount_total == Decimal("6.00")
    assert order.tax_total == Decimal("10.79") and order.total == Decimal("164.76")
    first, second = order.lines.all()
    assert (first.net, first.tax, first.total) == (Decimal("53.97"), Decimal("10.79"), Decimal("64.76"))
    assert second.total == Decimal("100.00")
    assert order.number == f"ORD-{order.pk:06d}" and order.owner == rep_a and order.status == "confirmed"


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"quantity": "-1"}, "lines.0.quantity"),
        ({"unit_price": "-5"}, "lines.0.unit_price"),
        ({"discount_percent": "101"}, "lines.0.discount_percent"),
        ({"tax_rate": "150"}, "lines.0.tax_rate"),
        ({"quantity": "1.234"}, "lines.0.quantity"),
        ({"quantity": 1.5}, "lines.0.quantity"),  # a float: money is never binary floating point
        ({"description": "", "product_id": None}, "lines.0.description"),
    ],
)
def test_bad_lines_are_refused_with_their_path(rep_a, acme, bad, path):
    with pytest.raises(ValidationFailed) as exc:
        order_create(actor=rep_a, data={"company_id": acme.pk, "lines": [line(**bad)]})
    assert path in exc.value.fields
    assert not Order.objects.exists()


def test_a_credit_line_may_be_negative(rep_a, acme):
    lines = [line(), line(description="Returned widget", quantity="-1", is_credit=True)]
    order = order_create(actor=rep_a, data={"company_id": acme.pk, "lines": lines}).obj
    assert order.total == Decimal("10.00")


def test_unknown_or_disabled_currency_and_no_customer_are_refused(rep_a, acme):
    for currency in ("XYZ", "JPY"):  # JPY exists but is not enabled
        with pytest.raises(ValidationFailed) as exc:
            order_create(actor=rep_a, data={"company_id": acme.pk, "currency": currency, "lines": [line()]})
        assert currency in exc.value.fields["currency"]
    with pytest.raises(ValidationFailed) as exc:
        order_create(actor=rep_a, data={"lines": [line()]})
    assert "company_id" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        order_create(actor=rep_a, data={"company_id": acme.pk, "lines": []})
    assert "lines" in exc.value.fields


def test_update_replaces_lines_and_logs_them(rep_a, acme):
    order = order_create(actor=rep_a, data={"company_id": acme.pk, "lines": [line()]}).obj
    saved = order_update(order, actor=rep_a, data={"lines": [line(quantity="5")]}, version=order.version).obj
    assert saved.total == Decimal("50.00") and saved.lines.count() == 1 and saved.version == 2
    from crm.audit.models import ObjectChange

    change = ObjectChange.objects.filter(object_type="order", object_id=order.pk).order_by("-id").first()
    assert "lines" in change.changes and "total" in change.changes
    with pytest.raises(Conflict):
        order_update(saved, actor=rep_a, data={"notes": "x"}, version=1)


def test_cancelling_records_a_clawback_once_and_is_final(rep_a, acme, pipeline):
    deal = DealFactory(pipeline=pipeline, owner=rep_a, company=acme, amount=Decimal("500"))
    order = order_create(actor=rep_a, data={"company_id": acme.pk, "deal_id": deal.pk, "lines": [line()]}).obj
    order = order_set_status(order, actor=rep_a, status="fulfilled").obj
    assert not Clawback.objects.exists()
    order = order_set_status(order, actor=rep_a, status="cancelled").obj
    mark = Clawback.objects.get()
    assert (mark.deal, mark.order, mark.reason, mark.amount, mark.settled_at) == (
        deal,
        order,
        "cancelled",
        Decimal("20.00"),
        None,
    )
    assert order.cancelled_at is not None
    order_update(order, actor=rep_a, data={"notes": "refunded"})
    assert Clawback.objects.count() == 1
    with pytest.raises(ValidationFailed) as exc:
        order_set_status(order, actor=rep_a, status="paid")
    assert "status" in exc.value.fields


def test_returned_order_records_a_clawback(rep_a, acme):
    order = order_create(actor=rep_a, data={"company_id": acme.pk, "lines": [line()]}).obj
    order_set_status(order, actor=rep_a, status="returned")
    assert Clawback.objects.get().reason == "returned"


def test_won_deal_becomes_an_order_with_one_line(rep_a, acme, ann, pipeline):
    deal = DealFactory(pipeline=pipeline, owner=rep_a, company=acme, amount=Decimal("1234.50"), currency="EUR")
    deal.contacts.add(ann)
    with pytest.raises(ValidationFailed):
        order_from_deal(deal, rep_a)  # still open
    won = pipeline.stages.get(is_won=True)
    deal = deal_move_stage(deal, won, actor=rep_a).obj
    order = order_from_deal(deal, rep_a).obj
    assert (order.deal, order.company, order.contact, order.currency) == (deal, acme, ann, "EUR")
    assert order.total == Decimal("1234.50") and order.lines.get().description == deal.name
    with pytest.raises(Conflict):
        order_from_deal(deal, rep_a)


def test_accepted_quote_entry_point_copies_lines(rep_a, acme):
    lines = [line(tax_rate="10"), line(description="Other", unit_price="5")]
    order = order_create_from_lines(actor=rep_a, data={"company_id": acme.pk}, lines=lines).obj
    assert order.lines.count() == 2 and order.total == Decimal("32.00")


def test_reps_see_orders_of_records_they_see(rep_a, rep_b, acme, manager):
    mine = order_create(actor=rep_a, data={"company_id": acme.pk, "lines": [line()]}).obj
    other_company = CompanyFactory(name="Other", owner=rep_b)
    theirs = order_create(actor=rep_b, data={"company_id": other_company.pk, "lines": [line()]}).obj
    assert set(Order.objects.restrict(rep_a)) == {mine}
    assert set(Order.objects.restrict(rep_b)) == {theirs}
    assert set(Order.objects.restrict(manager)) == {mine}  # rep_a's team
    # rep_b may not use rep_a's company, nor change rep_a's order
    with pytest.raises(ValidationFailed):
        order_create(actor=rep_b, data={"company_id": acme.pk, "lines": [line()]})
    with pytest.raises(NotFound):
        order_update(mine, actor=rep_b, data={"notes": "x"})
    # An order rep_b owns on rep_a's company: rep_a reads it (the customer's history) but may not change it
    shared = order_create(actor=manager, data={"company_id": acme.pk, "owner_id": manager.pk, "lines": [line()]}).obj
    assert shared in Order.objects.restrict(rep_a) and shared not in Order.objects.restrict(rep_a, "change")
    with pytest.raises(PermissionDenied):
        order_update(shared, actor=rep_a, data={"notes": "x"})


def test_purchase_stats_follow_order_writes(rep_a, admin_user, acme, ann):
    data = {"company_id": acme.pk, "contact_id": ann.pk, "lines": [line()]}
    first = order_create(actor=rep_a, data={**data, "order_date": dt.date(2026, 2, 1)}).obj
    order_create(actor=rep_a, data={**data, "order_date": dt.date(2026, 3, 5), "currency": "EUR"})
    stats = PurchaseStats.objects.get(company=acme)
    # 20.00 USD + 20.00 EUR × 1.10
    assert (stats.order_count, stats.total_spent, stats.currency) == (2, Decimal("42.00"), "USD")
    assert (stats.first_order_date, stats.last_order_date) == (dt.date(2026, 2, 1), dt.date(2026, 3, 5))
    assert PurchaseStats.objects.get(contact=ann).order_count == 2
    order_set_status(first, actor=rep_a, status="cancelled")
    stats.refresh_from_db()
    assert (stats.order_count, stats.total_spent, stats.first_order_date) == (1, Decimal("22.00"), dt.date(2026, 3, 5))
    # A rate missing for the date: counted as unconverted, never a silent 1.0
    order_create(actor=rep_a, data={**data, "order_date": dt.date(2025, 6, 1), "currency": "GBP"})
    stats.refresh_from_db()
    assert (stats.order_count, stats.total_spent, stats.unconverted) == (2, Decimal("22.00"), 1)
    order_delete(Order.objects.get(currency="EUR"), actor=admin_user)  # reps may not delete orders
    stats.refresh_from_db()
    assert (stats.order_count, stats.total_spent) == (1, Decimal("0.00"))

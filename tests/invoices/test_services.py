"""Invoice services: create with payments, balance and status from the payments, record_payment,
update and delete, the bad input they refuse, and who sees which invoice."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.core.errors import NotFound, PermissionDenied, ValidationFailed
from crm.invoices.models import Invoice, Payment
from crm.invoices.services.invoices import invoice_create, invoice_delete, invoice_update
from crm.invoices.services.payments import record_payment
from tests.factories import CompanyFactory
from tests.invoices.conftest import invoice_data

pytestmark = pytest.mark.django_db


def test_balance_and_status_follow_the_payments(manager, acme, ann):
    inv = invoice_create(actor=manager, data=invoice_data(acme, contact_id=ann.pk, currency="EUR")).obj
    assert (inv.number, inv.status, inv.balance, inv.owner) == (
        f"INV-{inv.pk:06d}",
        "open",
        Decimal("100.00"),
        acme.owner,
    )
    inv = record_payment(inv, actor=manager, data={"amount": "40.00", "external_id": "P1", "method": "bank"}).obj
    assert (inv.status, inv.paid_total, inv.balance) == ("partially_paid", Decimal("40.00"), Decimal("60.00"))
    # The same payment sent again updates it, never doubles it
    inv = record_payment(inv, actor=manager, data={"amount": "50.00", "external_id": "P1"}).obj
    assert inv.payments.count() == 1 and inv.balance == Decimal("50.00")
    inv = record_payment(inv, actor=manager, data={"amount": "50.00", "date": dt.date(2026, 4, 2)}).obj
    assert (inv.status, inv.balance) == ("paid", Decimal("0.00"))
    assert Payment.objects.filter(invoice=inv, currency="EUR").count() == 2
    # Raising the amount reopens it as partially paid
    inv = invoice_update(inv, actor=manager, data={"amount": "120.00"}).obj
    assert (inv.status, inv.balance) == ("partially_paid", Decimal("20.00"))
    # Created with its payments at once
    paid = invoice_create(
        actor=manager, data=invoice_data(acme, status="paid", payments=[{"amount": "100", "external_id": "X"}])
    ).obj
    assert (paid.status, paid.balance) == ("paid", Decimal("0.00"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-5"}, "amount"),
        ({"amount": 10.5}, "amount"),  # a float: never money
        ({"amount": "1.234"}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"due_date": dt.date(2026, 2, 1)}, "due_date"),
        ({"company_id": None}, "company_id"),
        ({"status": "settled"}, "status"),
        ({"status": "paid"}, "status"),  # no payments say so
        ({"payments": [{"amount": "-1"}]}, "payments.0.amount"),
        ({"payments": [{"amount": "0"}]}, "payments.0.amount"),
        ({"payments": [{"amount": "10", "currency": "EUR"}]}, "payments.0.currency"),
        ({"payments": [{"amount": "150"}]}, "payments"),  # over the amount
        ({"status": "draft", "payments": [{"amount": "10"}]}, "payments"),
    ],
)
def test_bad_input_is_refused_naming_the_field(manager, acme, data, field):
    with pytest.raises(ValidationFailed) as exc:
        invoice_create(actor=manager, data=invoice_data(acme, **data))
    assert field in exc.value.fields, exc.value.fields
    assert not Invoice.objects.exists() and not Payment.objects.exists()


def test_a_payment_over_the_balance_is_refused_and_nothing_changes(manager, acme):
    inv = invoice_create(actor=manager, data=invoice_data(acme)).obj
    record_payment(inv, actor=manager, data={"amount": "70"})
    with pytest.raises(ValidationFailed) as exc:
        record_payment(inv, actor=manager, data={"amount": "30.01"})
    assert "exceed" in exc.value.fields["payment.amount"]
    inv.refresh_from_db()
    assert (inv.paid_total, inv.payments.count()) == (Decimal("70.00"), 1)
    with pytest.raises(ValidationFailed) as exc:
        invoice_update(inv, actor=manager, data={"amount": "50"})
    assert "payments" in exc.value.fields
    with pytest.raises(ValidationFailed):
        invoice_update(inv, actor=manager, data={"currency": "EUR"})  # it has USD payments


def test_void_is_final_and_takes_no_payments(manager, acme):
    inv = invoice_create(actor=manager, data=invoice_data(acme)).obj
    inv = invoice_update(inv, actor=manager, data={"status": "void"}).obj
    with pytest.raises(ValidationFailed):
        record_payment(inv, actor=manager, data={"amount": "10"})
    with pytest.raises(ValidationFailed):
        invoice_update(inv, actor=manager, data={"status": "open"})


def test_a_contact_alone_bills_its_company(manager, acme, ann):
    inv = invoice_create(actor=manager, data=invoice_data(acme, company_id=None, contact_id=ann.pk)).obj
    assert inv.company == acme


def test_reps_read_the_invoices_of_companies_they_see_only(admin_user, manager, rep_a, rep_b, acme):
    other = CompanyFactory(name="Other", owner=rep_b)  # rep_b is not in rep_a's team
    mine = invoice_create(actor=admin_user, data=invoice_data(acme, owner_id=admin_user.pk)).obj
    theirs = invoice_create(actor=admin_user, data=invoice_data(other, owner_id=admin_user.pk)).obj
    assert list(Invoice.objects.restrict(rep_a)) == [mine]
    assert list(Invoice.objects.restrict(rep_b)) == [theirs]
    with pytest.raises(PermissionDenied):  # reps read invoices; the accounting feed and managers write them
        record_payment(mine, actor=rep_a, data={"amount": "1"})
    with pytest.raises(NotFound):
        invoice_update(theirs, actor=manager, data={"notes": "x"})  # another team's customer
    with pytest.raises(PermissionDenied):
        invoice_create(actor=rep_a, data=invoice_data(acme))
    assert list(Invoice.objects.restrict(manager)) == [mine]  # the manager's team: rep_a's customers


def test_delete_removes_its_payments(manager, acme):
    inv = invoice_create(actor=manager, data=invoice_data(acme, payments=[{"amount": "5"}])).obj
    invoice_delete(inv, actor=manager)
    assert not Invoice.objects.exists() and not Payment.objects.exists()

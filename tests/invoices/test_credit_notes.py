"""Credit notes and refunds: a credit note (kind credit_note, a negative amount, linked to the invoice
it credits) lowers that invoice's balance; a refund (is_refund, a negative payment) raises it again.
Balances are computed by hand in each test. Bad input is a clear error that writes nothing: a credit
note over its invoice, a refund over what was paid, a negative amount without its flag."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from crm.core.errors import Conflict, ValidationFailed
from crm.dataio import importing
from crm.dataio.models import ImportRow
from crm.invoices.credit import credit
from crm.invoices.models import Invoice, Payment
from crm.invoices.services.invoices import invoice_create, invoice_delete, invoice_update
from crm.invoices.services.payments import record_payment
from tests.conftest import Api
from tests.invoices.conftest import invoice_data

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def note(actor, invoice, amount, **kw):
    data = invoice_data(invoice.company, amount=amount, kind="credit_note", credited_invoice_id=invoice.pk, **kw)
    return invoice_create(actor=actor, data=data).obj


def fresh(invoice):
    return Invoice.objects.get(pk=invoice.pk)


def test_a_credit_note_and_a_refund_move_the_balance(manager, acme):
    inv = invoice_create(actor=manager, data=invoice_data(acme, amount="100.00")).obj
    record_payment(inv, actor=manager, data={"amount": "40", "external_id": "p1"})
    cn = note(manager, inv, "-25.00")
    assert cn.number.startswith("CN-") and (cn.balance, cn.paid_total) == (0, 0)
    inv = fresh(inv)  # 100 − 40 paid − 25 credited = 35
    assert (inv.paid_total, inv.credited_total, inv.balance, inv.status) == (40, 25, Decimal("35.00"), "partially_paid")
    record_payment(inv, actor=manager, data={"amount": "35", "external_id": "p2"})
    inv = fresh(inv)  # 100 − 75 − 25 = 0: settled
    assert (inv.balance, inv.status) == (0, "paid")
    note(manager, inv, "-10.00")  # credited after payment: 100 − 75 − 35 = −10, in the customer's favour
    assert fresh(inv).balance == Decimal("-10.00")
    record_payment(inv, actor=manager, data={"amount": "-10", "is_refund": True, "external_id": "r1"})
    inv = fresh(inv)  # paid 75 − 10 refunded = 65; 100 − 65 − 35 = 0
    assert (inv.paid_total, inv.credited_total, inv.balance) == (65, 35, 0)


def test_the_company_card_counts_credits_and_lists_them(manager, acme):
    due = TODAY - dt.timedelta(days=10)
    late = invoice_create(
        actor=manager, data=invoice_data(acme, amount="200", issue_date=due - dt.timedelta(days=30), due_date=due)
    ).obj
    note(manager, late, "-50", issue_date=due - dt.timedelta(days=30), due_date=due)
    paid = invoice_create(actor=manager, data=invoice_data(acme, amount="80")).obj
    record_payment(paid, actor=manager, data={"amount": "80"})
    note(manager, paid, "-30", issue_date=TODAY, due_date=TODAY)
    record_payment(paid, actor=manager, data={"amount": "-20", "is_refund": True})
    card = credit(manager, acme)
    assert (card["owed"], card["overdue"], card["open_count"]) == (Decimal("150.00"), Decimal("150.00"), 1)
    assert card["in_favour"] == [{"currency": "USD", "amount": Decimal("10.00")}]  # 80 − 60 − 30 = −10
    assert [c.amount for c in card["credit_notes"]] == [Decimal("-30.00"), Decimal("-50.00")]  # newest first
    assert [r.amount for r in card["refunds"]] == [Decimal("-20.00")]
    client = Client()
    client.force_login(manager)
    page = client.get(f"/companies/{acme.pk}/credit/", HTTP_HX_REQUEST="true").content.decode()
    assert "Credit notes" in page and "Refunds" in page and " credited" in page and "In the customer" in page


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (lambda m, inv: note(m, inv, "-100.01"), "amount", "more than its amount"),
        (lambda m, inv: note(m, inv, "25"), "amount", "below zero"),
        (lambda m, inv: invoice_create(actor=m, data=invoice_data(inv.company, amount="-5")), "amount", "credit note"),
        (
            lambda m, inv: invoice_create(actor=m, data=invoice_data(inv.company, kind="credit_note", amount="-5")),
            "credited_invoice_id",
            "names the invoice",
        ),
        (lambda m, inv: note(m, inv, "-5", currency="EUR"), "currency", "USD"),
        (lambda m, inv: record_payment(inv, actor=m, data={"amount": "-5"}), "payment.amount", "refund"),
        (
            lambda m, inv: record_payment(inv, actor=m, data={"amount": "5", "is_refund": True}),
            "payment.amount",
            "below zero",
        ),
        (
            lambda m, inv: record_payment(inv, actor=m, data={"amount": "-31", "is_refund": True}),
            "payment.amount",
            "more than was paid",
        ),
    ],
)
def test_bad_credits_and_refunds_are_refused_and_write_nothing(manager, acme, make, field, words):
    inv = invoice_create(actor=manager, data=invoice_data(acme, amount="100.00")).obj
    record_payment(inv, actor=manager, data={"amount": "30"})
    before = (Invoice.objects.count(), Payment.objects.count(), fresh(inv).version)
    with pytest.raises(ValidationFailed) as exc:
        make(manager, fresh(inv))
    assert any(k.startswith(field.split(".")[0]) and words in m for k, m in exc.value.fields.items()), exc.value.fields
    assert (Invoice.objects.count(), Payment.objects.count(), fresh(inv).version) == before
    assert fresh(inv).balance == Decimal("70.00")


def test_a_second_credit_note_may_not_pass_the_invoice_and_deleting_restores(manager, acme):
    inv = invoice_create(actor=manager, data=invoice_data(acme, amount="100")).obj
    first = note(manager, inv, "-60")
    with pytest.raises(ValidationFailed) as exc:
        note(manager, inv, "-41")  # 60 + 41 > 100
    assert "total 101.00" in exc.value.fields["amount"]
    with pytest.raises(Conflict):
        invoice_delete(fresh(inv), actor=manager)  # its credit notes first
    invoice_update(first, actor=manager, data={"status": "void"})
    assert fresh(inv).balance == 100  # a void credit note credits nothing
    invoice_delete(fresh(first), actor=manager)
    invoice_delete(fresh(inv), actor=manager)
    assert not Invoice.objects.exists()


def test_the_feed_takes_credit_notes_by_the_invoice_external_id_idempotently(admin_user):
    api = Api(admin_user)
    body = {
        "customer": {"company_name": "Payer Ltd"},
        "amount": "300",
        "payments": [{"external_id": "pay-1", "amount": "300"}],
    }
    assert api._call("put", "/invoices/external/xero/INV-1", body).status_code == 201
    credit_body = {
        "customer": {"company_name": "Payer Ltd"},
        "amount": "-120",
        "kind": "credit_note",
        "credited_external_id": "INV-1",
    }
    for status in (201, 200):
        r = api._call("put", "/invoices/external/xero/CN-1", credit_body)
        assert r.status_code == status, r.content
    refund = {**body, "payments": [{"external_id": "ref-1", "amount": "-120", "is_refund": True}]}
    r = api._call("put", "/invoices/external/xero/INV-1", refund)
    assert r.status_code == 200, r.content
    got = r.json()  # 300 − (300 − 120) − 120 = 0
    assert (got["paid_total"], got["credited_total"], got["balance"]) == ("180.00", "120.00", "0.00")
    assert [p["is_refund"] for p in got["payments"]] == [False, True]
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    bad = api._call("put", "/invoices/external/xero/CN-2", {**credit_body, "amount": "-181"})
    assert bad.status_code == 422 and "amount" in bad.json()["error"]["fields"]
    unsigned = api._call("put", "/invoices/external/xero/X-3", {"customer": {"company_name": "P"}, "amount": "-1"})
    assert unsigned.status_code == 422 and "credit note" in unsigned.json()["error"]["fields"]["amount"]


def test_the_csv_import_takes_credit_notes_and_refunds(admin_user):
    header = "Invoice ID,Company,Amount,Type,Credits,Payment ID,Payment amount,Refund"
    rows = [
        "I-1,Payer Ltd,100,invoice,,p1,100,",
        "I-1,Payer Ltd,100,invoice,,r1,-30,yes",
        "C-1,Payer Ltd,-30,credit_note,I-1,,,",
        "C-2,Payer Ltd,-5,credit_note,NOPE,,,",  # no such invoice
        "I-2,Payer Ltd,-7,invoice,,,,",  # negative without the kind
    ]
    data = io.BytesIO(("\n".join([header, *rows]) + "\n").encode())
    batch = importing.run(data, actor=admin_user, object_type="invoices", file_name="inv.csv")
    assert (batch.counts["create"], batch.counts["error"]) == (3, 2)
    errors = {r.number: r.errors for r in ImportRow.objects.filter(batch=batch) if r.errors}
    assert "NOPE" in errors[5]["Credits"] and "credit note" in errors[6]["Amount"]
    inv = Invoice.objects.get(external_id="I-1")  # 100 − (100 − 30) − 30 = 0
    assert (inv.paid_total, inv.credited_total, inv.balance) == (70, 30, 0)
    importing.undo(batch, actor=admin_user)
    assert not Invoice.objects.exists()

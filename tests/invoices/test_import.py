"""The invoice import: one row per payment, the invoice's columns repeated, grouped by invoice id; a
group is all or nothing; preview (dry run) and undo as the other imports; the same file again with
updates matches the same invoice and payments instead of doubling them."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.dataio import importing, mapping
from crm.dataio.models import ImportRow
from crm.invoices.models import Invoice, Payment
from crm.records.models import Company, Contact
from tests.conftest import Api

pytestmark = pytest.mark.django_db

HEADER = "Invoice ID,Invoice date,Due date,Amount,Currency,Email,Company,Payment ID,Payment date,Paid,Method"
ROWS = [
    "I1,2026-03-01,2026-03-31,300.00,EUR,pay@example.com,Payer Ltd,P1,2026-03-05,100,bank",  # 2
    "I1,2026-03-01,2026-03-31,300.00,EUR,pay@example.com,Payer Ltd,P2,2026-03-09,50,card",  # 3
    "I2,2026-03-02,2026-04-01,80,USD,pay@example.com,Payer Ltd,,,,",  # 4: no payment yet
    "I3,2026-03-03,2026-03-01,10,USD,x@example.com,X Co,,,,",  # 5: due before issue
    "I4,2026-03-03,2026-04-01,10,USD,y@example.com,Y Co,,2026-03-04,20,",  # 6: paid over the amount
    "I5,2026-03-03,2026-04-01,10,USD,z@example.com,Z Co,,2026-03-04,5,",  # 7
    "I5,2026-03-03,2026-04-02,10,USD,z@example.com,Z Co,,2026-03-05,-5,",  # 8: differs, negative: I5 fails
]


def csv(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def run(user, data: bytes, **kw):
    return importing.run(io.BytesIO(data), actor=user, object_type="invoices", file_name="inv.csv", **kw)


def test_columns_are_suggested():
    assert mapping.suggest("invoices", HEADER.split(",")) == {
        "Invoice ID": "external_id",
        "Invoice date": "issue_date",
        "Due date": "due_date",
        "Amount": "amount",
        "Currency": "currency",
        "Email": "customer_email",
        "Company": "company_name",
        "Payment ID": "payment_id",
        "Payment date": "payment_date",
        "Paid": "payment_amount",
        "Method": "payment_method",
    }


def test_preview_import_errors_and_undo(admin_user):
    preview = run(admin_user, csv(ROWS), dry_run=True)
    assert (preview.counts["create"], preview.counts["error"]) == (3, 4)
    assert not Invoice.objects.exists() and not Company.objects.exists() and not Contact.objects.exists()

    batch = run(admin_user, csv(ROWS))
    assert (batch.counts["create"], batch.counts["error"]) == (3, 4)
    errors = {r.number: r.errors for r in ImportRow.objects.filter(batch=batch) if r.errors}
    assert "before the issue date" in errors[5]["Due date"]
    assert "exceed" in errors[6]["Paid"]
    assert "Differs" in errors[8]["Due date"] and "Paid" in errors[8]
    assert "line 8" in errors[7]["invoice"]
    i1 = Invoice.objects.get(external_id="I1")
    assert (i1.external_source, i1.currency, i1.status, i1.balance) == (
        "import",
        "EUR",
        "partially_paid",
        Decimal("150.00"),
    )
    assert sorted(i1.payments.values_list("external_id", "method")) == [("P1", "bank"), ("P2", "card")]
    i2 = Invoice.objects.get(external_id="I2")
    assert (i2.status, i2.company, i2.contact) == ("open", i1.company, i1.contact)
    assert set(Invoice.objects.values_list("external_id", flat=True)) == {"I1", "I2"}

    done = importing.undo(batch, actor=admin_user)
    assert done["deleted"] >= 3
    assert not Invoice.objects.exists() and not Payment.objects.exists()
    assert not Company.objects.exists() and not Contact.objects.exists()


def test_the_same_file_again_updates_and_undo_restores(admin_user):
    run(admin_user, csv(ROWS[:2]))
    invoice = Invoice.objects.get()
    skipped = run(admin_user, csv(ROWS[:2]))
    assert skipped.counts["skip"] == 2 and Invoice.objects.count() == 1
    # A third payment and the second one changed: matched by Payment ID, never doubled
    again = run(
        admin_user,
        csv([ROWS[0], ROWS[1].replace(",50,", ",60,"), ROWS[1].replace("P2", "P3").replace(",50,", ",140,")]),
        update_existing=True,
    )
    assert again.counts["update"] == 3
    updated = Invoice.objects.get()
    assert updated.pk == invoice.pk and updated.payments.count() == 3
    assert (updated.status, updated.balance) == ("paid", Decimal("0.00"))
    importing.undo(again, actor=admin_user)
    restored = Invoice.objects.get()
    assert sorted(restored.payments.values_list("external_id", "amount")) == [
        ("P1", Decimal("100.00")),
        ("P2", Decimal("50.00")),
    ]
    assert (restored.status, restored.balance) == ("partially_paid", Decimal("150.00"))


def test_the_api_upload_imports_invoices(admin_user, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    api = Api(admin_user)
    upload = SimpleUploadedFile("inv.csv", csv(ROWS[:3]), "text/csv")
    r = api.client.post("/api/v1/import/invoices", {"file": upload}, headers=api.headers)
    assert r.status_code in (200, 201), r.content
    assert Invoice.objects.count() == 2 and Payment.objects.count() == 2

"""The order import: one row per line, order columns repeated, grouped by order id; a group is all or
nothing (a line missing its order's columns, or one bad line, fails the group); preview (dry run) and
undo as the other imports; the same file again updates instead of duplicating."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.dataio import importing, mapping
from crm.dataio.models import ImportRow
from crm.orders.models import Order, PurchaseStats
from crm.products.services.products import product_create
from crm.records.models import Company, Contact
from tests.conftest import Api

pytestmark = pytest.mark.django_db

HEADER = "Order ID,Date,Currency,Email,First name,Company,SKU,Description,Qty,Price,Discount,Tax,Credit"
ROWS = [
    "A1,2026-03-01,EUR,buyer@example.com,Bea,Buyer Ltd,WID-1,,2,10.00,,20,",  # 2
    "A1,2026-03-01,EUR,buyer@example.com,Bea,Buyer Ltd,,Setup,1,50,10,0,",  # 3
    "A2,2026-03-02,EUR,other@example.com,Otto,Other Co,,Thing,1,5,,,",  # 4
    "A2,,,,,,,Thing two,1,5,,,",  # 5: the order's columns missing: A2 fails whole
    "A3,2026-03-03,USD,third@example.com,Tia,,,Bad,-1,5,,,",  # 6: negative, not a credit: A3 fails
    ",2026-03-03,USD,x@example.com,X,,,No key,1,5,,,",  # 7: no order id
    "A4,2026-03-04,USD,buyer@example.com,Bea,Buyer Ltd,,Returned,-1,10,,,yes",  # 8: a credit line
]


def csv(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


@pytest.fixture
def widget(admin_user):
    return product_create(actor=admin_user, data={"sku": "WID-1", "name": "Widget"}).obj


def run(user, data: bytes, **kw):
    return importing.run(io.BytesIO(data), actor=user, object_type="orders", file_name="orders.csv", **kw)


def test_columns_are_suggested():
    suggested = mapping.suggest("orders", HEADER.split(","))
    assert suggested == {
        "Order ID": "external_id",
        "Date": "order_date",
        "Currency": "currency",
        "Email": "customer_email",
        "First name": "first_name",
        "Company": "company_name",
        "SKU": "sku",
        "Description": "description",
        "Qty": "quantity",
        "Price": "unit_price",
        "Discount": "discount_percent",
        "Tax": "tax_rate",
        "Credit": "is_credit",
    }


def test_groups_are_all_or_nothing_with_preview_and_undo(admin_user, widget):
    preview = run(admin_user, csv(ROWS), dry_run=True)
    assert (preview.counts["create"], preview.counts["error"]) == (3, 4)
    assert not Order.objects.exists() and not Contact.objects.exists() and not Company.objects.exists()

    batch = run(admin_user, csv(ROWS))
    assert (batch.counts["create"], batch.counts["error"]) == (3, 4)
    errors = {r.number: r.errors for r in ImportRow.objects.filter(batch=batch) if r.errors}
    assert "missing" in errors[5]["Email"] and "missing" in errors[5]["Date"]
    assert "line 5" in errors[4]["order"]  # the rest of A2 fails with it
    assert "Qty" in errors[6] and "row" in errors[7]
    a1 = Order.objects.get(external_id="A1")
    assert (a1.external_source, a1.currency, str(a1.order_date)) == ("import", "EUR", "2026-03-01")
    assert [line.description for line in a1.lines.all()] == ["Widget", "Setup"]
    assert a1.total == Decimal("69.00")  # 20 + 20 % tax + 50 − 10 %
    a4 = Order.objects.get(external_id="A4")
    assert a4.total == Decimal("-10.00") and a4.contact == a1.contact and a4.company == a1.company
    assert set(Order.objects.values_list("external_id", flat=True)) == {"A1", "A4"}
    assert Contact.objects.get().email == "buyer@example.com" and Company.objects.get().name == "Buyer Ltd"
    assert PurchaseStats.objects.get(company=a1.company).order_count == 2

    done = importing.undo(batch, actor=admin_user)
    assert done["deleted"] >= 3
    assert not Order.objects.exists() and not Contact.objects.exists() and not Company.objects.exists()


def test_the_same_file_again_updates_and_undo_restores(admin_user, widget):
    run(admin_user, csv(ROWS[:2]))
    order = Order.objects.get()
    skipped = run(admin_user, csv(ROWS[:2]))
    assert skipped.counts["skip"] == 2 and Order.objects.count() == 1
    changed = [ROWS[0].replace(",2,10.00,", ",5,10.00,")]
    again = run(admin_user, csv(changed), update_existing=True)
    assert again.counts["update"] == 1 and Order.objects.get().pk == order.pk
    assert Order.objects.get().lines.count() == 1 and Order.objects.get().total == Decimal("60.00")
    importing.undo(again, actor=admin_user)
    restored = Order.objects.get()
    assert restored.lines.count() == 2 and restored.total == order.total


def test_the_web_and_api_upload_imports_orders(admin_user, widget, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    api = Api(admin_user)
    upload = SimpleUploadedFile("orders.csv", csv(ROWS[:2]), "text/csv")
    r = api.client.post("/api/v1/import/orders", {"file": upload}, headers=api.headers)
    assert r.status_code in (200, 201), r.content
    assert Order.objects.get().lines.count() == 2

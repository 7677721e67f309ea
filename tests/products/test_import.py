"""Products through the generic importer: columns by field name or label, cells by kind, rows
matched on the SKU, a SKU taken in another case a clear row error, undo."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.dataio import importing, mapping
from crm.dataio.models import ImportBatch, ImportRow
from crm.products.models import Product
from tests.conftest import Api

pytestmark = pytest.mark.django_db


def test_a_csv_of_products_is_imported_through_the_services(admin_user, widget, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    headers = ["SKU", "Name", "Category", "Tax category", "Cost", "Cost currency", "Unit", "Colour"]
    assert mapping.suggest("products", headers) == {
        "SKU": "sku",
        "Name": "name",
        "Category": "category",
        "Tax category": "tax_category",
        "Cost": "cost",
        "Cost currency": "cost_currency",
        "Unit": "unit",
        "Colour": "",
    }
    data = (
        "SKU,Name,Category,Tax category,Cost,Cost currency,Unit\n"
        "GEAR-1,Gear,Hardware,Reduced,12.5,EUR,each\n"
        "wid-1,Widget clone,Hardware,standard,1,EUR,each\n"
        "NEG-1,Negative,Hardware,standard,-4,EUR,each\n"
        "LIC-1,Licence,Software,Luxury,1,EUR,licence/month\n"
        "WID-1,Widget,Hardware,standard,4,EUR,each\n"
    )
    upload = SimpleUploadedFile("products.csv", data.encode(), "text/csv")
    api = Api(admin_user)
    r = api.client.post("/api/v1/import/products", {"file": upload}, headers=api.headers)
    assert r.status_code in (200, 201), r.content
    batch = ImportBatch.objects.get()
    gear = Product.objects.get(sku="GEAR-1")
    assert (gear.name, gear.tax_category, str(gear.cost), gear.cost_currency) == ("Gear", "reduced", "12.50", "EUR")
    errors = {row.number: row.errors for row in ImportRow.objects.filter(batch=batch) if row.errors}
    assert "already used" in errors[3]["sku"] and "WID-1" in errors[3]["sku"]  # the SKU in another case (line 3)
    assert errors[4] == {"Cost": "'-4' is not an amount."} and "Luxury" in errors[5]["Tax category"]
    assert (batch.counts["create"], batch.counts["skip"], batch.counts["error"]) == (1, 1, 3)
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["GEAR-1", "WID-1"]
    assert Product.objects.get(sku="WID-1").name == "Widget"  # matched on its SKU
    assert importing.undo(batch, actor=admin_user)["deleted"] == 1
    assert list(Product.objects.values_list("sku", flat=True)) == ["WID-1"]


def test_a_rep_may_not_import_products(rep_a, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    upload = SimpleUploadedFile("products.csv", b"SKU,Name\nR-1,Rep's\n", "text/csv")
    api = Api(rep_a)
    r = api.client.post("/api/v1/import/products", {"file": upload}, headers=api.headers)
    assert r.status_code == 403 and not Product.objects.exists()

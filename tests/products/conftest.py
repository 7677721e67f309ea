import pytest

from crm.products.models import PriceBook
from crm.products.services import entries, products


@pytest.fixture
def standard(db):
    """The standard price book the migration creates."""
    return PriceBook.objects.get(is_standard=True)


@pytest.fixture
def widget(admin_user):
    return products.product_create(actor=admin_user, data={"sku": "WID-1", "name": "Widget", "cost": "4.00"}).obj


@pytest.fixture
def tiered(admin_user, standard, widget):
    """Widget in the standard book: 10.00 EUR from 1, 9.00 from 10, 8.00 from 100; 12.00 USD from 1."""
    rows = [
        {"product_id": widget.pk, "currency": "EUR", "unit_price": "10.00"},
        {"product_id": widget.pk, "currency": "EUR", "unit_price": "9.00", "min_quantity": "10"},
        {"product_id": widget.pk, "currency": "EUR", "unit_price": "8.00", "min_quantity": 100},
        {"product_id": widget.pk, "currency": "USD", "unit_price": "12.00"},
    ]
    return entries.entries_upsert(standard, actor=admin_user, entries=rows).obj


@pytest.fixture(autouse=True)
def _foreign(foreign_currencies):
    """The catalogue tests price in EUR and GBP too: enabled, as an admin would under Settings → Currencies."""

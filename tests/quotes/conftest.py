"""Quote fixtures: a catalogue priced in EUR, a deal of rep_a's in EUR, PDFs stored under a temporary var/."""

import pytest

from crm.products.models import PriceBook
from crm.products.services import entries, products
from crm.quotes.services import quotes
from crm.records.services.deals import deal_create


@pytest.fixture(autouse=True)
def _var(settings, tmp_path, foreign_currencies):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def standard(db):
    return PriceBook.objects.get(is_standard=True)


@pytest.fixture
def widget(admin_user, standard):
    """Widget: 10.00 EUR from 1, 9.00 from 10 in the standard book (no GBP price)."""
    item = products.product_create(actor=admin_user, data={"sku": "WID-1", "name": "Widget"}).obj
    rows = [
        {"product_id": item.pk, "currency": "EUR", "unit_price": "10.00"},
        {"product_id": item.pk, "currency": "EUR", "unit_price": "9.00", "min_quantity": "10"},
    ]
    entries.entries_upsert(standard, actor=admin_user, entries=rows)
    return item


@pytest.fixture
def deal(rep_a, pipeline):
    return deal_create(actor=rep_a, data={"name": "Big one", "currency": "EUR", "pipeline_id": pipeline.pk}).obj


@pytest.fixture
def make_quote(rep_a, deal):
    def make(actor=rep_a, **data):
        lines = data.pop(
            "lines", [{"description": "Consulting", "quantity": "2", "unit_price": "100.00", "tax_rate": "20"}]
        )
        return quotes.quote_create(actor=actor, data={"deal_id": deal.pk, "lines": lines, **data}).obj

    return make

"""The quote editor in a real browser (crm/quotes/web/editor.py + htmx), wide and narrow: search a
product, add it, change its quantity and see the totals follow without a reload; a refused value is
explained next to its line and saves nothing."""

import pytest
from playwright.sync_api import expect

from crm.products.models import PriceBook
from crm.products.services import entries, products
from crm.quotes.models import Quote
from crm.quotes.services import quotes
from crm.records.services.deals import deal_create
from tests.e2e.conftest import DESKTOP, PHONE, shot
from tests.factories import PipelineFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def draft(rep, foreign_currencies, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    admin = UserFactory(username="quote-admin", role="admin")
    widget = products.product_create(actor=admin, data={"sku": "WID-1", "name": "Widget"}).obj
    products.product_create(actor=admin, data={"sku": "GAD-1", "name": "Widget gadget"})  # no price
    book = PriceBook.objects.get(is_standard=True)
    entries.entries_upsert(
        book, actor=admin, entries=[{"product_id": widget.pk, "currency": "EUR", "unit_price": "10.00"}]
    )
    pipeline = PipelineFactory(name="Sales", is_default=True)
    deal = deal_create(actor=rep, data={"name": "Big one", "currency": "EUR", "pipeline_id": pipeline.pk}).obj
    lines = [{"description": "Consulting", "quantity": "2", "unit_price": "100.00", "tax_rate": "20"}]
    return quotes.quote_create(actor=rep, data={"deal_id": deal.pk, "lines": lines}).obj


def settled(page):
    """htmx wires swapped-in content when it settles (a few ms after the swap); a person never types
    that fast, a test does. Nothing is still marked added or settling then."""
    expect(page.locator(".htmx-added, .htmx-settling")).to_have_count(0)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1440", "390"])
def test_search_add_change_quantity_and_the_totals_follow(open_page, rep, draft, viewport):
    page = open_page(rep, viewport)
    page.goto(f"/quotes/{draft.pk}/lines/")
    page.evaluate("window.notReloaded = true")
    total = page.locator("#total-total")
    expect(total).to_have_text("€240.00")

    page.get_by_label("Add a product", exact=True).fill("widg")
    results = page.locator("#product-results")
    expect(results).to_contain_text("€10.00")
    expect(results).to_contain_text("has no EUR price for Widget gadget")
    results.get_by_role("button", name="Add Widget", exact=True).click()
    quantity = page.get_by_label("Quantity, line 2", exact=True)
    expect(quantity).to_have_value("1")
    expect(total).to_have_text("€250.00")

    settled(page)
    quantity.fill("3")
    expect(total).to_have_text("€270.00")
    expect(page.get_by_label("Amount, line 2", exact=True)).to_have_text("€30.00")
    quantity.fill("-3")
    expect(page.locator(".qmsg").filter(has_text="Cannot be negative")).to_be_visible()
    expect(total).to_have_text("€270.00")
    quantity.fill("4")
    expect(total).to_have_text("€280.00")
    expect(page.locator(".qmsg").filter(has_text="Cannot be negative")).to_have_count(0)

    page.get_by_label("Shipping", exact=True).fill("5")
    expect(total).to_have_text("€285.00")
    shot(page, f"quote-editor-{viewport['width']}")
    assert page.evaluate("window.notReloaded") is True
    assert str(Quote.objects.get(pk=draft.pk).total) == "285.0000"
    assert not page.errors
    if viewport is PHONE:  # nothing wider than the screen
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

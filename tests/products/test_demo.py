"""The demo's catalogue, written through the services: a dozen products in three categories, the
standard book and a Partner book with tiers, every price found by the lookup."""

from decimal import Decimal

import pytest

from crm.audit.models import ObjectChange
from crm.demo.products import CATALOGUE, save_catalogue
from crm.products.models import PriceBook, Product
from crm.products.pricing import price_for

pytestmark = pytest.mark.django_db


def test_the_demo_catalogue(admin_user, settings):
    settings.DEFAULT_CURRENCY = "EUR"
    assert save_catalogue(admin_user) == {"products": 12, "price books": 2}
    assert sorted(set(Product.objects.values_list("category", flat=True))) == ["Hardware", "Services", "Software"]
    standard, partner = PriceBook.objects.get(is_standard=True), PriceBook.objects.get(name="Partner")
    seat = Product.objects.get(sku="SW-CRM")
    assert price_for(seat, standard, "EUR", 1).unit_price == Decimal("25.00")
    assert price_for(seat, standard, "EUR", 12).unit_price == Decimal("22.50")
    assert price_for(seat, partner, "EUR", 60).unit_price == Decimal("15.00")
    for sku, *_ in CATALOGUE:
        assert price_for(Product.objects.get(sku=sku), partner, "EUR", 1).unit_price > 0
    assert ObjectChange.objects.filter(object_type="product", action="create").count() == 12

"""The demo's catalogue: a dozen products in three categories, the standard price book in the
organization's currency and a "Partner" book, some with quantity tiers, all through the product and
price-book services (crm/products)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from crm.products.models import PriceBook
from crm.products.services import entries, price_books, products

# (sku, name, category, unit, tax category, cost, list price)
CATALOGUE = (
    ("HW-ROUTER", "Edge router", "Hardware", "each", "standard", "180", "349"),
    ("HW-SWITCH", "24-port switch", "Hardware", "each", "standard", "95", "199"),
    ("HW-AP", "Wi-Fi access point", "Hardware", "each", "standard", "40", "89"),
    ("HW-CABLE", "Patch cable pack", "Hardware", "pack of 10", "standard", "6", "19"),
    ("SW-CRM", "CRM seat", "Software", "licence/month", "standard", "4", "25"),
    ("SW-BACKUP", "Cloud backup", "Software", "licence/month", "standard", "2", "9"),
    ("SW-SEC", "Endpoint security", "Software", "licence/year", "standard", "12", "48"),
    ("SW-BOOKS", "E-book library", "Software", "licence/year", "reduced", "3", "15"),
    ("SV-INSTALL", "On-site installation", "Services", "hour", "standard", "45", "120"),
    ("SV-TRAINING", "Training day", "Services", "day", "exempt", "300", "950"),
    ("SV-SUPPORT", "Priority support", "Services", "month", "standard", "60", "150"),
    ("SV-AUDIT", "Network audit", "Services", "each", "zero", "400", "1200"),
)
TIERS = {"SW-CRM": ((10, "0.90"), (50, "0.80")), "HW-CABLE": ((20, "0.85"),)}  # from quantity: share of list
PARTNER_SHARE = Decimal("0.75")  # partners pay three quarters of the list price


def save_catalogue(actor) -> dict[str, int]:
    currency = settings.DEFAULT_CURRENCY
    made = {}
    for sku, name, category, unit, tax, cost, _price in CATALOGUE:
        data = {"sku": sku, "name": name, "category": category, "unit": unit, "tax_category": tax, "cost": cost}
        made[sku] = products.product_create(actor=actor, data={**data, "cost_currency": currency}).obj
    standard = PriceBook.objects.filter(is_standard=True).first()
    if standard is None:
        standard = price_books.price_book_create(actor=actor, data={"name": "Standard", "is_standard": True}).obj
    partner = price_books.price_book_create(
        actor=actor, data={"name": "Partner", "description": "Resellers: a quarter off the list price."}
    ).obj
    for book, share in ((standard, Decimal(1)), (partner, PARTNER_SHARE)):
        rows = []
        for sku, *_rest, price in CATALOGUE:
            base = Decimal(price) * share
            rows.append(_row(made[sku], currency, base, 1))
            rows += [_row(made[sku], currency, base * Decimal(f), qty) for qty, f in TIERS.get(sku, ())]
        entries.entries_upsert(book, actor=actor, entries=rows)
    return {"products": len(made), "price books": PriceBook.objects.count()}


def _row(product, currency: str, price: Decimal, min_quantity: int) -> dict:
    unit_price = price.quantize(Decimal("0.01"))
    return {"product_id": product.pk, "currency": currency, "unit_price": unit_price, "min_quantity": min_quantity}

"""The price of a product in a price book: what quotes call.

The rule: among the book's entries for the product in the currency, the one with the largest
``min_quantity`` that is ≤ the quantity (tiers: 1 → 100.00, 10 → 90.00 means 9 units cost 100.00
each and 10 cost 90.00 each). No such entry is an error naming product, book and currency, never a
silent 0; an inactive product or book is an error too. No conversion between currencies happens here."""

from __future__ import annotations

import decimal
from dataclasses import dataclass

from crm.core.errors import ValidationFailed
from crm.products.models import PriceBook, Product
from crm.products.services.common import check_currency


class NoPrice(ValidationFailed):
    """The book has no usable price for the product (the API answers 422)."""

    code = "no_price"

    def __init__(self, message: str):
        super().__init__(message)


@dataclass(frozen=True)
class PriceQuote:
    unit_price: decimal.Decimal
    entry_id: int
    min_quantity: decimal.Decimal


def price_for(product: Product, price_book: PriceBook, currency: str, quantity=1) -> PriceQuote:
    try:
        code = check_currency(currency)
    except ValueError as exc:
        raise NoPrice(str(exc)) from None
    qty = _quantity(quantity)
    if not product.active:
        raise NoPrice(f"Product {product} is inactive: it cannot be priced.")
    if not price_book.active:
        raise NoPrice(f"Price book {price_book.name!r} is inactive.")
    entry = (
        price_book.entries.filter(product=product, currency=code, min_quantity__lte=qty)
        .order_by("-min_quantity")
        .first()
    )
    if entry is None:
        tiers = price_book.entries.filter(product=product, currency=code).order_by("min_quantity").first()
        more = f" (its first tier starts at {tiers.min_quantity.normalize():f})" if tiers else ""
        raise NoPrice(f"Price book {price_book.name!r} has no {code} price for {product} at quantity {qty:f}{more}.")
    return PriceQuote(unit_price=entry.unit_price, entry_id=entry.pk, min_quantity=entry.min_quantity)


def _quantity(value) -> decimal.Decimal:
    try:
        qty = decimal.Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        raise NoPrice(f"The quantity must be a number, not {value!r}.") from None
    if not qty.is_finite() or qty <= 0 or isinstance(value, bool):
        raise NoPrice(f"The quantity must be a positive number, not {value!r}.")
    return qty

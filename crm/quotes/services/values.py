"""Reading a quote's input: numbers as Decimal with their field path on error, lines as totals.py's
``LineInput``, a product's price from the quote's price book. Shared by the quote and line services."""

from __future__ import annotations

import decimal

from crm.core.decimals import read_decimal
from crm.core.errors import ValidationFailed
from crm.products.models import Product
from crm.products.pricing import NoPrice, price_for
from crm.quotes.models import QuoteLine, QuoteVersion
from crm.quotes.totals import LineInput, compute_totals

LIMIT = decimal.Decimal(10) ** 12
QUANTITY_LIMIT = decimal.Decimal(10) ** 10
LINE_LIMIT = decimal.Decimal(10) ** 13  # 500 lines of it still fit the columns (16 digits before the point)
LINE_FIELDS = ("description", "quantity", "unit_price", "discount_percent", "discount_amount", "tax_rate", "is_credit")
LINES_MAX = 500


def number(value, path: str, errors: dict, *, limit=LIMIT):
    """``value`` as a Decimal of at most 4 places below ``limit`` in size; None stays None."""
    return read_decimal(value, path, errors, places=4, limit=limit)


def clean_line(raw: dict, path: str, *, actor, quote, errors: dict) -> dict:
    """One line's fields checked and its price looked up: a product and no price typed takes the
    price book's price for the quote's currency and quantity (NoPrice names product and currency)."""
    line: dict = {}
    if not isinstance(raw, dict):
        errors[path] = "A line is an object."
        return line
    product = None
    if raw.get("product_id") is not None:
        product = Product.objects.restrict(actor, "view").filter(pk=raw["product_id"]).first()
        if product is None:
            errors[f"{path}.product_id"] = f"No product with id {raw['product_id']}."
    line["product"] = product
    for name in ("quantity", "unit_price", "discount_percent", "discount_amount", "tax_rate"):
        line[name] = number(raw.get(name), f"{path}.{name}", errors)
    if line["quantity"] is None and f"{path}.quantity" not in errors:
        line["quantity"] = decimal.Decimal(1)
    line["tax_rate"] = line["tax_rate"] if line["tax_rate"] is not None else decimal.Decimal(0)
    line["is_credit"] = bool(raw.get("is_credit"))
    text = raw.get("description")
    line["description"] = (text.strip() if isinstance(text, str) else "") or (product.name if product else "")
    if not line["description"]:
        errors[f"{path}.description"] = "A line without a product needs a description."
    elif len(line["description"]) > 500:
        errors[f"{path}.description"] = "At most 500 characters."
    if line["quantity"] is not None and abs(line["quantity"]) >= QUANTITY_LIMIT:
        errors[f"{path}.quantity"] = f"Enter a quantity below {QUANTITY_LIMIT:,}."
    if line["unit_price"] is None and f"{path}.unit_price" not in errors:
        if product is None:
            errors[f"{path}.unit_price"] = "A line without a product needs a unit price."
        elif quote.price_book is None:
            errors[f"{path}.product_id"] = "The quote has no price book: type the unit price."
        elif line["quantity"] is not None:
            try:
                qty = abs(line["quantity"]) or decimal.Decimal(1)
                line["unit_price"] = price_for(product, quote.price_book, quote.currency, qty).unit_price
            except NoPrice as exc:
                errors[f"{path}.product_id"] = exc.message
    if line["quantity"] is not None and line["unit_price"] is not None and f"{path}.quantity" not in errors:
        if abs(line["quantity"] * line["unit_price"]) >= LINE_LIMIT:
            errors[f"{path}.quantity"] = f"The line's amount must stay below {LINE_LIMIT:,}."
    return line


def to_input(line) -> LineInput:
    """A stored line or a cleaned dict, as totals.py takes it."""
    get = line.get if isinstance(line, dict) else lambda name: getattr(line, name)
    return LineInput(
        quantity=get("quantity"),
        unit_price=get("unit_price"),
        description=get("description"),
        tax_rate=get("tax_rate"),
        discount_percent=get("discount_percent"),
        discount_amount=get("discount_amount"),
        is_credit=get("is_credit"),
    )


def totals_of(version: QuoteVersion, lines, minor_units: int):
    return compute_totals(
        [to_input(x) for x in lines],
        minor_units=minor_units,
        tax_mode=version.tax_mode,
        order_discount_percent=version.order_discount_percent,
        order_discount_amount=version.order_discount_amount,
        shipping=version.shipping or decimal.Decimal(0),
        shipping_tax_rate=version.shipping_tax_rate or decimal.Decimal(0),
    )


def store_totals(version: QuoteVersion, minor_units: int) -> None:
    """Compute the version's totals from its lines (QuoteInputError with field paths) and store them."""
    lines = list(version.lines.order_by("position", "id"))
    totals = totals_of(version, lines, minor_units)
    for line, amounts in zip(lines, totals.lines, strict=True):
        line.net, line.tax, line.total = amounts.net, amounts.tax, amounts.total
    QuoteLine.objects.bulk_update(lines, ["net", "tax", "total"])
    version.subtotal, version.discount_total = totals.subtotal, totals.discount_total
    version.tax_total, version.total = totals.tax_total, totals.total
    version.save(update_fields=["subtotal", "discount_total", "tax_total", "total"])


def raise_if(errors: dict) -> None:
    if errors:
        raise ValidationFailed(errors)

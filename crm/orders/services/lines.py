"""An order's lines: checked, priced by the quotes' totals engine (crm/quotes/totals.py, imported, not
copied: one rounding rule for quotes and orders) and written as a whole (lines given replace the lines)."""

from __future__ import annotations

import decimal

from crm.core.decimals import read_decimal
from crm.core.errors import ValidationFailed
from crm.money.currencies import minor_units
from crm.orders.models import Order, OrderLine
from crm.products.models import Product
from crm.quotes.totals import LineInput, QuoteInputError, compute_totals

LINE_KEYS = {"product_id", "description", "quantity", "unit_price", "discount_percent", "tax_rate", "is_credit"}
# Only an accepted quote's lines carry these (crm/quotes/services/ordering.py), with 4 places.
EXACT_KEYS = LINE_KEYS | {"discount_amount"}
PLACES = 2  # what the API, the feed and the import take; a quote's lines have 4
MAX_LINES = 1000
LIMIT = decimal.Decimal(10) ** 12  # a quantity's or a price's bound (the API schema says the same)
AMOUNT_LIMIT = decimal.Decimal(10) ** 16  # what a DecimalField(18, 2) holds


def _number(value, path: str, errors: dict, *, default=None, places: int = PLACES):
    """A Decimal kept to ``places`` (crm/core/decimals.py); ``default`` when empty or bad."""
    if value is None or value == "":
        if default is None:
            errors[path] = "Enter a number."
        return default
    number = read_decimal(value, path, errors, places=places, limit=LIMIT)
    return default if number is None else number.quantize(decimal.Decimal(1).scaleb(-places))


def _discount_amount(line: dict, path: str, errors: dict):
    value = line.get("discount_amount")
    if value is None:
        return None
    return _number(value, path, errors, default=decimal.Decimal(0))


def products_of(actor, lines_of_orders) -> dict:
    """The products the lines name (of one order or many) that the actor can see, by id: one query."""
    wanted = {
        line.get("product_id")
        for lines in lines_of_orders
        if isinstance(lines, list | tuple)
        for line in lines
        if isinstance(line, dict)
    }
    return Product.objects.restrict(actor, "view").in_bulk([p for p in wanted if isinstance(p, int)])


def prepare(lines, *, actor, exact: bool = False, products: dict | None = None) -> list[dict]:
    """The lines as model values, or ValidationFailed naming ``lines.<i>.<field>`` for each bad one.
    ``exact``: an accepted quote's lines (4 places, a discount amount), see EXACT_KEYS. ``products``:
    products_of's answer for a bulk call's lines (else read here)."""
    places, keys = (4, EXACT_KEYS) if exact else (PLACES, LINE_KEYS)
    errors: dict[str, str] = {}
    if not isinstance(lines, list | tuple) or not lines:
        raise ValidationFailed({"lines": "An order needs at least one line."})
    if len(lines) > MAX_LINES:
        raise ValidationFailed({"lines": f"An order has at most {MAX_LINES} lines."})
    if products is None:
        products = products_of(actor, [lines])
    prepared = []
    for i, line in enumerate(lines):
        path = f"lines.{i}"
        if not isinstance(line, dict):
            errors[path] = "A line is an object."
            continue
        unknown = set(line) - keys
        if unknown:
            errors[path] = f"Unknown keys: {', '.join(sorted(unknown))}."
        product = None
        if line.get("product_id") is not None:
            product = products.get(line["product_id"])
            if product is None:
                errors[f"{path}.product_id"] = f"No product with id {line['product_id']}."
        description = (line.get("description") or "").strip()
        if not description and product is not None:
            description = product.name
        if not description and product is None and f"{path}.product_id" not in errors:
            errors[f"{path}.description"] = "A line names a product or has a description."
        if len(description) > 500:
            errors[f"{path}.description"] = "At most 500 characters."
        prepared.append(
            {
                "product": product,
                "description": description,
                "quantity": _number(
                    line.get("quantity", 1), f"{path}.quantity", errors, default=decimal.Decimal(1), places=places
                ),
                "unit_price": _number(
                    line.get("unit_price"), f"{path}.unit_price", errors, default=decimal.Decimal(0), places=places
                ),
                "discount_percent": _number(
                    line.get("discount_percent") or 0,
                    f"{path}.discount_percent",
                    errors,
                    default=decimal.Decimal(0),
                    places=places,
                ),
                "discount_amount": _discount_amount(line, f"{path}.discount_amount", errors),
                "tax_rate": _number(
                    line.get("tax_rate") or 0, f"{path}.tax_rate", errors, default=decimal.Decimal(0), places=places
                ),
                "is_credit": bool(line.get("is_credit")),
            }
        )
    if errors:
        raise ValidationFailed(errors, "The order's lines are not valid.")
    return prepared


def line_inputs(prepared: list[dict]) -> list[LineInput]:
    """Prepared lines as the totals engine takes them (a 0 % discount is no discount)."""
    return [
        LineInput(
            quantity=p["quantity"],
            unit_price=p["unit_price"],
            description=p["description"],
            tax_rate=p["tax_rate"],
            discount_percent=p["discount_percent"] or None,
            discount_amount=p.get("discount_amount"),
            is_credit=p["is_credit"],
        )
        for p in prepared
    ]


def totals(prepared: list[dict], *, currency: str, tax_mode: str, units: int | None = None):
    """The engine's totals of the lines (QuoteInputError, a 422 with ``lines.<i>.<field>`` paths:
    a negative quantity or price on a line that is not a credit, a discount over 100 %, a tax rate
    outside 0–100 %). ``units``: the currency's minor units, when the caller knows them."""
    inputs = line_inputs(prepared)
    try:
        computed = compute_totals(
            inputs, minor_units=minor_units(currency) if units is None else units, tax_mode=tax_mode
        )
    except QuoteInputError as exc:
        raise ValidationFailed(exc.fields, "The order's lines are not valid.") from None
    # Each amount must fit the DecimalField(18, 2) it is stored in (quantity × price can outgrow it).
    too_big = {
        f"lines.{i}.quantity": "The line's amount is too large."
        for i, amounts in enumerate(computed.lines)
        if max(abs(amounts.gross), abs(amounts.total)) >= AMOUNT_LIMIT
    }
    if not too_big and max(abs(computed.subtotal), abs(computed.total)) >= AMOUNT_LIMIT:
        too_big["lines"] = "The order's total is too large."
    if too_big:
        raise ValidationFailed(too_big, "The order's lines are not valid.")
    return computed


def write(order: Order, prepared: list[dict], computed) -> None:
    """Replace the order's lines and set its totals."""
    order.lines.all().delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            position=i,
            product=p["product"],
            description=p["description"],
            quantity=p["quantity"],
            unit_price=p["unit_price"],
            discount_percent=p["discount_percent"],
            discount_amount=p.get("discount_amount"),
            tax_rate=p["tax_rate"],
            is_credit=p["is_credit"],
            net=amounts.base,
            tax=amounts.tax,
            total=amounts.total,
        )
        for i, (p, amounts) in enumerate(zip(prepared, computed.lines, strict=True))
    )


def apply_totals(order: Order, computed) -> None:
    order.subtotal = computed.subtotal
    order.discount_total = computed.discount_total
    order.tax_total = computed.tax_total
    order.total = computed.total

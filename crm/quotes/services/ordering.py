"""An accepted quote becomes an order (``order_from_quote``): once per accepted version.

The order's lines are the version's lines copied so that the orders' totals (the same engine,
crm/quotes/totals.py) come to exactly the quote's total:

- a line keeps its quantity, unit price, tax rate, product and credit flag (4 places: the order line
  columns have them since orders/0003);
- its discount is copied as typed (percent or amount) when the quote has no order discount; with an
  order discount the line's share of it (totals.py shares it out per line, before tax) is added to the
  line's own discount as one amount, since orders have no order discount: the net, the tax and the
  line total come out the same to the minor unit;
- shipping becomes a last line "Shipping" at the shipping tax rate (taxed by the same formula).

Afterwards the totals are compared; a difference refuses the whole order (nothing is written) rather
than record an order that disagrees with what the customer accepted."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.core.errors import Conflict, ValidationFailed
from crm.money.currencies import minor_units
from crm.orders.models import Order
from crm.orders.services.orders import order_create_from_lines
from crm.quotes.models import Quote, QuoteStatus, QuoteVersion
from crm.quotes.services.values import totals_of
from crm.records.services import common

ORDER_PLACES = 2  # an order's amounts are stored with two decimals (crm/orders/models.py)


@transaction.atomic
def order_from_quote(quote: Quote, *, actor) -> common.Saved:
    """The order of an accepted quote's accepted version. 422 when the quote is not accepted (or has no
    customer), 409 when that version has its order already (the error names it), 404/403 as any write."""
    quote = common.get_visible(Quote, actor, quote.pk)
    common.require(actor, Order, "add")
    quote = Quote.objects.select_for_update().get(pk=quote.pk)  # two calls at once: the second waits, then refuses
    if quote.status != QuoteStatus.ACCEPTED:
        state = quote.get_status_display().lower()
        raise ValidationFailed({"status": f"Quote {quote.number} is {state}: only an accepted quote becomes an order."})
    version = quote.latest()
    existing = Order.objects.filter(pk=version.order_id).first() if version.order_id else None
    if existing is not None:
        raise Conflict(
            f"Quote {quote.number} version {version.number} already has order {existing.number}.",
            code="quote_has_order",
            fields={"order_id": str(existing.pk)},
        )
    if minor_units(quote.currency) > ORDER_PLACES:
        raise ValidationFailed(
            {"currency": f"Orders keep amounts with {ORDER_PLACES} decimals; {quote.currency} has more."}
        )
    data = {
        "deal_id": quote.deal_id,
        "company_id": quote.company_id,
        "contact_id": quote.contact_id,
        "currency": quote.currency,
        "tax_mode": version.tax_mode,
        "order_date": timezone.localdate(quote.answered_at) if quote.answered_at else timezone.localdate(),
        "notes": f"From quote {quote.number}, version {version.number}.",
    }
    if quote.company_id is None and quote.contact_id is None:
        raise ValidationFailed({"company_id": f"Quote {quote.number} has no company or contact to order for."})
    order = order_create_from_lines(actor=actor, data=data, lines=order_lines(quote, version)).obj
    if order.total != version.total:
        raise ValidationFailed({"lines": f"The order's total {order.total} differs from the quote's {version.total}."})
    version.order = order
    version.save(update_fields=["order"])
    return common.Saved(order)


def order_lines(quote: Quote, version: QuoteVersion) -> list[dict]:
    """The version's lines as exact order lines (module docstring), plus shipping."""
    lines = list(version.lines.order_by("position", "id"))
    totals = totals_of(version, lines, minor_units(quote.currency))
    rows = copy_lines([_fields(line) for line in lines], totals)
    return rows + shipping_line(version.shipping, version.shipping_tax_rate)


def _fields(line) -> dict:
    names = ("product_id", "description", "quantity", "unit_price", "tax_rate", "is_credit")
    return {n: getattr(line, n) for n in (*names, "discount_percent", "discount_amount")}


def copy_lines(lines: list[dict], totals) -> list[dict]:
    """Pure: the quote's lines (dicts of their fields) and their totals (totals.py) as order lines."""
    shared = any(a.order_discount for a in totals.lines)
    copied = []
    for line, amounts in zip(lines, totals.lines, strict=True):
        row = {k: v for k, v in line.items() if k not in ("discount_percent", "discount_amount")}
        if shared:  # the line's own discount and its share of the order's, as one amount
            row["discount_amount"] = abs(amounts.discount) if amounts.discount else None
        else:
            row["discount_percent"] = line.get("discount_percent")
            row["discount_amount"] = line.get("discount_amount")
        copied.append(row)
    return copied


def shipping_line(shipping, rate) -> list[dict]:
    if not shipping:
        return []
    return [{"description": "Shipping", "quantity": 1, "unit_price": shipping, "tax_rate": rate}]
